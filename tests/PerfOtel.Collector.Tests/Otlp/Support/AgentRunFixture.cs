using System.Diagnostics;
using System.Text.Json.Nodes;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Otlp.Support;

/// <summary>
/// One agent run with fixed times (so every derived number is the same whichever way it travelled), emitted by the
/// real .NET exporter here and by the Node.js exporters in tests/node-exporters/emit-agent-run.js, and the views of a
/// collector that must be equal whatever exporter and transport brought the run.
/// </summary>
internal static class AgentRunFixture
{
    /// <summary>The run's start: a whole minute, two minutes ago (inside every window).</summary>
    public static DateTimeOffset Start() =>
        new DateTimeOffset(DateTime.UtcNow.Ticks / TimeSpan.TicksPerMinute * TimeSpan.TicksPerMinute, TimeSpan.Zero).AddMinutes(-2);

    /// <summary>Collector views, scraped until both collectors agree or 30 s passed; the caller asserts equality.</summary>
    public static async Task<(string[] Expected, string[] Actual)> SeriesOnceSettledAsync(HttpClient http, CollectorProcess expected, CollectorProcess actual)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string[] expectedSeries, actualSeries;
        do
        {
            await Task.Delay(200);
            expectedSeries = DerivedSeries(await http.GetStringAsync(new Uri(expected.BaseAddress, "metrics")));
            actualSeries = DerivedSeries(await http.GetStringAsync(new Uri(actual.BaseAddress, "metrics")));
        }
        while ((!expectedSeries.SequenceEqual(actualSeries) || !expectedSeries.Any(s => s.Contains("agent=\"triage\"", StringComparison.Ordinal)))
               && DateTime.UtcNow < deadline);

        return (expectedSeries, actualSeries);
    }

    /// <summary>An agent run with fixed times, so that every derived number is the same whichever way it travelled.</summary>
    public static void EmitAgentRun(DateTimeOffset start, Action<OtlpExporterOptions> configure)
    {
        var sourceName = "PerfOtel.Tests.Agent." + Guid.NewGuid();
        using var source = new ActivitySource(sourceName);
        using var provider = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("support-bot").AddAttributes([new(PerfOtelAttributes.Tenant, "acme")]))
            .AddSource(sourceName)
            .SetSampler(new AlwaysOnSampler())
            .AddOtlpExporter(configure)
            .Build();

        foreach (var (agent, outcome, offset) in new[] { ("triage", Outcomes.Partial, 0), ("planner", Outcomes.Success, 10) })
        {
            var at = start.AddSeconds(offset);
            using var invocation = source.StartActivity(ActivityKind.Internal, startTime: at, name: $"invoke_agent {agent}")!;
            invocation.SetTag(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent);
            invocation.SetTag(GenAiAttributes.AgentName, agent);
            invocation.SetTag(PerfOtelAttributes.TaskId, "task-" + agent);
            invocation.SetTag(PerfOtelAttributes.Outcome, outcome);
            invocation.SetTag(PerfOtelAttributes.Confidence, 0.75);
            using (var chat = source.StartActivity(ActivityKind.Client, startTime: at.AddMilliseconds(100), name: "chat gpt-4o-mini")!)
            {
                chat.SetTag(GenAiAttributes.OperationName, GenAiOperations.Chat);
                chat.SetTag(GenAiAttributes.ProviderName, "openai");
                chat.SetTag(GenAiAttributes.RequestModel, "gpt-4o-mini");
                chat.SetTag(GenAiAttributes.UsageInputTokens, 1200L);
                chat.SetTag(GenAiAttributes.UsageOutputTokens, 300L);
                chat.SetEndTime(at.AddMilliseconds(1300).UtcDateTime);
            }

            using (var tool = source.StartActivity(ActivityKind.Internal, startTime: at.AddMilliseconds(1400), name: "execute_tool lookup_order")!)
            {
                tool.SetTag(GenAiAttributes.OperationName, GenAiOperations.ExecuteTool);
                tool.SetTag(GenAiAttributes.ToolName, "lookup_order");
                tool.SetStatus(ActivityStatusCode.Error, "timeout");
                tool.SetTag(GenAiAttributes.ErrorType, "TimeoutException");
                tool.SetEndTime(at.AddMilliseconds(1900).UtcDateTime);
            }

            invocation.AddEvent(new ActivityEvent(GenAiEvents.EvaluationResult, at.AddMilliseconds(1950), new ActivityTagsCollection
            {
                [GenAiAttributes.EvaluationName] = "relevance",
                [GenAiAttributes.EvaluationScoreValue] = 0.9,
            }));
            invocation.SetEndTime(at.AddSeconds(2).UtcDateTime);
        }

        Assert.True(provider.ForceFlush(30_000), "the exporter reported a failed export");
    }

    /// <summary>The stored invocations as exported, without the ids each run generates afresh.</summary>
    public static async Task<string[]> ExportedAsync(HttpClient http, CollectorProcess collector)
    {
        var since = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-1).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture));
        var text = await http.GetStringAsync(new Uri(collector.BaseAddress, $"api/v1/executions/export?tenant=acme&since={since}"));
        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => Normalise(JsonNode.Parse(line)!).ToJsonString())];
    }

    private static JsonNode Normalise(JsonNode node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var key in obj.Select(p => p.Key).ToList())
                {
                    if (key.EndsWith("SpanId", StringComparison.OrdinalIgnoreCase) || key.Equals("traceId", StringComparison.OrdinalIgnoreCase)
                        || key.Equals("spanId", StringComparison.OrdinalIgnoreCase))
                    {
                        obj.Remove(key);
                    }
                    else if (obj[key] is { } child)
                    {
                        Normalise(child);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    if (item is not null)
                    {
                        Normalise(item);
                    }
                }

                break;
        }

        return node;
    }

    /// <summary>Every sample except the collector's self-metrics (requests by transport differ by design).</summary>
    public static string[] DerivedSeries(string exposition) =>
        [.. exposition.Split('\n')
            .Where(l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith("perfotel_collector_", StringComparison.Ordinal)
                        && !l.StartsWith("target_info", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)];
}

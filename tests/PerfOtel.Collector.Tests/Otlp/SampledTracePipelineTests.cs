using Google.Protobuf;
using System.Net;
using System.Text.Json;
using PerfOtel.Collector.Tests.Cost;
using PerfOtel.Collector.Tests.EndToEnd;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;

namespace PerfOtel.Collector.Tests.Otlp;

/// <summary>
/// Sampled traces through the real receiver, writer and derivations: each record keeps its adjusted count, and the
/// counts and totals derived from spans (invocations, outcomes, calls, tokens, cost, tools) add it, so a one-in-ten
/// sampled agent shows its whole traffic, not a tenth of it.
/// </summary>
public sealed class SampledTracePipelineTests
{
    private const string Agent = "sampled-triage";
    private const string Model = "sampled-model-x";
    private const double CallCostUsd = 0.01;

    /// <summary>One run per row: its tracestate, span attributes, outcome, and the count it must add.</summary>
    private static readonly (string? TraceState, (string, object)[] Attributes, string Outcome, int Count)[] Runs =
    [
        ("ot=th:e666", [], Outcomes.Success, 10),                                   // one in ten, four hex digits
        ("ot=th:8", [], Outcomes.Failure, 2),                                       // one in two
        (null, [], Outcomes.Success, 1),                                            // not sampled
        ("ot=th:xyz", [], Outcomes.Success, 1),                                     // invalid hex: counted once
        ("ot=th:c;rv:00000000000000", [], Outcomes.Success, 1),                     // a sampler would have rejected it
        (null, [("SampleRate", 5L)], Outcomes.Success, 5),                          // Honeycomb's attribute
        (null, [("sampler.type", "probabilistic"), ("sampler.param", 0.25)], Outcomes.Partial, 4), // Jaeger's tags
    ];

    [Fact]
    public async Task SampledRuns_AddTheirAdjustedCount_ToEveryCountAndTotal()
    {
        await using var collector = new CollectorFactory();
        using var http = collector.CreateClient();
        var start = DateTimeOffset.UtcNow.AddMinutes(-5);

        for (var i = 0; i < Runs.Length; i++)
        {
            // One request per run: attribution does not depend on the batch, and neither may the weights.
            using var response = await http.PostAsync(new Uri("v1/traces", UriKind.Relative), Protobuf(Run(i, start)));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var expectedCount = Runs.Sum(r => r.Count);
        Assert.Equal(7, collector.Store.Invocations.Count);
        var byTrace = collector.Store.Invocations.ToDictionary(i => i.TraceId, i => i.SampleWeight);
        Assert.Equal(65536.0 / (65536 - 0xe666), byTrace[Hex(TraceOf(0))], 12);
        Assert.Equal(2.0, byTrace[Hex(TraceOf(1))]);
        Assert.Equal(1.0, byTrace[Hex(TraceOf(3))]);
        Assert.All(collector.Store.ProviderCalls, c => Assert.Equal(byTrace[c.TraceId], c.SampleWeight));
        Assert.All(collector.Store.ToolCalls, t => Assert.Equal(byTrace[t.TraceId], t.SampleWeight));

        using var window = JsonDocument.Parse(await http.GetStringAsync(new Uri($"api/v1/metrics/agents/{Agent}?tenant=default&window=1h", UriKind.Relative)));
        var hour = window.RootElement.GetProperty("windows")[0];
        Assert.Equal(expectedCount, hour.GetProperty("invocations").GetInt64());
        Assert.Equal(Runs.Where(r => r.Outcome == Outcomes.Success).Sum(r => r.Count), hour.GetProperty("successes").GetInt64());
        Assert.Equal(2, hour.GetProperty("failures").GetInt64());
        Assert.Equal(expectedCount, hour.GetProperty("providerCalls").GetInt64());
        Assert.Equal(expectedCount * 120, hour.GetProperty("tokens").GetInt64());
        Assert.Equal(expectedCount * CallCostUsd, hour.GetProperty("costUsd").GetDouble(), 9);
        Assert.Equal(2.0 / expectedCount, hour.GetProperty("errorRate").GetDouble(), 12);

        var labels = new[] { ("tenant", "default"), ("agent", Agent), ("provider", "openai"), ("model", Model) };
        var metrics = await Exposition.ScrapeUntilAsync(http,
            text => Exposition.Sample(text, "perfotel_cost_calls_total", labels) >= expectedCount, $"{expectedCount} weighted calls");
        Assert.Equal(expectedCount, Exposition.Sample(metrics, "perfotel_cost_calls_total", labels));
        Assert.Equal(expectedCount * CallCostUsd, Exposition.Sample(metrics, "perfotel_cost_usd_total", labels)!.Value, 9);

        using var costs = JsonDocument.Parse(await http.GetStringAsync(new Uri("api/v1/costs?tenant=default", UriKind.Relative)));
        Assert.Equal(expectedCount, costs.RootElement.GetProperty("calls").GetInt64());

        // The export carries each invocation's weight, so it re-aggregates to the same counts.
        var exported = await ExportedWeightsAsync(http);
        Assert.Equal(byTrace.OrderBy(w => w.Key), exported.OrderBy(w => w.Key));
        Assert.Equal(expectedCount, exported.Values.Sum(w => PerfOtel.Collector.Records.SampleWeights.Count(w)));
    }

    [Fact]
    public async Task SampleWeights_AreStoredInSqlite_AndExported()
    {
        var directory = Directory.CreateTempSubdirectory("perfotel-sampled-export-");
        try
        {
            await using (var collector = new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
                builder.UseSetting("Storage:DataDirectory", directory.FullName)))
            {
                using var http = collector.CreateClient();
                var start = DateTimeOffset.UtcNow.AddMinutes(-5);
                foreach (var run in new[] { 0, 1, 2 })
                {
                    using var response = await http.PostAsync(new Uri("v1/traces", UriKind.Relative), Protobuf(Run(run, start)));
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                }

                var exported = await ExportedWeightsAsync(http);
                Assert.Equal(65536.0 / (65536 - 0xe666), exported[Hex(TraceOf(0))], 12);
                Assert.Equal(2.0, exported[Hex(TraceOf(1))]);
                Assert.Equal(1.0, exported[Hex(TraceOf(2))]);
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task<Dictionary<string, double>> ExportedWeightsAsync(HttpClient http)
    {
        var body = await http.GetStringAsync(new Uri("api/v1/executions/export", UriKind.Relative));
        return body.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement)
            .ToDictionary(line => line.GetProperty("traceId").GetString()!, line => line.GetProperty("sampleWeight").GetDouble());
    }

    private static ByteString TraceOf(int run) => TraceId((2 * run) + 1);

    /// <summary>invoke_agent -> chat (100 in, 20 out, 0.01 USD) and -> execute_tool, all carrying the run's sampling record.</summary>
    private static OpenTelemetry.Proto.Collector.Trace.V1.ExportTraceServiceRequest Run(int i, DateTimeOffset start)
    {
        var (traceState, attributes, outcome, _) = Runs[i];
        var trace = TraceOf(i);
        var root = SpanId((i * 3) + 1);
        var spans = new[]
        {
            Span($"invoke_agent {Agent}", trace, root, attributes:
            [
                (GenAiAttributes.OperationName, GenAiOperations.InvokeAgent), (GenAiAttributes.AgentName, Agent),
                (PerfOtelAttributes.Outcome, outcome), .. attributes,
            ]),
            Span($"chat {Model}", trace, SpanId((i * 3) + 2), root, attributes:
            [
                (GenAiAttributes.OperationName, GenAiOperations.Chat), (GenAiAttributes.ProviderName, "openai"),
                (GenAiAttributes.RequestModel, Model), (GenAiAttributes.UsageInputTokens, 100L),
                (GenAiAttributes.UsageOutputTokens, 20L), (PerfOtelAttributes.CostUsd, CallCostUsd), .. attributes,
            ]),
            Span("execute_tool search", trace, SpanId((i * 3) + 3), root, attributes:
            [
                (GenAiAttributes.OperationName, GenAiOperations.ExecuteTool), (GenAiAttributes.ToolName, "search"), .. attributes,
            ]),
        };
        var startNanos = (ulong)start.AddSeconds(i).ToUnixTimeMilliseconds() * 1_000_000UL;
        foreach (var span in spans)
        {
            span.TraceState = traceState ?? string.Empty;
            span.StartTimeUnixNano = startNanos;
            span.EndTimeUnixNano = startNanos + 2_000_000_000UL;
        }

        return Traces(spans);
    }
}

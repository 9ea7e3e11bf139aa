using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Tests.Api;

/// <summary>The collector as shipped (real receiver, real SQLite store in a temporary directory, real clock).</summary>
public sealed class SqliteCollectorFactory(string dataDirectory) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder) =>
        builder.UseSetting("Storage:DataDirectory", dataDirectory);
}

/// <summary>
/// Spans from the real OpenTelemetry OTLP exporter, through the receiver and the SQLite store, into the windows and the
/// API; then a restart on the same data directory rebuilds the same numbers from the store.
/// </summary>
public sealed class AnalyticsEndToEndTests : IDisposable
{
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("perfotel-analytics-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(dataDirectory, recursive: true);
    }

    [Fact]
    public async Task Otlp_spans_reach_the_windows_and_survive_a_restart()
    {
        JsonElement live;
        await using (var collector = new SqliteCollectorFactory(dataDirectory))
        {
            using var client = collector.CreateDefaultClient(new SynchronousSendHandler());
            Emit(new Uri(client.BaseAddress!, "v1/traces"), () => client);
            live = await HourWindowOnceCounted(client, invocations: 3);
        }

        Assert.Equal(2, live.GetProperty("successes").GetInt64());
        Assert.Equal(1, live.GetProperty("failures").GetInt64());
        Assert.Equal(4500, live.GetProperty("tokens").GetInt64());
        Assert.Equal(1500, live.GetProperty("tokensPerInvocation").GetDouble(), 9);
        Assert.Equal(0.00108, live.GetProperty("costUsd").GetDouble(), 12);
        Assert.Equal(0.5, live.GetProperty("accuracy").GetDouble(), 12);
        Assert.Equal(3, live.GetProperty("calibration").GetProperty("samples").GetInt64());

        await using (var restarted = new SqliteCollectorFactory(dataDirectory))
        {
            using var client = restarted.CreateClient();
            var rebuilt = await HourWindowOnceCounted(client, invocations: 3);
            foreach (var property in new[] { "successes", "failures", "tokens", "costUsd", "accuracy", "accuracySamples",
                         "latencyP95Seconds", "healthScore", "durationSumSeconds" })
            {
                Assert.Equal(live.GetProperty(property).GetRawText(), rebuilt.GetProperty(property).GetRawText());
            }
            Assert.Equal(live.GetProperty("calibration").GetRawText(), rebuilt.GetProperty("calibration").GetRawText());
        }
    }

    /// <summary>The receiver acknowledges on commit and the observer runs just after: poll (bounded) until it has.</summary>
    private static async Task<JsonElement> HourWindowOnceCounted(HttpClient client, int invocations)
    {
        JsonElement hour = default;
        for (var attempt = 0; attempt < 100; attempt++)
        {
            using var response = await client.GetAsync(new Uri("/api/v1/metrics/agents/triage?tenant=acme&window=1h", UriKind.Relative));
            if (response.IsSuccessStatusCode)
            {
                hour = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("windows")[0].Clone();
                if (hour.GetProperty("invocations").GetInt64() == invocations)
                {
                    return hour;
                }
            }
            await Task.Delay(100);
        }
        Assert.Fail($"the agent never showed {invocations} invocations; last: {hour}");
        return hour;
    }

    private static void Emit(Uri endpoint, Func<HttpClient> httpClientFactory)
    {
        var sourceName = "PerfOtel.Tests.Analytics." + Guid.NewGuid();
        using var source = new ActivitySource(sourceName);
        using var provider = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("support-bot")
                .AddAttributes([new(PerfOtelAttributes.Tenant, "acme")]))
            .AddSource(sourceName)
            .SetSampler(new AlwaysOnSampler())
            .AddOtlpExporter(exporter =>
            {
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                exporter.Endpoint = endpoint;
                exporter.HttpClientFactory = httpClientFactory;
            })
            .Build();

        foreach (var (outcome, accuracy) in new[] { (Outcomes.Success, (double?)0.5), (Outcomes.Success, null), (Outcomes.Failure, null) })
        {
            using var agent = source.StartActivity("invoke_agent triage", ActivityKind.Internal)!;
            agent.SetTag(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent);
            agent.SetTag(GenAiAttributes.AgentName, "triage");
            agent.SetTag(PerfOtelAttributes.Outcome, outcome);
            agent.SetTag(PerfOtelAttributes.Confidence, 0.8);
            agent.SetTag(PerfOtelAttributes.TaskType, "refund");
            using (var chat = source.StartActivity("chat gpt-4o-mini", ActivityKind.Client)!)
            {
                chat.SetTag(GenAiAttributes.OperationName, GenAiOperations.Chat);
                chat.SetTag(GenAiAttributes.ProviderName, "openai");
                chat.SetTag(GenAiAttributes.RequestModel, "gpt-4o-mini");
                chat.SetTag(GenAiAttributes.UsageInputTokens, 1200L);
                chat.SetTag(GenAiAttributes.UsageOutputTokens, 300L);
                chat.SetTag(PerfOtelAttributes.CostUsd, 0.00036);
            }
            if (accuracy is { } score)
            {
                agent.AddEvent(new ActivityEvent(GenAiEvents.EvaluationResult, tags: new ActivityTagsCollection
                {
                    [GenAiAttributes.EvaluationName] = Instrumentation.EvaluationNames.Accuracy,
                    [GenAiAttributes.EvaluationScoreValue] = score,
                }));
            }
        }
        Assert.True(provider.ForceFlush(30_000), "the exporter could not flush");
    }
}

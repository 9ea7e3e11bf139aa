using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Instrumentation;
using PerfOtel.Instrumentation.Pricing;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.OtlpMetrics;

/// <summary>
/// End to end for a .NET agent that only pushes: PerfOtel.Instrumentation records the GenAI client metrics, and the
/// OpenTelemetry .NET SDK's metrics exporter sends them to collectors running as their own processes: once with
/// nothing but the endpoint set (the exporter's default, OTLP/gRPC), once over OTLP/HTTP protobuf. A real Prometheus
/// scrapes the gRPC-fed collector and the dashboards' GenAI panels show the recorded call sets exactly as for the
/// Node.js exporters (<see cref="NodeMetricsPrometheusTests"/>); the two collectors expose the same series.
/// </summary>
public sealed class DotNetMetricsExporterTests : IDisposable
{
    private const string Tenant = "acme";
    private const string Instance = "dotnet-agent-1";
    private readonly List<DirectoryInfo> _directories = [];

    [Fact]
    public async Task DefaultDotNetMetricsExporter_WithOnlyItsEndpoint_ReExposesWhatTheHttpExporterDoes()
    {
        // Every scrape collects afresh: the test compares /metrics right after a push.
        var settings = new Dictionary<string, string> { ["Metrics:Exporter:ScrapeResponseCacheDuration"] = "00:00:00" };
        await using var viaGrpc = await CollectorProcess.StartAsync(NewDirectory(), settings);
        await using var viaHttp = await CollectorProcess.StartAsync(NewDirectory(), settings);
        await using var prometheus = await PrometheusServer.StartAsync(new Dictionary<string, string[]> { ["perfotel-collector"] = [viaGrpc.BaseAddress.Authority] });

        // What a team writes: the endpoint and nothing else; the exporter's default protocol is gRPC. Both providers
        // listen to the instrumentation's one meter, so they export the same measurements.
        using var grpcAgent = Agent(exporter => exporter.Endpoint = viaGrpc.GrpcAddress);
        using var httpAgent = Agent(exporter =>
        {
            exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
            exporter.Endpoint = new Uri(viaHttp.BaseAddress, "v1/metrics");
        });

        // Phase 1: one call set; every series reaches Prometheus with its first value.
        RecordCallSets(1);
        Flush(grpcAgent, httpAgent);
        await prometheus.WaitForScalarAsync($"sum(gen_ai_client_operation_duration_seconds_count{{perfotel_tenant=\"{Tenant}\"}})", v => v == 5,
            TimeSpan.FromSeconds(90));

        // Phase 2: two more; Prometheus sees every series at three times its first value, so rates exist.
        RecordCallSets(2);
        Flush(grpcAgent, httpAgent);
        await prometheus.WaitForScalarAsync($"sum(gen_ai_client_operation_duration_seconds_count{{perfotel_tenant=\"{Tenant}\"}})", v => v == 15,
            TimeSpan.FromSeconds(90));

        await GenAiDashboardPanels.AssertCallSetAsync(prometheus, Tenant, callSets: 3, DateTimeOffset.UtcNow);

        // The producer's identity, as the SDK's resource gives it (renamed exported_* by Prometheus without honor_labels).
        var producer = Assert.Single(await prometheus.QueryAsync(
            $"count by (exported_job, exported_instance, tenant, gen_ai_agent_name) (gen_ai_client_token_usage_count{{perfotel_tenant=\"{Tenant}\"}})"));
        Assert.Equal("support-bot", producer.Labels["exported_job"]);
        Assert.Equal(Instance, producer.Labels["exported_instance"]);
        Assert.Equal(Tenant, producer.Labels["tenant"]);
        Assert.Equal("support-triage", producer.Labels["gen_ai_agent_name"]);

        // Over gRPC with the defaults, /metrics carries exactly the series the HTTP exporter's pushes give: every
        // family of the instrumentation (GenAI client metrics, the perfotel.* invocation, cost and token families).
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var grpcSeries = AgentRunFixture.DerivedSeries(await http.GetStringAsync(new Uri(viaGrpc.BaseAddress, "metrics")));
        var httpSeries = AgentRunFixture.DerivedSeries(await http.GetStringAsync(new Uri(viaHttp.BaseAddress, "metrics")));
        Assert.Contains(httpSeries, s => s.StartsWith("gen_ai_client_token_usage_bucket{", StringComparison.Ordinal));
        Assert.Contains(httpSeries, s => s.StartsWith("perfotel_agent_invocations_total{", StringComparison.Ordinal) && s.EndsWith(" 3", StringComparison.Ordinal));
        Assert.Contains(httpSeries, s => s.StartsWith("perfotel_agent_cost_usd_total{", StringComparison.Ordinal));
        Assert.Equal(httpSeries, grpcSeries);
    }

    public void Dispose()
    {
        foreach (var directory in _directories)
        {
            directory.Delete(recursive: true);
        }
    }

    private static MeterProvider Agent(Action<OtlpExporterOptions> configure) =>
        Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("support-bot", serviceInstanceId: Instance))
            .AddPerfOtelInstrumentation()
            .AddOtlpExporter(configure)
            .Build();

    /// <summary>The shared call set, each set inside one invocation of the agent.</summary>
    private static void RecordCallSets(int sets)
    {
        for (var set = 0; set < sets; set++)
        {
            using var invocation = AgentTelemetry.StartInvocation("support-triage", new AgentInvocationDetails { Tenant = Tenant });
            foreach (var (provider, model, input, output, seconds, errorType) in GenAiDashboardPanels.CallSet)
            {
                AgentTelemetry.RecordProviderCall(new ProviderCallRecord(provider, model, seconds)
                {
                    Usage = errorType is null ? new TokenUsage(input, output) : null,
                    ErrorType = errorType,
                }, invocation);
            }

            invocation.Succeed();
        }
    }

    private static void Flush(params MeterProvider[] agents)
    {
        // ForceFlush is true only when the export succeeded; the data reaching /metrics is asserted separately.
        foreach (var agent in agents)
        {
            Assert.True(agent.ForceFlush(30_000), "a metrics export failed");
        }
    }

    private string NewDirectory()
    {
        var directory = Directory.CreateTempSubdirectory("perfotel-dotnet-metrics-");
        _directories.Add(directory);
        return directory.FullName;
    }
}

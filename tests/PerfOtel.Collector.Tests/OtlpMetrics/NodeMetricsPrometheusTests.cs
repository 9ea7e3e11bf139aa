using System.Globalization;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.OtlpMetrics;

/// <summary>
/// End to end: a Node.js agent records the GenAI client metrics with @opentelemetry/sdk-metrics and pushes them through
/// the real OTLP metrics exporter (gRPC, the default, and HTTP/protobuf; cumulative and delta temporality) to the
/// collector; a real Prometheus scrapes the collector, and the PromQL of the providers and cost dashboards' GenAI panels,
/// read from the dashboard files, returns the hand-computed values.
/// </summary>
public sealed class NodeMetricsPrometheusTests
{
    private const string Tenant = "acme";
    private const int Repeat = 2; // phase 2 records the call set twice more: every series ends at 3x its phase-1 value

    [Theory]
    [InlineData("grpc", "cumulative")]
    [InlineData("proto", "cumulative")]
    [InlineData("proto", "delta")]
    public async Task DashboardGenAiPanels_OverMetricsPushedByTheNodeExporter_ShowTheRecordedValues(string protocol, string temporality)
    {
        await using var collector = new CollectorFactory(kestrel: true, grpc: true);
        var target = collector.ListenAddress.Authority;
        await using var prometheus = await PrometheusServer.StartAsync(new Dictionary<string, string[]> { ["perfotel-collector"] = [target] });
        var directory = Directory.CreateTempSubdirectory("perfotel-node-metrics-");
        try
        {
            var url = protocol == "grpc" ? collector.GrpcAddress.ToString().TrimEnd('/') : new Uri(collector.ListenAddress, "v1/metrics").ToString();
            await using var node = StartNode(protocol, url, temporality, directory.FullName);

            // Phase 1: every series appears in Prometheus with its first value (one call set).
            await WaitForFileAsync(node, Path.Combine(directory.FullName, "phase1.done"));
            await prometheus.WaitForScalarAsync($"sum(gen_ai_client_operation_duration_seconds_count{{perfotel_tenant=\"{Tenant}\"}})", v => v == 5,
                TimeSpan.FromSeconds(90));

            // Phase 2: two more call sets; Prometheus sees every series at three times its first value.
            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "phase2.go"), "go");
            await WaitForFileAsync(node, Path.Combine(directory.FullName, "phase2.done"));
            await prometheus.WaitForScalarAsync($"sum(gen_ai_client_operation_duration_seconds_count{{perfotel_tenant=\"{Tenant}\"}})", v => v == 15,
                TimeSpan.FromSeconds(90));
            Assert.True(await node.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the Node exporter did not finish:\n" + node.Output);
            Assert.True(node.ExitCode == 0, $"the Node {protocol} exporter failed:\n{node.Output}");

            await GenAiDashboardPanels.AssertCallSetAsync(prometheus, Tenant, callSets: 1 + Repeat, DateTimeOffset.UtcNow);

            // The producer's identity: job and instance, renamed exported_* by Prometheus without honor_labels.
            var producers = await prometheus.QueryAsync($"count by (exported_job, tenant) (gen_ai_client_token_usage_count{{perfotel_tenant=\"{Tenant}\"}})");
            var producer = Assert.Single(producers);
            Assert.Equal("support-bot", producer.Labels["exported_job"]);
            Assert.Equal(Tenant, producer.Labels["tenant"]);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static ExternalProcess StartNode(string protocol, string url, string temporality, string directory)
    {
        var fixture = RepoPaths.Combine("tests", "node-exporters");
        Assert.True(Directory.Exists(Path.Combine(fixture, "node_modules", "@opentelemetry", "exporter-metrics-otlp-proto")),
            $"{fixture}/node_modules is missing or outdated: run scripts/install-test-deps.sh (it runs npm ci there)");
        var node = ExternalProcess.FindOnPath("node", "nodejs") ?? throw new InvalidOperationException("node is not installed: run scripts/install-test-deps.sh");
        return ExternalProcess.Start(node,
            ["emit-genai-metrics.js", protocol, url, Tenant, temporality, directory, Repeat.ToString(CultureInfo.InvariantCulture)],
            workingDirectory: fixture);
    }

    private static async Task WaitForFileAsync(ExternalProcess node, string file)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (!File.Exists(file))
        {
            Assert.False(node.HasExited && !File.Exists(file), $"the Node exporter exited before writing {Path.GetFileName(file)}:\n{node.Output}");
            Assert.True(DateTime.UtcNow < until, $"{Path.GetFileName(file)} not written within 120 s:\n{node.Output}");
            await Task.Delay(100);
        }
    }
}

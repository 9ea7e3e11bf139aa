using System.Net;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Exporter;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Testing;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Tests.Ingest;

/// <summary>The self-metrics reach Prometheus as perfotel_collector_* through the project's own exporter.</summary>
public sealed class SelfMetricsPrometheusTests
{
    [Fact]
    public async Task SelfMetrics_AreExposedWithPerfOtelCollectorPrometheusNames()
    {
        var port = TestPorts.GetFree();
        using var provider = Sdk.CreateMeterProviderBuilder()
            .AddPerfOtelCollectorMetrics()
            .AddPerfOtelPrometheusHttpListener(o => o.UriPrefixes = [$"http://127.0.0.1:{port}/"])
            .Build();
        await using var collector = new CollectorFactory();
        using var client = collector.CreateClient();
        using var response = await client.PostAsync("/v1/traces", Protobuf(Traces(
            [Span("invoke_agent a", TraceId(1), SpanId(1), attributes: [(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent)])])));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        using var scraper = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var text = await scraper.GetStringAsync($"http://127.0.0.1:{port}/metrics");

        Assert.Contains("perfotel_collector_spans_received_total", text);
        Assert.Contains("perfotel_collector_spans_accepted_total", text);
        Assert.Contains("perfotel_collector_records_committed_total", text);
        Assert.Contains("perfotel_collector_store_write_duration_seconds_bucket", text);
        Assert.Contains("perfotel_collector_queue_records", text);
        Assert.Contains("perfotel_collector_queue_bytes", text);
        Assert.Matches("perfotel_collector_requests_total\\{[^}]*http_response_status_code=\"200\"[^}]*signal=\"traces\"", text);
    }
}

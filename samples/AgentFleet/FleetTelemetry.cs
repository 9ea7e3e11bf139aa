using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using PerfOtel.Exporter;
using PerfOtel.Instrumentation.Conventions;

namespace AgentFleet;

/// <summary>The fleet's OpenTelemetry pipeline: PerfOtel instrumentation, the real OTLP/HTTP exporter, optionally /metrics.</summary>
internal sealed class FleetTelemetry : IDisposable
{
    private readonly TracerProvider tracerProvider;
    private readonly MeterProvider meterProvider;

    private FleetTelemetry(TracerProvider tracerProvider, MeterProvider meterProvider)
    {
        this.tracerProvider = tracerProvider;
        this.meterProvider = meterProvider;
    }

    public static FleetTelemetry Start(Uri? otlpBase, int? prometheusPort, string tenant)
    {
        var resource = ResourceBuilder.CreateDefault()
            .AddService("agent-fleet", serviceVersion: "1.0.0")
            .AddAttributes([new(PerfOtelAttributes.Tenant, tenant)]);

        var tracing = Sdk.CreateTracerProviderBuilder().SetResourceBuilder(resource).AddPerfOtelInstrumentation();
        // The fleet's own memory and CPU too: the agent dashboard and the resource alerts read them.
        var metrics = Sdk.CreateMeterProviderBuilder().SetResourceBuilder(resource).AddPerfOtelInstrumentation().AddPerfOtelProcessMetrics();
        if (otlpBase is not null)
        {
            tracing.AddOtlpExporter(o =>
            {
                o.Protocol = OtlpExportProtocol.HttpProtobuf;
                o.Endpoint = new Uri(otlpBase, "v1/traces");
            });
            metrics.AddOtlpExporter((exporter, reader) =>
            {
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                exporter.Endpoint = new Uri(otlpBase, "v1/metrics");
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 5000;
                reader.TemporalityPreference = MetricReaderTemporalityPreference.Cumulative;
            });
        }
        if (prometheusPort is { } port)
        {
            metrics.AddPerfOtelPrometheusHttpListener(o => o.UriPrefixes = [$"http://127.0.0.1:{port}/"]);
        }
        return new FleetTelemetry(tracing.Build(), metrics.Build());
    }

    public void Flush()
    {
        tracerProvider.ForceFlush(10_000);
        meterProvider.ForceFlush(10_000);
    }

    public void Dispose()
    {
        tracerProvider.Dispose();
        meterProvider.Dispose();
    }
}

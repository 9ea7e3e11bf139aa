using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using PerfOtel.Exporter;
using PerfOtel.Instrumentation.Conventions;

namespace AgentFleet;

/// <summary>
/// The fleet's OpenTelemetry pipeline, wired the way a hosted .NET agent service wires it:
/// <c>AddOpenTelemetry().ConfigureResource(...).WithTracing(...).WithMetrics(...)</c> on a generic host, with PerfOtel's
/// instrumentation, the real OTLP/HTTP exporter and optionally PerfOtel's /metrics listener.
/// </summary>
internal sealed class FleetTelemetry : IAsyncDisposable
{
    private readonly IHost host;

    private FleetTelemetry(IHost host) => this.host = host;

    public static async Task<FleetTelemetry> StartAsync(Uri? otlpBase, int? prometheusPort, string tenant)
    {
        // Empty: the fleet takes its settings from its command line, not from appsettings or the environment.
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource
                .AddService("agent-fleet", serviceVersion: "1.0.0")
                .AddAttributes([new(PerfOtelAttributes.Tenant, tenant)]))
            .WithTracing(tracing =>
            {
                tracing.AddPerfOtelInstrumentation();
                if (otlpBase is not null)
                {
                    tracing.AddOtlpExporter(o =>
                    {
                        o.Protocol = OtlpExportProtocol.HttpProtobuf;
                        o.Endpoint = new Uri(otlpBase, "v1/traces");
                    });
                }
            })
            .WithMetrics(metrics =>
            {
                // The fleet's own memory and CPU too: the agent dashboard and the resource alerts read them.
                metrics.AddPerfOtelInstrumentation().AddPerfOtelProcessMetrics();
                if (otlpBase is not null)
                {
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
            });
        var host = builder.Build();
        // Starting the host builds both providers (OpenTelemetry's hosted service), so recording starts exported.
        await host.StartAsync();
        return new FleetTelemetry(host);
    }

    public void Flush()
    {
        host.Services.GetRequiredService<TracerProvider>().ForceFlush(10_000);
        host.Services.GetRequiredService<MeterProvider>().ForceFlush(10_000);
    }

    public async ValueTask DisposeAsync()
    {
        // Disposing the host disposes the providers, which flush what is left.
        await host.StopAsync();
        host.Dispose();
    }
}

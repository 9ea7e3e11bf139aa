using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using PerfOtel.Collector.Analytics;
using PerfOtel.Collector.Cost;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Exporter;

namespace PerfOtel.Collector.Hosting;

/// <summary>
/// The collector's own /metrics: one MeterProvider (there is no OpenTelemetry.Extensions.Hosting here) subscribed to
/// every collector meter and served by PerfOtel.Exporter. The DI container owns and disposes it.
/// </summary>
public static class CollectorTelemetryExtensions
{
    /// <summary>Meters whose instruments /metrics serves; each is declared in its own catalog class.</summary>
    public static IReadOnlyList<string> MeterNames { get; } =
    [
        CollectorMetrics.MeterName,
        PerfOtel.Collector.Analytics.Metrics.AnalyticsMetricCatalog.MeterName,
        PerfOtel.Collector.Cost.Metrics.CostMetricCatalog.MeterName,
    ];

    public static IServiceCollection AddPerfOtelCollectorTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(sp =>
        {
            var builder = Sdk.CreateMeterProviderBuilder()
                .ConfigureResource(r => r.AddService("perfotel-collector", serviceVersion: typeof(CollectorTelemetryExtensions).Assembly.GetName().Version?.ToString()))
                .AddMeter(CollectorMetrics.MeterName)
                .AddPerfOtelAnalyticsMetrics()
                .AddPerfOtelCostMetrics()
                .AddPerfOtelPrometheusExporter(o => configuration.GetSection("Metrics:Exporter").Bind(o));
            foreach (var name in MeterNames)
            {
                builder.AddMeter(name);
            }
            return builder.Build();
        });
        return services;
    }

    /// <summary>Maps /metrics (or Metrics:Path).</summary>
    public static IEndpointConventionBuilder MapPerfOtelCollectorMetrics(this WebApplication app) =>
        app.MapPerfOtelScrapingEndpoint(app.Services.GetRequiredService<MeterProvider>(), app.Configuration["Metrics:Path"]);
}

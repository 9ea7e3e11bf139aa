using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using PerfOtel.Exporter;
using PerfOtel.Collector.Derived.Analytics;
using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Exposure.Metrics;

namespace PerfOtel.Collector.Hosting;

/// <summary>
/// The collector's own /metrics: one MeterProvider (there is no OpenTelemetry.Extensions.Hosting here) subscribed to
/// every collector meter and served by PerfOtel.Exporter. The DI container owns and disposes it.
/// </summary>
public static class CollectorTelemetryExtensions
{
    public static IServiceCollection AddPerfOtelCollectorTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(sp =>
        {
            // Each meter is declared in its own catalog class; these calls subscribe to them with fitting limits.
            return Sdk.CreateMeterProviderBuilder()
                .ConfigureResource(r => r.AddService("perfotel-collector", serviceVersion: typeof(CollectorTelemetryExtensions).Assembly.GetName().Version?.ToString()))
                .AddPerfOtelCollectorMetrics()
                .AddPerfOtelCostMetrics()
                .AddPerfOtelPrometheusExporter(o =>
                {
                    configuration.GetSection("Metrics:Exporter").Bind(o);
                    o.AddPerfOtelAnalytics(sp);
                })
                .Build();
        });
        return services;
    }

    /// <summary>Maps /metrics (or Metrics:Path).</summary>
    public static IEndpointConventionBuilder MapPerfOtelCollectorMetrics(this WebApplication app) =>
        app.MapPerfOtelScrapingEndpoint(app.Services.GetRequiredService<MeterProvider>(), app.Configuration["Metrics:Path"])
            .WithMetadata(new Security.ScrapeEndpointMetadata());
}

using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using PerfOtel.Exporter;
using PerfOtel.Collector.Derived.Analytics;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Hosting;

/// <summary>
/// The collector's own /metrics, registered the way any .NET service registers OpenTelemetry
/// (<c>AddOpenTelemetry().ConfigureResource(...).WithMetrics(...)</c> from OpenTelemetry.Extensions.Hosting): the
/// collector's meters, served by PerfOtel.Exporter. The host builds the MeterProvider at start and disposes it at stop.
/// The collector starts no spans of its own, so there is no WithTracing.
/// </summary>
public static class CollectorTelemetryExtensions
{
    public static IServiceCollection AddPerfOtelCollectorTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        // The exporter's options come from configuration (Metrics:Exporter) plus the analytics, cost and OTLP metrics producers, which need
        // the service provider: options configured through DI get both.
        services.AddOptions<PerfOtelPrometheusExporterOptions>()
            .Bind(configuration.GetSection("Metrics:Exporter"))
            .Configure<IServiceProvider>((options, serviceProvider) =>
            {
                options.AddPerfOtelAnalytics(serviceProvider);
                options.AddPerfOtelCostFamilies(serviceProvider);
                options.Producers.Add(serviceProvider.GetRequiredService<OtlpMetricsExposition>());
            });
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(
                "perfotel-collector", serviceVersion: typeof(CollectorTelemetryExtensions).Assembly.GetName().Version?.ToString()))
            .WithMetrics(metrics => metrics
                // Each meter is declared in its own catalog class; these calls subscribe to them with fitting limits.
                .AddPerfOtelCollectorMetrics()
                .AddPerfOtelPrometheusExporter());
        return services;
    }

    /// <summary>Maps /metrics (or Metrics:Path).</summary>
    public static IEndpointConventionBuilder MapPerfOtelCollectorMetrics(this WebApplication app) =>
        app.MapPerfOtelScrapingEndpoint(app.Services.GetRequiredService<MeterProvider>(), app.Configuration["Metrics:Path"])
            .WithMetadata(new Security.ScrapeEndpointMetadata());
}

using Microsoft.Extensions.Options;
using PerfOtel.Collector.Derived.Cardinality;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Receiving.Metrics;

namespace PerfOtel.Collector.Hosting;

/// <summary>
/// The path of OTLP-pushed metrics, from the receiver to /metrics (docs/collector/otlp-metrics.md): the mapper the
/// <c>/v1/metrics</c> and <c>MetricsService</c> receivers call, the live series it updates (tenants folded and series
/// bounded by the cardinality guard, forgotten after <c>OtlpMetrics:StaleAfter</c>), and the producer that writes them
/// into the scrape.
/// </summary>
public static class OtlpMetricsComposition
{
    public static IServiceCollection AddPerfOtelOtlpMetrics(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddPerfOtelCardinalityGuard(configuration);
        services.AddOptions<OtlpMetricsOptions>().Bind(configuration.GetSection(OtlpMetricsOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<OtlpMetricsOptions>, OtlpMetricsOptionsValidator>();
        services.AddSingleton(provider => new LiveMetricSeries(
            provider.GetRequiredService<IOptions<CardinalityOptions>>().Value.MaxMetricSeriesPerTenant,
            provider.GetRequiredService<IOptions<OtlpMetricsOptions>>().Value.StaleAfter,
            provider.GetRequiredService<TimeProvider>()));
        services.AddSingleton(provider => new OtlpMetricsMapper(
            provider.GetRequiredService<LiveMetricSeries>(),
            provider.GetRequiredService<CardinalityGuard>().Tenant,
            provider.GetRequiredService<CollectorMetrics>()));
        services.AddSingleton<OtlpMetricsExposition>();
        services.AddHostedService<OtlpMetricSeriesActivation>();
        return services;
    }

    /// <summary>Connects the live series to their self-metric at start-up, so the first scrape already sees it.</summary>
    private sealed class OtlpMetricSeriesActivation(LiveMetricSeries series, CollectorMetrics metrics) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            metrics.ObserveMetricSeries(series.SeriesByTenant);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

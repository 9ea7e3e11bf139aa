using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Exporter;

namespace PerfOtel.Collector.Exposure.Metrics;

/// <summary>
/// Wiring of the derived families on <c>/metrics</c>. The derived features register their state (Derived/); this registers
/// what reads it into a scrape, so that dependencies point from Exposure to Derived and never back.
/// </summary>
public static class MetricsExpositionExtensions
{
    /// <summary>
    /// The analytics gauges' and the thresholds' producers and the refresher of the analytics snapshot. Needs
    /// <c>AddPerfOtelAnalytics</c> on the same service collection.
    /// </summary>
    public static IServiceCollection AddPerfOtelAnalyticsExposition(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<AnalyticsExposition>();
        services.AddSingleton<ThresholdExposition>();
        services.AddHostedService<AnalyticsExpositionRefresher>();
        return services;
    }

    /// <summary>
    /// The budget, model and experiment gauges of the meter <c>PerfOtel.Collector.Cost</c>, created at start-up with the
    /// cost counters so that the first scrape already has them, and the experiments' latency histogram producer
    /// (<see cref="AddPerfOtelExperimentLatency"/>). Needs <c>AddPerfOtelCost</c> on the same service collection.
    /// </summary>
    public static IServiceCollection AddPerfOtelCostExposition(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<BudgetMetrics>();
        services.AddSingleton<ModelMetrics>();
        services.AddSingleton<ExperimentMetrics>();
        services.AddSingleton<ExperimentLatencyExposition>();
        services.AddHostedService<CostMetricsActivation>();
        return services;
    }

    /// <summary>
    /// Writes the analytics gauges and the thresholds into every scrape of a PerfOtel.Exporter (as producers, not through
    /// the SDK: see <see cref="AnalyticsExposition"/>). Needs <see cref="AddPerfOtelAnalyticsExposition"/> on the same
    /// service provider.
    /// </summary>
    public static PerfOtelPrometheusExporterOptions AddPerfOtelAnalytics(this PerfOtelPrometheusExporterOptions options, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Producers.Add(services.GetRequiredService<AnalyticsExposition>());
        options.Producers.Add(services.GetRequiredService<ThresholdExposition>());
        return options;
    }

    /// <summary>
    /// Writes the experiments' latency histogram into every scrape of a PerfOtel.Exporter (a producer: the SDK has no
    /// observable histogram; see <see cref="ExperimentLatencyExposition"/>). Needs <see cref="AddPerfOtelCostExposition"/>
    /// on the same service provider.
    /// </summary>
    public static PerfOtelPrometheusExporterOptions AddPerfOtelExperimentLatency(this PerfOtelPrometheusExporterOptions options, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Producers.Add(services.GetRequiredService<ExperimentLatencyExposition>());
        return options;
    }

    /// <summary>Creates the instruments at start-up, so that the first scrape already has them.</summary>
    private sealed class CostMetricsActivation(
        CostCounters counters, BudgetMetrics budgets, ModelMetrics models, ExperimentMetrics experiments) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            GC.KeepAlive(counters);
            GC.KeepAlive(budgets);
            GC.KeepAlive(models);
            GC.KeepAlive(experiments);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

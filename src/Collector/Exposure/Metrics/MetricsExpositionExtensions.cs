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
    /// The producers of the cost, budget, model and experiment families (<c>CostMetricCatalog</c>): the cost counters,
    /// the budget, model and experiment gauges and the experiments' latency histogram, written into each scrape from the
    /// derived state (<see cref="AddPerfOtelCostFamilies"/>). Needs <c>AddPerfOtelCost</c> on the same service collection.
    /// </summary>
    public static IServiceCollection AddPerfOtelCostExposition(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddSingleton<CostCounterExposition>();
        services.AddSingleton<BudgetMetrics>();
        services.AddSingleton<ModelMetrics>();
        services.AddSingleton<ExperimentMetrics>();
        services.AddSingleton<ExperimentLatencyExposition>();
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
    /// Writes the families of <c>CostMetricCatalog</c> into every scrape of a PerfOtel.Exporter, in the catalog's order: the
    /// cost counters, the budget, model and experiment gauges, and the experiments' latency histogram (the SDK has no
    /// observable histogram; see <see cref="ExperimentLatencyExposition"/>). Needs <see cref="AddPerfOtelCostExposition"/>
    /// on the same service provider.
    /// </summary>
    public static PerfOtelPrometheusExporterOptions AddPerfOtelCostFamilies(this PerfOtelPrometheusExporterOptions options, IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var producer in CostProducers(services))
        {
            options.Producers.Add(producer);
        }
        return options;
    }

    /// <summary>The producers of <c>CostMetricCatalog</c>'s families, in the catalog's order.</summary>
    internal static IEnumerable<IPrometheusMetricProducer> CostProducers(IServiceProvider services)
    {
        yield return services.GetRequiredService<CostCounterExposition>();
        yield return services.GetRequiredService<BudgetMetrics>();
        yield return services.GetRequiredService<ModelMetrics>();
        yield return services.GetRequiredService<ExperimentMetrics>();
        yield return services.GetRequiredService<ExperimentLatencyExposition>();
    }
}

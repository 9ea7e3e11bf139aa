using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Telemetry;

/// <summary>
/// Every family the collector's <c>/metrics</c> can show, from its catalogs: the analytics gauges, the thresholds, cost,
/// budgets, models and experiments, and the self-metrics. The only families not listed are the resource's
/// <c>target_info</c> (<see cref="ProcessMetricCatalog.TargetInfo"/>) and the metrics pushed over OTLP and re-exposed
/// under their senders' names (docs/collector/otlp-metrics.md): neither is a name of the collector's.
/// </summary>
public static class MetricFamilies
{
    /// <summary>Every definition, in the order of the catalogs.</summary>
    public static IReadOnlyList<MetricDefinition> All { get; } =
        [.. AnalyticsMetricCatalog.All, .. ThresholdMetricCatalog.All, .. CostMetricCatalog.All, .. SelfMetricCatalog.All];
}

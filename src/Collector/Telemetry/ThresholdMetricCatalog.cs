using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Telemetry;

/// <summary>
/// The collector's effective thresholds as a metric, so that the Prometheus rules page on the same numbers as the REST
/// alerts and the health score. Label semantics (docs/collector/analytics.md, "Thresholds in Prometheus"):
/// no <c>tenant</c> label: the section-wide value (every tenant and agent without an override);
/// <c>tenant</c> without <c>agent</c>: a configured tenant's effective value (section-wide where it overrides nothing);
/// <c>tenant</c> and <c>agent</c>: a configured agent's effective value. In PromQL an absent label equals <c>""</c>, so
/// rules prefer <c>agent!=""</c> over <c>tenant!="",agent=""</c> over <c>tenant=""</c>, and fall back to their own
/// constants when no collector is scraped.
/// </summary>
public static class ThresholdMetricCatalog
{
    public const string TenantLabel = "tenant";
    public const string AgentLabel = "agent";
    public const string MetricLabel = "metric";
    public const string LevelLabel = "level";

    public static readonly MetricDefinition Threshold = AnalyticsMetricCatalog.Gauge("perfotel.threshold", "{threshold}",
        "Effective alert threshold, in the unit of the series it is compared with (ratios 0-1, seconds, USD, tokens, bytes); tenant absent: section-wide, agent absent: tenant-wide.",
        "perfotel_threshold", [TenantLabel, AgentLabel, MetricLabel, LevelLabel], mergeable: false);

    /// <summary>Every metric of this catalog.</summary>
    public static IReadOnlyList<MetricDefinition> All { get; } = [Threshold];
}

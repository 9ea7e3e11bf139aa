using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Alerting.Tests.Catalog;

/// <summary>
/// Every series the code declares, read uniformly from its catalogs, all of one type (<see cref="MetricDefinition"/>): the
/// instrumentation's <see cref="MetricCatalog"/> and <see cref="ProcessMetricCatalog"/>, and every family of the collector's
/// <c>/metrics</c> (<see cref="MetricFamilies"/>: analytics, thresholds, cost, budgets, models, experiments, self-metrics).
/// </summary>
internal static class CodeCatalog
{
    private static readonly Lazy<IReadOnlyDictionary<string, CatalogMetric>> Loaded = new(Load);

    /// <summary>The catalogs, by the name a problem report gives as the declaring source.</summary>
    public static IReadOnlyList<(string Source, IReadOnlyList<MetricDefinition> Definitions)> Catalogs { get; } =
    [
        (nameof(MetricCatalog), MetricCatalog.All),
        (nameof(ProcessMetricCatalog), ProcessMetricCatalog.All),
        (nameof(AnalyticsMetricCatalog), AnalyticsMetricCatalog.All),
        (nameof(ThresholdMetricCatalog), ThresholdMetricCatalog.All),
        (nameof(CostMetricCatalog), CostMetricCatalog.All),
        (nameof(SelfMetricCatalog), SelfMetricCatalog.All),
    ];

    /// <summary>By Prometheus series name (histograms contribute their <c>_bucket</c>, <c>_sum</c> and <c>_count</c>).</summary>
    public static IReadOnlyDictionary<string, CatalogMetric> Metrics => Loaded.Value;

    private static Dictionary<string, CatalogMetric> Load()
    {
        var metrics = new Dictionary<string, CatalogMetric>(StringComparer.Ordinal);
        foreach (var metric in Catalogs.SelectMany(c => c.Definitions.SelectMany(d => Series(d, c.Source))))
        {
            Assert.True(metrics.TryAdd(metric.Name, metric), $"{metric.Name} is declared by both {metric.Source} and {metrics.GetValueOrDefault(metric.Name)?.Source}");
        }
        return metrics;
    }

    private static IEnumerable<CatalogMetric> Series(MetricDefinition definition, string source)
    {
        var labels = definition.Attributes.Select(PrometheusNaming.Label).ToHashSet(StringComparer.Ordinal);
        return definition.Kind == MetricInstrumentKind.Histogram
            ?
            [
                new(definition.PrometheusName + "_bucket", new HashSet<string>(labels.Append("le"), StringComparer.Ordinal), source),
                new(definition.PrometheusName + "_sum", labels, source),
                new(definition.PrometheusName + "_count", labels, source),
            ]
            : [new CatalogMetric(definition.PrometheusName, labels, source)];
    }
}

using PerfOtel.Exporter;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Alerting.Tests.Catalog;

/// <summary>A Prometheus series name the code emits, the labels it carries, and which catalog declared it.</summary>
internal sealed record CatalogMetric(string Name, IReadOnlySet<string> Labels, string Source);

/// <summary>
/// The names PerfOtel.Exporter gives an instrument and an attribute: the exporter's own naming rule
/// (<see cref="PrometheusMetricFamily"/>, <see cref="PrometheusLabels"/>), not a copy of it, so that the catalogs are
/// checked against what a scrape carries.
/// </summary>
internal static class PrometheusNaming
{
    public static string Label(string attributeKey) => PrometheusLabels.LabelName(attributeKey);

    /// <summary>The series name of <paramref name="definition"/>: with <c>_total</c> for a counter, the family of a histogram's series.</summary>
    public static string Metric(MetricDefinition definition)
    {
        var family = new PrometheusMetricFamily(definition.Name, definition.Unit, null, definition.Kind switch
        {
            MetricInstrumentKind.Counter => PrometheusMetricKind.Counter,
            MetricInstrumentKind.Histogram => PrometheusMetricKind.Histogram,
            _ => PrometheusMetricKind.Gauge,
        });
        return definition.Kind == MetricInstrumentKind.Histogram ? family.Name : family.SampleName;
    }
}

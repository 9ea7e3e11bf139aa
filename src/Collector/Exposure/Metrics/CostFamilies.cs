using System.Collections.Concurrent;
using PerfOtel.Exporter;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Exposure.Metrics;

/// <summary>
/// The families of <see cref="Telemetry.CostMetricCatalog"/> as PerfOtel.Exporter producer families: named by the
/// exporter's rules from each definition's OpenTelemetry name and unit (the catalog's Prometheus name), typed by its kind.
/// They are written straight into the scrape, as the analytics gauges are, rather than through OpenTelemetry SDK
/// instruments: the SDK preallocates every metric stream's points up to its cardinality limit at start-up (20 000 points
/// on each of 32 streams, 57 MB before the first call), here memory follows the series that exist.
/// </summary>
internal static class CostFamilies
{
    private static readonly ConcurrentDictionary<string, PrometheusMetricFamily> Families = new(StringComparer.Ordinal);

    public static PrometheusMetricFamily Of(MetricDefinition definition) =>
        Families.GetOrAdd(definition.Name, static (_, d) => new PrometheusMetricFamily(d.Name, d.Unit, d.Description, d.Kind switch
        {
            MetricInstrumentKind.Counter => PrometheusMetricKind.Counter,
            MetricInstrumentKind.Histogram => PrometheusMetricKind.Histogram,
            _ => PrometheusMetricKind.Gauge,
        }), definition);

    /// <summary>Writes one gauge family: every series the enumeration yields (none: the family is left out).</summary>
    public static void WriteGauges(PrometheusProducerWriter writer, MetricDefinition definition,
        IEnumerable<(double Value, KeyValuePair<string, string>[] Labels)> series)
    {
        writer.BeginFamily(Of(definition));
        foreach (var (value, labels) in series)
        {
            writer.WriteGauge(PrometheusLabels.Encode(labels), value);
        }
    }
}

using PerfOtel.Exporter.Implementation.Serialization;

namespace PerfOtel.Exporter;

/// <summary>The Prometheus type of a <see cref="PrometheusMetricFamily"/>.</summary>
public enum PrometheusMetricKind
{
    /// <summary>A value that goes up and down (an OpenTelemetry gauge or non-monotonic sum).</summary>
    Gauge,

    /// <summary>A monotonic cumulative sum: the samples are named with <c>_total</c>.</summary>
    Counter,

    /// <summary>A histogram with explicit buckets: <c>_bucket</c> (with <c>le</c>), <c>_sum</c>, <c>_count</c>.</summary>
    Histogram,
}

/// <summary>
/// A counter, gauge or histogram family of an <see cref="IPrometheusMetricProducer"/>, named from an OpenTelemetry name
/// and unit by exactly the rules the exporter applies to the MeterProvider's metrics (unit suffix, <c>_total</c> on
/// counters), with its HELP/TYPE/UNIT lines encoded once for both formats. Its series are written with
/// <see cref="PrometheusProducerWriter.WriteCounter"/>, <see cref="PrometheusProducerWriter.WriteGauge"/> and
/// <see cref="PrometheusProducerWriter.WriteHistogram"/>, which format values, <c>le</c> and <c>_created</c> per format
/// as the exporter's own series are.
/// </summary>
public sealed class PrometheusMetricFamily
{
    /// <summary>Creates the family.</summary>
    /// <param name="name">OpenTelemetry metric name.</param>
    /// <param name="unit">UCUM unit, or null.</param>
    /// <param name="description">HELP text, or null.</param>
    /// <param name="kind">The Prometheus type.</param>
    public PrometheusMetricFamily(string name, string? unit, string? description, PrometheusMetricKind kind)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Kind = kind;
        Names = new FamilyNames(name, unit, kind switch
        {
            PrometheusMetricKind.Counter => PrometheusType.Counter,
            PrometheusMetricKind.Histogram => PrometheusType.Histogram,
            _ => PrometheusType.Gauge,
        }, addTotalSuffix: true);
        TextHeader = Names.TextHeader(description);
        OpenMetricsHeader = Names.OpenMetricsHeader(description);
    }

    /// <summary>The family name (OpenMetrics metadata; without <c>_total</c>).</summary>
    public string Name => Names.FamilyName;

    /// <summary>The name of gauge and counter samples (counters end with <c>_total</c>).</summary>
    public string SampleName => Names.SampleName;

    /// <summary>The Prometheus type.</summary>
    public PrometheusMetricKind Kind { get; }

    internal FamilyNames Names { get; }

    internal byte[] TextHeader { get; }

    internal byte[] OpenMetricsHeader { get; }
}

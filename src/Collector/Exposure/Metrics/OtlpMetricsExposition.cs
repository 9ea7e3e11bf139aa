using PerfOtel.Collector.Receiving.Metrics;
using PerfOtel.Exporter;

namespace PerfOtel.Collector.Exposure.Metrics;

/// <summary>
/// Writes the GenAI and <c>perfotel.*</c> metrics pushed over OTLP into every scrape of the collector's /metrics, named,
/// labelled and formatted by PerfOtel.Exporter exactly as the exporter writes the same instruments of a .NET process
/// (docs/collector/otlp-metrics.md).
/// </summary>
internal sealed class OtlpMetricsExposition(LiveMetricSeries series) : IPrometheusMetricProducer
{
    public void Produce(PrometheusProducerWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        series.Write(writer);
    }
}

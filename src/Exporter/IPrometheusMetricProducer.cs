namespace PerfOtel.Exporter;

/// <summary>
/// A source of gauge families written straight into every scrape, after the MeterProvider's metrics. For values a
/// service already keeps in memory and exposes by the ten thousand (derived per-entity gauges), where observable
/// instruments would copy every value through the SDK's aggregation on each collection: a producer can keep its
/// samples encoded and hand them over as bytes. Register it in <see cref="PerfOtelPrometheusExporterOptions.Producers"/>.
/// </summary>
/// <remarks>
/// Producer families carry no <c>otel_scope_*</c> labels (they come from no instrumentation scope). A family whose
/// name the MeterProvider's metrics or an earlier producer already use is left out of the scrape and reported through
/// the exporter's EventSource. An exception thrown by a producer drops that producer's output from the scrape only.
/// </remarks>
public interface IPrometheusMetricProducer
{
    /// <summary>Writes this producer's families. Called once per collection, never concurrently for one exporter.</summary>
    /// <param name="writer">Where the families go.</param>
    void Produce(PrometheusProducerWriter writer);
}

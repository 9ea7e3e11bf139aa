using PerfOtel.Collector.Derived.Coordination;
using PerfOtel.Collector.Derived.Experiments;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Exporter;
using PerfOtel.Collector.Telemetry;
using C = PerfOtel.Collector.Telemetry.CostMetricCatalog;

namespace PerfOtel.Collector.Exposure.Metrics;

/// <summary>
/// Writes <see cref="CostMetricCatalog.ExperimentDuration"/> into every scrape: per (tenant, experiment, variant) the
/// cumulative histogram of its invocations' durations, one <c>le</c> per upper bound of the one log-bucketed
/// <see cref="LatencyHistogram"/> (1 ms, then 10 % apart; <see cref="LatencyHistogram.UpperBounds"/>) and <c>+Inf</c>,
/// with <c>_sum</c> and <c>_count</c>. Every replica writes the same bounds, formatted by PerfOtel.Exporter as it
/// formats <c>le</c> everywhere, so <c>sum by (le, tenant, experiment, variant)</c> adds replicas bucket by bucket and
/// <c>histogram_quantile</c> over it equals one collector's (docs/collector/experiments.md, "Latency histogram").
/// A histogram is a producer family, not an SDK instrument: the SDK has no observable histogram. A variant without
/// invocations has no series.
/// </summary>
internal sealed class ExperimentLatencyExposition(ExperimentRegistry registry, DerivationRole? role = null) : IPrometheusMetricProducer
{
    private static readonly PrometheusMetricFamily Family = new(C.ExperimentDuration.Name, C.ExperimentDuration.Unit,
        C.ExperimentDuration.Description, PrometheusMetricKind.Histogram);

    private static readonly double[] Bounds = [.. LatencyHistogram.UpperBounds];

    public void Produce(PrometheusProducerWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (role is { IsDeriving: false })
        {
            return; // a replica that does not derive exposes no derived series (docs/collector/scale-out.md)
        }
        writer.BeginFamily(Family);
        foreach (var tenant in registry.Tenants().Union(registry.Options.Definitions.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            foreach (var experiment in registry.Reports(tenant))
            {
                foreach (var variant in experiment.Variants)
                {
                    var histogram = variant.LatencyHistogram;
                    if (histogram.Count == 0)
                    {
                        continue;
                    }
                    var labels = PrometheusLabels.Encode(
                        new(C.TenantLabel, tenant), new(C.ExperimentLabel, experiment.Experiment), new(C.VariantLabel, variant.Variant));
                    writer.WriteHistogram(labels, Bounds, [.. histogram.Counts], histogram.SumSeconds, histogram.Count, created: null);
                }
            }
        }
    }
}

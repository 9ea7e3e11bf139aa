using System.Buffers;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Derived.Analytics;
using PerfOtel.Collector.Derived.Thresholds;
using PerfOtel.Exporter;
using PerfOtel.Collector.Telemetry;
using C = PerfOtel.Collector.Telemetry.ThresholdMetricCatalog;

namespace PerfOtel.Collector.Exposure.Metrics;

/// <summary>
/// Writes <c>perfotel_threshold</c> into every scrape: the section-wide set, each configured tenant's and each configured
/// agent's effective set (<see cref="ThresholdMetricCatalog"/> describes the labels). Configuration is read once at
/// start-up, so the lines are encoded once.
/// </summary>
internal sealed class ThresholdExposition : IPrometheusMetricProducer
{
    private static readonly PrometheusGaugeFamily Family = new(C.Threshold.Name, C.Threshold.Unit, C.Threshold.Description);

    private readonly byte[] samples;

    public ThresholdExposition(IOptions<ThresholdOptions> thresholds, IOptions<AnalyticsOptions> analytics)
    {
        var options = thresholds.Value;
        var anomaly = analytics.Value.AnomalyThreshold;
        var buffer = new ArrayBufferWriter<byte>(4096);
        Write(buffer, [], options.SectionWide(), anomaly);
        foreach (var (tenant, overrides) in options.Tenants.Where(t => t.Value is not null).OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            Write(buffer, [new(C.TenantLabel, tenant)], options.For(tenant), anomaly);
            foreach (var agent in overrides.Agents.Where(a => a.Value is not null).Select(a => a.Key).Order(StringComparer.Ordinal))
            {
                Write(buffer, [new(C.TenantLabel, tenant), new(C.AgentLabel, agent)], options.For(tenant, agent), anomaly);
            }
        }
        samples = buffer.WrittenSpan.ToArray();
    }

    public void Produce(PrometheusProducerWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.BeginFamily(Family);
        writer.WriteSamples(samples);
    }

    private static void Write(IBufferWriter<byte> buffer, KeyValuePair<string, string>[] scope, ThresholdSet set, double anomaly)
    {
        foreach (var row in ThresholdSeries.All)
        {
            var labels = PrometheusLabels.Encode([.. scope, new(C.MetricLabel, row.Metric), new(C.LevelLabel, row.Level)]);
            Family.WriteSample(buffer, labels, row.Value(set, anomaly));
        }
    }
}

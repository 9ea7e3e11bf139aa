using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Exposure.Metrics;

namespace PerfOtel.Collector.Derived.Experiments;

/// <summary>Cumulative additive statistics of one variant. Not thread-safe: the registry locks.</summary>
internal sealed class VariantStats
{
    public long Invocations { get; set; }
    public long Successes { get; set; }
    public LogLatencyHistogram Latency { get; } = new();
    public long PricedInvocations { get; set; }
    public double CostUsd { get; set; }
    public long UnpricedInvocations { get; set; }
    public long QualitySamples { get; set; }
    public double QualitySum { get; set; }
    public long AccuracySamples { get; set; }
    public double AccuracySum { get; set; }
}

using PerfOtel.Collector.Derived.Experiments.Statistics;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Derived.Experiments;

/// <summary>Cumulative additive statistics of one variant. Not thread-safe: the registry locks.</summary>
internal sealed class VariantStats
{
    public long Invocations { get; set; }
    public long Successes { get; set; }
    public LatencyHistogram Latency { get; } = new();
    public MeanSums LatencySums { get; set; }
    public long PricedInvocations => CostSums.Count;
    public MeanSums CostSums { get; set; }
    public long UnpricedInvocations { get; set; }
    public MeanSums QualitySums { get; set; }
    public MeanSums AccuracySums { get; set; }
}

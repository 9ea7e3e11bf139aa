using PerfOtel.Collector.Derived.Kernel;
namespace PerfOtel.Collector.Derived.Analytics.Windows;

/// <summary>
/// What the anomaly series need from one time bucket: a few sums, copied out of the ring so a report can be derived
/// outside the agent's lock, and added across agents for the tenant's series.
/// </summary>
internal readonly record struct BucketPoint(long Invocations, long Successes, double DurationSumSeconds, long ProviderCalls, double CostUsd)
{
    public static BucketPoint Of(WindowStats stats) =>
        new(stats.Invocations, stats.Successes, stats.DurationSumSeconds, stats.ProviderCalls, stats.CostUsd);

    public static BucketPoint operator +(BucketPoint a, BucketPoint b) =>
        new(a.Invocations + b.Invocations, a.Successes + b.Successes, a.DurationSumSeconds + b.DurationSumSeconds,
            a.ProviderCalls + b.ProviderCalls, a.CostUsd + b.CostUsd);
}

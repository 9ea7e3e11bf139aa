using PerfOtel.Collector.Derived.Kernel;
namespace PerfOtel.Collector.Derived.Analytics.Formulas;

/// <summary>
/// Efficiency score: latency against the limit combined with quality, as a product in [0, 1]:
/// <c>efficiency = l * q</c>, where l = clamp((2T - p95) / T, 0, 1) is the latency term of the health score and q the
/// quality: the mean accuracy when accuracy samples exist, else the success rate. A fast agent that is wrong and a
/// right agent that is too slow both score low; the product keeps either from hiding the other.
/// </summary>
public static class EfficiencyScore
{
    /// <summary>The efficiency score; null without invocations.</summary>
    public static double? Compute(double? p95Seconds, double limitSeconds, double? accuracy, double? successRate)
    {
        if (p95Seconds is not { } p95 || (accuracy ?? successRate) is not { } quality)
        {
            return null;
        }
        return HealthScore.LatencyTerm(p95, limitSeconds) * Math.Clamp(quality, 0.0, 1.0);
    }
}

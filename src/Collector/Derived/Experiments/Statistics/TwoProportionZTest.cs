using PerfOtel.Collector.Exposure.Metrics;
namespace PerfOtel.Collector.Derived.Experiments.Statistics;

/// <summary>The result of a two-proportion z-test.</summary>
/// <param name="Z">(p1 - p2) / SE with the pooled standard error; positive when the first proportion is higher.</param>
/// <param name="PValue">Two-sided p-value.</param>
public readonly record struct ZTestResult(double Z, double PValue);

/// <summary>
/// The pooled two-proportion z-test: p = (x1 + x2) / (n1 + n2), SE = sqrt(p (1 - p) (1/n1 + 1/n2)),
/// z = (x1/n1 - x2/n2) / SE, two-sided p-value = erfc(|z| / sqrt 2). The normal approximation holds when every cell
/// (successes and failures of each group) is about 5 or more, which the minimum sample per variant ensures in practice.
/// </summary>
public static class TwoProportionZTest
{
    /// <summary>Tests x1 successes of n1 against x2 of n2; null when a group is empty.</summary>
    /// <remarks>When every trial of both groups succeeded (or every one failed) the proportions are equal and the
    /// pooled SE is 0: the result is z = 0, p = 1 (no evidence of a difference).</remarks>
    public static ZTestResult? Test(long x1, long n1, long x2, long n2)
    {
        if (n1 <= 0 || n2 <= 0 || x1 < 0 || x2 < 0 || x1 > n1 || x2 > n2)
        {
            return null;
        }
        var p1 = (double)x1 / n1;
        var p2 = (double)x2 / n2;
        var pooled = (double)(x1 + x2) / (n1 + n2);
        var standardError = Math.Sqrt(pooled * (1 - pooled) * ((1.0 / n1) + (1.0 / n2)));
        if (standardError == 0)
        {
            return new ZTestResult(0, 1);
        }
        var z = (p1 - p2) / standardError;
        return new ZTestResult(z, NormalDistribution.TwoSidedPValue(z));
    }
}

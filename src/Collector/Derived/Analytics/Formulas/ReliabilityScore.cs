using PerfOtel.Collector.Derived.Kernel;
namespace PerfOtel.Collector.Derived.Analytics.Formulas;

/// <summary>
/// Reliability score: the Wilson score lower bound of the success rate at 95 % confidence (z = 1.959964),
/// <c>(p + z^2/(2n) - z * sqrt(p(1-p)/n + z^2/(4n^2))) / (1 + z^2/n)</c> with p = successes / n.
/// It is the success rate we can be 95 % sure the agent at least achieves: a few lucky successes score low, a long
/// record scores close to the observed rate. In [0, 1]; null without invocations.
/// </summary>
public static class ReliabilityScore
{
    /// <summary>The two-sided 95 % normal quantile.</summary>
    public const double Z95 = 1.959963984540054;

    /// <summary>Wilson lower bound; null when n = 0.</summary>
    public static double? WilsonLowerBound(long successes, long invocations, double z = Z95)
    {
        if (invocations <= 0)
        {
            return null;
        }
        double n = invocations;
        var p = successes / n;
        var z2 = z * z;
        var centre = p + z2 / (2 * n);
        var margin = z * Math.Sqrt(p * (1 - p) / n + z2 / (4 * n * n));
        return Math.Max(0.0, (centre - margin) / (1 + z2 / n));
    }
}

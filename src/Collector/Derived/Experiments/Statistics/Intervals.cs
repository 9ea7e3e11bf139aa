namespace PerfOtel.Collector.Derived.Experiments.Statistics;

/// <summary>An estimate with its two-sided confidence interval.</summary>
public readonly record struct Interval(double Estimate, double Lower, double Upper)
{
    /// <summary>Whether the interval excludes <paramref name="value"/> (e.g. 0 for a difference).</summary>
    public bool Excludes(double value) => value < Lower || value > Upper;
}

/// <summary>
/// Confidence intervals of the experiment analysis, each formula in one place (docs/collector/experiments.md has the
/// hand-worked examples the tests check). <c>z</c> is the two-sided normal quantile of the confidence level
/// (<see cref="NormalDistribution.Quantile"/>; 1.959964 for 95 %).
/// </summary>
public static class Intervals
{
    /// <summary>
    /// Wilson score interval of a proportion <c>x / n</c>:
    /// <c>(p + z²/2n ± z sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)</c>. Unlike the Wald interval it stays inside [0, 1]
    /// and keeps its coverage near 0 and 1 and for small n. Null for n = 0.
    /// </summary>
    public static Interval? Wilson(long x, long n, double z)
    {
        if (n <= 0 || x < 0 || x > n)
        {
            return null;
        }
        var p = (double)x / n;
        var z2 = z * z;
        var denominator = 1 + (z2 / n);
        var centre = (p + (z2 / (2.0 * n))) / denominator;
        var half = z * Math.Sqrt((p * (1 - p) / n) + (z2 / (4.0 * n * n))) / denominator;
        return new Interval(p, Math.Max(0, centre - half), Math.Min(1, centre + half));
    }

    /// <summary>
    /// Difference of two proportions <c>p1 - p2</c> with Newcombe's hybrid score interval (method 10 of Newcombe 1998):
    /// from the Wilson limits (l1, u1) and (l2, u2), <c>d - sqrt((p1-l1)² + (u2-p2)²)</c> to
    /// <c>d + sqrt((u1-p1)² + (p2-l2)²)</c>. Null when either group is empty.
    /// </summary>
    public static Interval? ProportionDifference(long x1, long n1, long x2, long n2, double z)
    {
        if (Wilson(x1, n1, z) is not { } first || Wilson(x2, n2, z) is not { } second)
        {
            return null;
        }
        var (p1, l1, u1) = first;
        var (p2, l2, u2) = second;
        var d = p1 - p2;
        return new Interval(d,
            d - Math.Sqrt(((p1 - l1) * (p1 - l1)) + ((u2 - p2) * (u2 - p2))),
            d + Math.Sqrt(((u1 - p1) * (u1 - p1)) + ((p2 - l2) * (p2 - l2))));
    }

    /// <summary>
    /// Relative lift <c>p1/p2 - 1</c> of two proportions with the log risk-ratio (Katz) interval:
    /// <c>exp(ln(p1/p2) ± z sqrt(1/x1 - 1/n1 + 1/x2 - 1/n2)) - 1</c>. With a zero count, 0.5 is added to each count and
    /// each group size (the usual continuity correction). Null when a group is empty or the baseline and the
    /// corrected rate are both zero.
    /// </summary>
    public static Interval? ProportionLift(long x1, long n1, long x2, long n2, double z)
    {
        if (n1 <= 0 || n2 <= 0 || x1 < 0 || x2 < 0 || x1 > n1 || x2 > n2)
        {
            return null;
        }
        double a = x1, b = n1, c = x2, d = n2;
        if (x1 == 0 || x2 == 0)
        {
            a += 0.5; b += 0.5; c += 0.5; d += 0.5;
        }
        var logRatio = Math.Log(a / b) - Math.Log(c / d);
        var se = Math.Sqrt((1 / a) - (1 / b) + (1 / c) - (1 / d));
        return new Interval(((double)x1 / n1 / ((double)x2 / n2)) - 1, Math.Exp(logRatio - (z * se)) - 1, Math.Exp(logRatio + (z * se)) - 1);
    }

    /// <summary>
    /// Mean of a sample from its mergeable sums (count, sum, sum of squares) with the normal interval
    /// <c>mean ± z s / sqrt(n)</c>, s the sample standard deviation. At the sample sizes an experiment decides on
    /// (hundreds per variant) the t and normal quantiles agree to within 1 %; the normal keeps the formula closed.
    /// Null below two samples.
    /// </summary>
    public static Interval? Mean(in MeanSums sums, double z)
    {
        if (sums.Count < 2)
        {
            return null;
        }
        var se = Math.Sqrt(sums.Variance / sums.Count);
        return new Interval(sums.Mean, sums.Mean - (z * se), sums.Mean + (z * se));
    }

    /// <summary>
    /// Difference of two means <c>m1 - m2</c> with Welch's (unequal variances) normal interval
    /// <c>d ± z sqrt(s1²/n1 + s2²/n2)</c>. Null when either group has fewer than two samples.
    /// </summary>
    public static Interval? MeanDifference(in MeanSums first, in MeanSums second, double z)
    {
        if (first.Count < 2 || second.Count < 2)
        {
            return null;
        }
        var d = first.Mean - second.Mean;
        var se = Math.Sqrt((first.Variance / first.Count) + (second.Variance / second.Count));
        return new Interval(d, d - (z * se), d + (z * se));
    }

    /// <summary>
    /// Relative lift <c>m1/m2 - 1</c> of two positive means (latency, cost) with the delta-method interval of the log
    /// ratio: <c>exp(ln(m1/m2) ± z sqrt(s1²/(n1 m1²) + s2²/(n2 m2²))) - 1</c>. Null when a mean is not positive or a
    /// group has fewer than two samples.
    /// </summary>
    public static Interval? MeanLift(in MeanSums first, in MeanSums second, double z)
    {
        if (first.Count < 2 || second.Count < 2 || !(first.Mean > 0) || !(second.Mean > 0))
        {
            return null;
        }
        var logRatio = Math.Log(first.Mean / second.Mean);
        var se = Math.Sqrt((first.Variance / (first.Count * first.Mean * first.Mean)) +
            (second.Variance / (second.Count * second.Mean * second.Mean)));
        return new Interval((first.Mean / second.Mean) - 1, Math.Exp(logRatio - (z * se)) - 1, Math.Exp(logRatio + (z * se)) - 1);
    }

    /// <summary>
    /// Ranks (1-based, within [1, n]) bounding the <paramref name="q"/> quantile of n samples with confidence given by
    /// <paramref name="z"/>: <c>floor(nq - z sqrt(nq(1-q)))</c> and <c>ceil(nq + z sqrt(nq(1-q))) + 1</c>. The number of
    /// samples below the true quantile is Binomial(n, q), so the order statistics at these ranks bracket it whatever
    /// the latency distribution (a distribution-free interval, read off the stored latency histogram; no bootstrap and
    /// no normality assumption, which latency tails break). Null for n = 0.
    /// </summary>
    public static (long Lower, long Upper)? QuantileRanks(long n, double q, double z)
    {
        if (n <= 0 || !(q is > 0 and < 1))
        {
            return null;
        }
        var centre = n * q;
        var half = z * Math.Sqrt(n * q * (1 - q));
        var lower = (long)Math.Floor(centre - half);
        var upper = (long)Math.Ceiling(centre + half) + 1;
        return (Math.Clamp(lower, 1, n), Math.Clamp(upper, 1, n));
    }
}

/// <summary>Mergeable sums of a sample: count, sum and sum of squares (replicas add them up).</summary>
public readonly record struct MeanSums(long Count, double Sum, double SumOfSquares)
{
    public double Mean => Count == 0 ? double.NaN : Sum / Count;

    /// <summary>Sample variance <c>(Σx² - (Σx)²/n) / (n - 1)</c>, never negative (rounding).</summary>
    public double Variance => Count < 2 ? double.NaN : Math.Max(0, (SumOfSquares - (Sum * Sum / Count)) / (Count - 1));

    public MeanSums Add(double value) => new(Count + 1, Sum + value, SumOfSquares + (value * value));

    public static MeanSums operator +(MeanSums a, MeanSums b) => new(a.Count + b.Count, a.Sum + b.Sum, a.SumOfSquares + b.SumOfSquares);
}

namespace PerfOtel.Collector.Derived.Experiments.Statistics;

/// <summary>The sample-ratio-mismatch check of one experiment.</summary>
/// <param name="ChiSquare">Pearson's statistic <c>Σ (observed - expected)² / expected</c>.</param>
/// <param name="DegreesOfFreedom">Variants with a positive intended weight, minus one.</param>
/// <param name="PValue">Upper tail of the chi-square distribution at the statistic.</param>
/// <param name="Mismatch">Whether the p-value is below the threshold: the split is not what was intended, so every
/// comparison of the experiment is untrustworthy (a bug in assignment, logging or filtering, not an effect).</param>
public sealed record SampleRatioCheck(double ChiSquare, int DegreesOfFreedom, double PValue, bool Mismatch);

/// <summary>
/// Chi-square goodness-of-fit of the observed variant counts against the intended weights. The default threshold,
/// p &lt; 0.001, is the one commonly used for SRM: strict, because a mismatch invalidates the whole experiment and the
/// check runs on every refresh.
/// </summary>
public static class SampleRatioMismatch
{
    public const double DefaultThreshold = 0.001;

    /// <summary>Null without observations or with fewer than two variants of positive weight.</summary>
    public static SampleRatioCheck? Check(IReadOnlyList<long> observed, IReadOnlyList<double> weights, double threshold = DefaultThreshold)
    {
        ArgumentNullException.ThrowIfNull(observed);
        ArgumentNullException.ThrowIfNull(weights);
        if (observed.Count != weights.Count)
        {
            throw new ArgumentException("One weight per observed count is needed.", nameof(weights));
        }
        var total = observed.Sum();
        var weightSum = weights.Where(w => w > 0).Sum();
        var cells = weights.Count(w => w > 0);
        if (total == 0 || cells < 2 || !(weightSum > 0))
        {
            return null;
        }
        var chiSquare = 0.0;
        for (var i = 0; i < observed.Count; i++)
        {
            if (weights[i] > 0)
            {
                var expected = total * weights[i] / weightSum;
                chiSquare += (observed[i] - expected) * (observed[i] - expected) / expected;
            }
            else if (observed[i] > 0)
            {
                // Traffic where none was intended is a mismatch whatever its size.
                return new SampleRatioCheck(double.PositiveInfinity, cells - 1, 0, true);
            }
        }
        var p = ChiSquareDistribution.UpperTail(chiSquare, cells - 1);
        return new SampleRatioCheck(chiSquare, cells - 1, p, p < threshold);
    }
}

/// <summary>The chi-square distribution's upper tail, through the regularized incomplete gamma function.</summary>
public static class ChiSquareDistribution
{
    /// <summary>P(X &gt;= x) for X ~ chi-square with k degrees of freedom: Q(k/2, x/2).</summary>
    public static double UpperTail(double x, int degreesOfFreedom)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(degreesOfFreedom, 1);
        return x <= 0 ? 1 : IncompleteGamma.UpperRegularized(degreesOfFreedom / 2.0, x / 2);
    }

    /// <summary>
    /// The statistic whose upper tail is <paramref name="tail"/>: the SRM check flags a chi-square above it. Exposed so
    /// that a recording rule can compare the chi-square of counts summed over replicas with it (PromQL has no
    /// chi-square distribution). Bisection on <see cref="UpperTail"/>, which falls monotonically, to 1e-9 relative.
    /// </summary>
    public static double CriticalValue(int degreesOfFreedom, double tail)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(degreesOfFreedom, 1);
        if (!(tail is > 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(tail), tail, "The tail must lie in (0, 1).");
        }
        double low = 0, high = 1;
        while (UpperTail(high, degreesOfFreedom) > tail)
        {
            high *= 2;
        }
        while (high - low > 1e-9 * high)
        {
            var middle = (low + high) / 2;
            (UpperTail(middle, degreesOfFreedom) > tail ? ref low : ref high) = middle;
        }
        return (low + high) / 2;
    }
}

/// <summary>The regularized incomplete gamma functions P(a, x) and Q(a, x) = 1 - P(a, x).</summary>
public static class IncompleteGamma
{
    private const int MaxIterations = 1000;
    private const double Epsilon = 1e-15;

    /// <summary>
    /// Q(a, x): by the power series of P for x &lt; a + 1, else by the continued fraction of Q (evaluated with the
    /// modified Lentz method); both converge fast in their own region.
    /// </summary>
    public static double UpperRegularized(double a, double x)
    {
        if (!(a > 0) || x < 0 || double.IsNaN(x))
        {
            return double.NaN;
        }
        if (x == 0)
        {
            return 1;
        }
        if (double.IsPositiveInfinity(x))
        {
            return 0;
        }
        var logPrefix = (a * Math.Log(x)) - x - Analytics.Formulas.IncompleteBeta.LogGamma(a);
        if (x < a + 1)
        {
            // P(a, x) = x^a e^-x / Gamma(a+1) * sum_n x^n / ((a+1)...(a+n))
            var term = 1 / a;
            var sum = term;
            for (var n = 1; n < MaxIterations; n++)
            {
                term *= x / (a + n);
                sum += term;
                if (Math.Abs(term) < Math.Abs(sum) * Epsilon)
                {
                    break;
                }
            }
            return Math.Max(0, 1 - (sum * Math.Exp(logPrefix)));
        }

        // Q(a, x) = x^a e^-x / Gamma(a) * 1 / (x + 1 - a - 1(1-a)/(x + 3 - a - 2(2-a)/(x + 5 - a - ...)))
        const double tiny = 1e-300;
        var b = x + 1 - a;
        var c = 1 / tiny;
        var d = 1 / b;
        var h = d;
        for (var i = 1; i < MaxIterations; i++)
        {
            var an = -i * (i - a);
            b += 2;
            d = (an * d) + b;
            d = Math.Abs(d) < tiny ? tiny : d;
            c = b + (an / c);
            c = Math.Abs(c) < tiny ? tiny : c;
            d = 1 / d;
            var delta = d * c;
            h *= delta;
            if (Math.Abs(delta - 1) < Epsilon)
            {
                break;
            }
        }
        return Math.Exp(logPrefix) * h;
    }
}

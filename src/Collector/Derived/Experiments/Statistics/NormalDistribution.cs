namespace PerfOtel.Collector.Derived.Experiments.Statistics;

/// <summary>The standard normal distribution, through a complementary error function accurate to 1.2e-7 relative.</summary>
public static class NormalDistribution
{
    /// <summary>
    /// Worst relative error of <see cref="Erfc"/> (and so of two-sided p-values) for every argument: the Chebyshev
    /// fit erfc(x) ~ t exp(-x^2 + P(t)), t = 1 / (1 + x/2), of Press et al., Numerical Recipes, section 6.2.
    /// </summary>
    public const double ErfcRelativeErrorBound = 1.2e-7;

    /// <summary>The complementary error function erfc(x) = 1 - erf(x).</summary>
    public static double Erfc(double x)
    {
        if (double.IsNaN(x))
        {
            return double.NaN;
        }
        var z = Math.Abs(x);
        var t = 1 / (1 + (0.5 * z));
        // Horner form of the degree-9 polynomial P(t) of the fit.
        var polynomial = -1.26551223 + (t * (1.00002368 + (t * (0.37409196 + (t * (0.09678418 +
            (t * (-0.18628806 + (t * (0.27886807 + (t * (-1.13520398 + (t * (1.48851587 +
            (t * (-0.82215223 + (t * 0.17087277)))))))))))))))));
        var tail = t * Math.Exp((-z * z) + polynomial);
        return x >= 0 ? tail : 2 - tail;
    }

    /// <summary>The cumulative distribution function Phi(z) = erfc(-z / sqrt 2) / 2.</summary>
    public static double Cdf(double z) => 0.5 * Erfc(-z / Math.Sqrt(2));

    /// <summary>
    /// The quantile function Phi^-1(p), by bisection on <see cref="Cdf"/> (so as accurate as it: about 1e-7). Called
    /// once per configured confidence level, never per request. 1.959964 for 0.975.
    /// </summary>
    public static double Quantile(double p)
    {
        if (!(p is > 0 and < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(p), p, "A probability strictly between 0 and 1 is needed.");
        }
        double low = -40, high = 40;
        for (var i = 0; i < 200 && high - low > 1e-12; i++)
        {
            var middle = (low + high) / 2;
            if (Cdf(middle) < p)
            {
                low = middle;
            }
            else
            {
                high = middle;
            }
        }
        return (low + high) / 2;
    }

    /// <summary>The two-sided p-value of a standard normal statistic: P(|Z| &gt;= |z|) = erfc(|z| / sqrt 2).</summary>
    public static double TwoSidedPValue(double z) => Erfc(Math.Abs(z) / Math.Sqrt(2));
}

namespace PerfOtel.Collector.Derived.Experiments.Statistics;

/// <summary>
/// An always-valid test of "no difference" that may be looked at after every invocation: the mixture sequential
/// probability ratio test (mSPRT) of Johari, Pekelis and Walsh ("Always valid inference", 2017) for a difference of
/// means with a normal mixing distribution N(0, τ²) over the effect. With the observed difference <c>d</c> and its
/// variance <c>V</c> (<c>s1²/n1 + s2²/n2</c>; for proportions <c>p(1-p)/n</c> per group), the likelihood ratio is
/// <c>Λ = sqrt(V / (V + τ²)) · exp(τ² d² / (2 V (V + τ²)))</c> and the always-valid p-value is <c>min(1, 1/Λ)</c>.
/// By Ville's inequality, under no difference the chance that <c>Λ</c> ever reaches <c>1/α</c>, however often it is
/// computed, is at most α: a dashboard refreshed every minute does not inflate false positives, unlike a
/// fixed-horizon z-test. The p-value is a function of the current sums only (not of the refresh history), so every
/// replica and every restart computes the same verdict. τ is the effect size the test is tuned for: the experiment's
/// minimum detectable effect (absolute), so effects near it are detected soonest.
/// </summary>
public static class MixtureSequentialTest
{
    /// <summary>The always-valid p-value; 1 when the variance is not positive (no evidence yet).</summary>
    public static double PValue(double difference, double variance, double tau)
    {
        if (!(variance > 0) || !(tau > 0) || double.IsNaN(difference))
        {
            return 1;
        }
        var tau2 = tau * tau;
        var logLambda = (0.5 * Math.Log(variance / (variance + tau2))) +
            (tau2 * difference * difference / (2 * variance * (variance + tau2)));
        return logLambda <= 0 ? 1 : Math.Min(1, Math.Exp(-logLambda));
    }

    /// <summary>The always-valid p-value of two proportions <c>x1/n1</c> against <c>x2/n2</c>; 1 when a group is empty.</summary>
    public static double ProportionPValue(long x1, long n1, long x2, long n2, double tau)
    {
        if (n1 <= 0 || n2 <= 0)
        {
            return 1;
        }
        var p1 = (double)x1 / n1;
        var p2 = (double)x2 / n2;
        return PValue(p1 - p2, (p1 * (1 - p1) / n1) + (p2 * (1 - p2) / n2), tau);
    }

    /// <summary>The always-valid p-value of two means from their sums; 1 when a group has fewer than two samples.</summary>
    public static double MeanPValue(in MeanSums first, in MeanSums second, double tau) =>
        first.Count < 2 || second.Count < 2
            ? 1
            : PValue(first.Mean - second.Mean, (first.Variance / first.Count) + (second.Variance / second.Count), tau);
}

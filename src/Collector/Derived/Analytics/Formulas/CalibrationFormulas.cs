using PerfOtel.Collector.Derived.Kernel;
namespace PerfOtel.Collector.Derived.Analytics.Formulas;

/// <summary>The additive statistics of one confidence bin: everything calibration needs, and mergeable by summing.</summary>
/// <param name="Samples">n_b, the (confidence, outcome) pairs whose confidence fell in the bin.</param>
/// <param name="ConfidenceSum">Sum of their confidences.</param>
/// <param name="Successes">How many of them turned out successful.</param>
public readonly record struct CalibrationBin(long Samples, double ConfidenceSum, long Successes)
{
    /// <summary>success rate_b; null for an empty bin.</summary>
    public double? SuccessRate => Samples == 0 ? null : (double)Successes / Samples;

    /// <summary>mean confidence_b; null for an empty bin.</summary>
    public double? MeanConfidence => Samples == 0 ? null : ConfidenceSum / Samples;

    /// <summary>Bin statistics summed (merging windows or replicas).</summary>
    public static CalibrationBin operator +(CalibrationBin a, CalibrationBin b) =>
        new(a.Samples + b.Samples, a.ConfidenceSum + b.ConfidenceSum, a.Successes + b.Successes);
}

/// <summary>Calibration of one (tenant, agent, window).</summary>
public sealed record CalibrationResult(
    long Samples,
    double ExpectedCalibrationError,
    double MaximumCalibrationError,
    double BrierScore,
    double Overconfidence);

/// <summary>
/// Calibration from (confidence, success) pairs (docs/architecture.md, Derivations), over equal-width bins:
/// <list type="bullet">
/// <item>bin of confidence c = min(floor(c * B), B - 1), c clamped to [0, 1] (so 1.0 falls in the last bin);</item>
/// <item>ECE = sum over bins of (n_b / N) * |success rate_b - mean confidence_b|
///       (= sum over bins of |successes_b - confidence sum_b| / N, which is how the mergeable counters reproduce it);</item>
/// <item>MCE = max over non-empty bins of |success rate_b - mean confidence_b|;</item>
/// <item>Brier = mean of (confidence - outcome)^2 with outcome 1 for success, else 0;</item>
/// <item>overconfidence = mean confidence - success rate (positive: the agent claims more than it achieves).</item>
/// </list>
/// Withheld (null) below the minimum sample count.
/// </summary>
public static class CalibrationFormulas
{
    /// <summary>Default number of equal-width bins.</summary>
    public const int DefaultBinCount = 10;

    /// <summary>Default minimum number of samples before calibration is reported.</summary>
    public const int DefaultMinimumSamples = 30;

    /// <summary>The bin a confidence falls in.</summary>
    public static int BinOf(double confidence, int binCount)
    {
        var clamped = Math.Clamp(confidence, 0.0, 1.0);
        return Math.Min((int)Math.Floor(clamped * binCount), binCount - 1);
    }

    /// <summary>Squared error of one pair: the Brier contribution.</summary>
    public static double SquaredError(double confidence, bool success)
    {
        var outcome = success ? 1.0 : 0.0;
        var c = Math.Clamp(confidence, 0.0, 1.0);
        return (c - outcome) * (c - outcome);
    }

    /// <summary>Calibration from bin statistics and the summed squared error; null below <paramref name="minimumSamples"/>.</summary>
    public static CalibrationResult? Compute(ReadOnlySpan<CalibrationBin> bins, double squaredErrorSum, int minimumSamples)
    {
        long total = 0;
        double confidenceSum = 0;
        long successes = 0;
        foreach (var bin in bins)
        {
            total += bin.Samples;
            confidenceSum += bin.ConfidenceSum;
            successes += bin.Successes;
        }
        if (total == 0 || total < minimumSamples)
        {
            return null;
        }

        double ece = 0, mce = 0;
        foreach (var bin in bins)
        {
            if (bin.Samples == 0)
            {
                continue;
            }
            var gap = Math.Abs(bin.SuccessRate!.Value - bin.MeanConfidence!.Value);
            ece += (double)bin.Samples / total * gap;
            mce = Math.Max(mce, gap);
        }
        var overconfidence = confidenceSum / total - (double)successes / total;
        return new CalibrationResult(total, ece, mce, squaredErrorSum / total, overconfidence);
    }
}

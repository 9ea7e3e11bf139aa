using PerfOtel.Collector.Derived.Kernel;
namespace PerfOtel.Collector.Derived.Analytics.Formulas;

/// <summary>
/// Anomaly score of the latest point of a per-minute series: an EWMA z-score. Over the points before the latest, an
/// exponentially weighted mean and variance are kept (smoothing factor alpha, the incremental form of Finch, 2009):
/// <c>d = x - mean; mean += alpha * d; var = (1 - alpha) * (var + alpha * d^2)</c>, started at the first point with
/// variance 0. The score of the latest point x is <c>(x - mean) / sqrt(var)</c>; |z| &gt;= the threshold (3 by default)
/// is an anomaly. Null until <see cref="MinimumHistory"/> earlier points exist. With zero variance (a perfectly flat
/// history) a point equal to the mean scores 0 and any other point scores +-<see cref="MaximumScore"/>, the cap that
/// keeps the gauge finite.
/// </summary>
public static class AnomalyDetector
{
    /// <summary>Default smoothing factor.</summary>
    public const double DefaultAlpha = 0.3;

    /// <summary>Default |z| threshold.</summary>
    public const double DefaultThreshold = 3.0;

    /// <summary>Earlier points needed before a score is given.</summary>
    public const int MinimumHistory = 5;

    /// <summary>Cap on |z|.</summary>
    public const double MaximumScore = 100.0;

    /// <summary>z-score of the last point of <paramref name="series"/> against the EWMA of the points before it.</summary>
    public static double? ZScore(ReadOnlySpan<double> series, double alpha = DefaultAlpha)
    {
        if (series.Length < MinimumHistory + 1)
        {
            return null;
        }
        var mean = series[0];
        var variance = 0.0;
        for (var i = 1; i < series.Length - 1; i++)
        {
            var d = series[i] - mean;
            mean += alpha * d;
            variance = (1 - alpha) * (variance + alpha * d * d);
        }
        var deviation = series[^1] - mean;
        if (variance <= 0 || double.IsNaN(variance))
        {
            return deviation == 0 ? 0 : Math.CopySign(MaximumScore, deviation);
        }
        return Math.Clamp(deviation / Math.Sqrt(variance), -MaximumScore, MaximumScore);
    }

    /// <summary>Whether a score is an anomaly.</summary>
    public static bool IsAnomaly(double? zScore, double threshold = DefaultThreshold) =>
        zScore is { } z && Math.Abs(z) >= threshold;
}

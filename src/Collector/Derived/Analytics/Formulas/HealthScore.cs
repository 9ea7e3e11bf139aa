using PerfOtel.Collector.Derived.Kernel;
namespace PerfOtel.Collector.Derived.Analytics.Formulas;

/// <summary>Health bands of the health score.</summary>
public enum HealthBand
{
    /// <summary>Below 50.</summary>
    Poor,

    /// <summary>50 up to (not including) 70.</summary>
    Fair,

    /// <summary>70 up to (not including) 90.</summary>
    Good,

    /// <summary>90 and above.</summary>
    Excellent,
}

/// <summary>
/// Health score 0-100 (docs/architecture.md, Derivations):
/// <c>100 * (40*s + 30*l + 20*(1 - e) + 10*a + 10*q) / (40 + 30 + 20 + 10*[accuracy known] + 10*[quality known])</c>,
/// with s the success rate, e the error rate, a the mean accuracy and q the mean quality (each term and its weight
/// dropped when the window has no sample of it) and l = clamp((2T - p95) / T, 0, 1), p95 the invocation latency and T
/// the p95 latency limit.
/// </summary>
public static class HealthScore
{
    /// <summary>The latency term l = clamp((2T - p95) / T, 0, 1): 1 up to the limit, falling to 0 at twice the limit.</summary>
    public static double LatencyTerm(double p95Seconds, double limitSeconds) =>
        Math.Clamp((2 * limitSeconds - p95Seconds) / limitSeconds, 0.0, 1.0);

    /// <summary>The health score in [0, 100].</summary>
    public static double Compute(double successRate, double errorRate, double p95Seconds, double limitSeconds, double? accuracy,
        double? quality = null)
    {
        var l = LatencyTerm(p95Seconds, limitSeconds);
        var weighted = 40 * successRate + 30 * l + 20 * (1 - errorRate);
        var weights = 40.0 + 30 + 20;
        if (accuracy is { } a)
        {
            weighted += 10 * a;
            weights += 10;
        }
        if (quality is { } q)
        {
            weighted += 10 * q;
            weights += 10;
        }
        return 100 * weighted / weights;
    }

    /// <summary>Band of a score: 90+ excellent, 70 to below 90 good, 50 to below 70 fair, below 50 poor.</summary>
    public static HealthBand BandOf(double score) => score switch
    {
        >= 90 => HealthBand.Excellent,
        >= 70 => HealthBand.Good,
        >= 50 => HealthBand.Fair,
        _ => HealthBand.Poor,
    };

    /// <summary>The band's name as it appears in reports: excellent, good, fair, poor.</summary>
    public static string NameOf(HealthBand band) => band switch
    {
        HealthBand.Excellent => "excellent",
        HealthBand.Good => "good",
        HealthBand.Fair => "fair",
        _ => "poor",
    };
}

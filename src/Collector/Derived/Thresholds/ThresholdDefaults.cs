namespace PerfOtel.Collector.Derived.Thresholds;

/// <summary>
/// The default alert thresholds of docs/architecture.md (Default alert thresholds), in one place: the collector's alerts and health score use them,
/// and the Prometheus rules must carry the same numbers.
/// </summary>
public static class ThresholdDefaults
{
    /// <summary>Success rate below this is critical (80 %).</summary>
    public const double MinSuccessRate = 0.80;

    /// <summary>Error rate above this is a warning (15 %).</summary>
    public const double MaxErrorRate = 0.15;

    /// <summary>p95 invocation latency above this is a warning; also the limit T of the health score (5 s).</summary>
    public const double MaxLatencyP95Seconds = 5.0;

    /// <summary>Cost per invocation above this is a warning (1 USD).</summary>
    public const double MaxCostPerInvocationUsd = 1.0;

    /// <summary>Accuracy below this is critical (70 %).</summary>
    public const double MinAccuracy = 0.70;

    /// <summary>Tokens per invocation above this is a warning (5000).</summary>
    public const double MaxTokensPerInvocation = 5000;

    /// <summary>Budget use at or above this share is a warning (80 %).</summary>
    public const double BudgetWarningRatio = 0.80;

    /// <summary>Budget use at or above this share is critical (100 %).</summary>
    public const double BudgetCriticalRatio = 1.00;

    /// <summary>Hourly cost above this multiple of its 7-day hourly average is a warning (3x).</summary>
    public const double HourlyCostSpikeFactor = 3.0;

    /// <summary>An agent process's resident memory above this many megabytes (1 MB = 2^20 bytes) is critical (1 024).</summary>
    public const double MaxProcessMemoryMegabytes = 1024;

    /// <summary>An agent process using more than this share of its CPUs is saturated: a warning (90 %).</summary>
    public const double MaxProcessCpuUtilization = 0.90;
}

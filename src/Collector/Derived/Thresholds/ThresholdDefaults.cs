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

    /// <summary>Mean quality (<c>perfotel.quality</c>) below this is a warning (70 %).</summary>
    public const double MinQuality = 0.70;

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

    /// <summary>A run whose confidence is below this gets the low_confidence warning (0.5).</summary>
    public const double MinRunConfidence = 0.5;

    /// <summary>A run whose quality is below this gets the quality_concern warning (0.7); accuracy uses MinAccuracy.</summary>
    public const double MinRunQuality = 0.7;

    /// <summary>A run with more retried provider calls than this gets the many_retries warning (2).</summary>
    public const double MaxRunRetries = 2;

    /// <summary>A run longer than this multiple of its agent's p95 gets the slow_execution warning (1x).</summary>
    public const double SlowRunFactor = 1.0;

    /// <summary>An agent that sent nothing for this long is idle (15 minutes).</summary>
    public const double AgentIdleAfterSeconds = 900;

    /// <summary>An agent that sent nothing for this long is silent (1 hour); also the PerfOtelAgentSilent alert's default.</summary>
    public const double AgentSilentAfterSeconds = 3600;

    /// <summary>Mean response time at or below this is excellent (5 s).</summary>
    public const double ResponseTimeExcellentSeconds = 5;

    /// <summary>Mean response time at or below this is good (10 s).</summary>
    public const double ResponseTimeGoodSeconds = 10;

    /// <summary>Mean response time at or below this is acceptable, above it poor (20 s).</summary>
    public const double ResponseTimeAcceptableSeconds = 20;

    /// <summary>Tokens per run at or below this are excellent (1 000).</summary>
    public const double TokensPerRunExcellent = 1000;

    /// <summary>Tokens per run at or below this are good (2 000).</summary>
    public const double TokensPerRunGood = 2000;

    /// <summary>Tokens per run at or below this are acceptable, above it poor (4 000).</summary>
    public const double TokensPerRunAcceptable = 4000;

    /// <summary>Steps per run at or below this are excellent (3).</summary>
    public const double StepsPerRunExcellent = 3;

    /// <summary>Steps per run at or below this are good (5).</summary>
    public const double StepsPerRunGood = 5;

    /// <summary>Steps per run at or below this are acceptable, above it poor (8).</summary>
    public const double StepsPerRunAcceptable = 8;
}

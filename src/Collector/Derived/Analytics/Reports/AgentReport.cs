namespace PerfOtel.Collector.Derived.Analytics.Reports;

/// <summary>One calibration bin of the reliability diagram.</summary>
public sealed record CalibrationBinReport(
    int Bin, double Lower, double Upper, long Samples, double ConfidenceSum, long Successes,
    double? SuccessRate, double? MeanConfidence);

/// <summary>Calibration values; the derived ones are null while withheld (fewer samples than the minimum).</summary>
public sealed record CalibrationReport(
    long Samples,
    int MinimumSamples,
    bool Withheld,
    double? ExpectedCalibrationError,
    double? MaximumCalibrationError,
    double? BrierScore,
    double? Overconfidence,
    double SquaredErrorSum,
    IReadOnlyList<CalibrationBinReport> Bins);

/// <summary>EWMA z-scores of the latest completed bucket of the per-bucket series; null until enough history.</summary>
public sealed record AnomalyReport(double? SuccessRate, double? Latency, double? Cost, double? Score, bool Anomalous);

/// <summary>Invocations and success rate of one task type.</summary>
public sealed record TaskTypeReport(string TaskType, long Invocations, long Successes, double SuccessRate);

/// <summary>
/// Everything derived for one (tenant, agent) or a whole tenant over one rolling window. Values that cannot be computed
/// (no invocation, no accuracy sample, withheld calibration, no previous window) are null.
/// </summary>
public sealed record AgentReport
{
    public required string Tenant { get; init; }
    /// <summary>The agent, or null for the tenant-wide report.</summary>
    public string? Agent { get; init; }
    public required string Window { get; init; }
    /// <summary>The agent's <c>perfotel.agent.type</c> (its latest invocation's), or null when none was given.</summary>
    public string? AgentType { get; init; }
    /// <summary>Time of the earliest record of the agent the collector holds (since start-up or its replay of the store).</summary>
    public DateTimeOffset? FirstSeen { get; init; }
    /// <summary>Time of the latest record of the agent (an invocation's end, a call's start, an evaluation's time).</summary>
    public DateTimeOffset? LastSeen { get; init; }
    /// <summary>
    /// <c>active</c>, <c>idle</c> (nothing for <c>Thresholds:AgentIdleAfterSeconds</c>) or <c>silent</c> (nothing for
    /// <c>Thresholds:AgentSilentAfterSeconds</c>), from <see cref="LastSeen"/> and the clock; see <see cref="AgentStatus"/>.
    /// </summary>
    public string? Status { get; init; }
    public required DateTimeOffset WindowStart { get; init; }
    public required DateTimeOffset WindowEnd { get; init; }

    public long Invocations { get; init; }
    public long Successes { get; init; }
    public long Failures { get; init; }
    public long Partials { get; init; }
    public double? SuccessRate { get; init; }
    public double? ErrorRate { get; init; }
    public double? LatencyMeanSeconds { get; init; }
    public double? LatencyP50Seconds { get; init; }
    public double? LatencyP95Seconds { get; init; }
    public double? LatencyP99Seconds { get; init; }
    public double DurationSumSeconds { get; init; }

    public long ProviderCalls { get; init; }
    /// <summary>Tool calls attributed to the agent in the window.</summary>
    public long ToolCalls { get; init; }
    /// <summary>Steps per run: (provider calls + tool calls) / invocations; null without invocations.</summary>
    public double? StepsPerInvocation { get; init; }
    public long Tokens { get; init; }
    public double CostUsd { get; init; }
    public double? TokensPerInvocation { get; init; }
    public double? CostPerInvocationUsd { get; init; }

    public long AccuracySamples { get; init; }
    public double AccuracySum { get; init; }
    public double? Accuracy { get; init; }

    /// <summary>Invocations in the window that carried a <c>perfotel.quality</c> score.</summary>
    public long QualitySamples { get; init; }
    public double QualitySum { get; init; }
    /// <summary>Mean <c>perfotel.quality</c> of the window's invocations, or null without a sample.</summary>
    public double? Quality { get; init; }

    public required CalibrationReport Calibration { get; init; }

    public double? HealthScore { get; init; }
    /// <summary>excellent, good, fair or poor; null without a health score.</summary>
    public string? HealthBand { get; init; }
    public double? ReliabilityScore { get; init; }
    public double? EfficiencyScore { get; init; }
    public double? SpecializationScore { get; init; }
    public string? MainTaskType { get; init; }
    public IReadOnlyList<TaskTypeReport> TaskTypes { get; init; } = [];

    public required AnomalyReport Anomaly { get; init; }

    /// <summary>
    /// Where the agent stands among its tenant's agents in the same window (benchmark categories, rank, percentile,
    /// strengths and weaknesses). Given by the REST API's agent reports; null elsewhere (gauges, tenant report).
    /// </summary>
    public PeerStanding? Standing { get; init; }

    /// <summary>Trend per metric name: -1 degrading, 0 stable, 1 improving; metrics without a trend are absent.</summary>
    public IReadOnlyDictionary<string, int> Trends { get; init; } = new Dictionary<string, int>();
}

/// <summary>Liveness of an agent from the time it was last seen.</summary>
public static class AgentStatus
{
    public const string Active = "active";
    public const string Idle = "idle";
    public const string Silent = "silent";

    /// <summary>Active while the last record is younger than idleAfter; idle until silentAfter; silent after.</summary>
    public static string? Of(DateTimeOffset? lastSeen, DateTimeOffset now, double idleAfterSeconds, double silentAfterSeconds)
    {
        if (lastSeen is not { } seen)
        {
            return null;
        }
        var quiet = (now - seen).TotalSeconds;
        return quiet >= silentAfterSeconds ? Silent : quiet >= idleAfterSeconds ? Idle : Active;
    }
}

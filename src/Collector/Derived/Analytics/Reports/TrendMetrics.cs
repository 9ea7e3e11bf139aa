namespace PerfOtel.Collector.Derived.Analytics.Reports;

/// <summary>The metrics that get a trend (values of the <c>metric</c> label of <c>perfotel_agent_trend</c>).</summary>
public static class TrendMetrics
{
    public const string HealthScore = "health_score";
    public const string SuccessRate = "success_rate";
    public const string ErrorRate = "error_rate";
    public const string LatencyP95 = "latency_p95";
    public const string Accuracy = "accuracy";
    public const string Quality = "quality";
    public const string CostPerInvocation = "cost_per_invocation";
    public const string TokensPerInvocation = "tokens_per_invocation";

    /// <summary>Every trended metric with its direction: true when a rise is an improvement.</summary>
    public static IReadOnlyList<(string Metric, bool HigherIsBetter)> All { get; } =
    [
        (HealthScore, true),
        (SuccessRate, true),
        (ErrorRate, false),
        (LatencyP95, false),
        (Accuracy, true),
        (Quality, true),
        (CostPerInvocation, false),
        (TokensPerInvocation, false),
    ];
}

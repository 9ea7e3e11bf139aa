using PerfOtel.Collector.Derived.Analytics.Reports;

namespace PerfOtel.Collector.Derived.Thresholds;

/// <summary>One threshold as Prometheus sees it: the <c>metric</c> and <c>level</c> labels of <c>perfotel_threshold</c>,
/// and its value in the unit of the series the rule compares it with.</summary>
/// <param name="Metric">Value of the <c>metric</c> label (the REST alerts' <c>metric</c> where both exist).</param>
/// <param name="Level">Value of the <c>level</c> label: <c>critical</c> or <c>warning</c>.</param>
/// <param name="Setting">The configuration setting it comes from (under <c>Thresholds</c>, or <c>Analytics:AnomalyThreshold</c>).</param>
/// <param name="Value">The value of a resolved set, converted to the compared series' unit.</param>
public sealed record ThresholdSeriesDefinition(string Metric, string Level, string Setting, Func<ThresholdSet, double, double> Value);

/// <summary>
/// Every threshold the collector exposes as <c>perfotel_threshold{tenant,agent,metric,level}</c>, in one table: the
/// exposition writes these rows, the Prometheus rules select them by <c>metric</c> and <c>level</c>, and a test checks
/// that both name the same rows.
/// </summary>
public static class ThresholdSeries
{
    public const string BudgetUtilization = "budget_utilization";
    public const string HourlyCostSpike = "hourly_cost_spike";
    public const string ProcessMemory = "process_memory";
    public const string ProcessCpuUtilization = "process_cpu_utilization";

    /// <summary>Seconds without any record after which an agent is silent: the REST agent status <c>silent</c> and the
    /// PerfOtelAgentSilent alert.</summary>
    public const string AgentSilent = AgentStatus.Silent;

    private const double BytesPerMegabyte = 1024 * 1024;

    /// <summary>Every row; the second argument of <see cref="ThresholdSeriesDefinition.Value"/> is the anomaly threshold.</summary>
    public static IReadOnlyList<ThresholdSeriesDefinition> All { get; } =
    [
        new(TrendMetrics.SuccessRate, ThresholdEvaluator.Critical, nameof(ThresholdSet.MinSuccessRate), (s, _) => s.MinSuccessRate),
        new(TrendMetrics.ErrorRate, ThresholdEvaluator.Warning, nameof(ThresholdSet.MaxErrorRate), (s, _) => s.MaxErrorRate),
        new(TrendMetrics.LatencyP95, ThresholdEvaluator.Warning, nameof(ThresholdSet.MaxLatencyP95Seconds), (s, _) => s.MaxLatencyP95Seconds),
        new(TrendMetrics.CostPerInvocation, ThresholdEvaluator.Warning, nameof(ThresholdSet.MaxCostPerInvocationUsd), (s, _) => s.MaxCostPerInvocationUsd),
        new(TrendMetrics.Accuracy, ThresholdEvaluator.Critical, nameof(ThresholdSet.MinAccuracy), (s, _) => s.MinAccuracy),
        new(TrendMetrics.Quality, ThresholdEvaluator.Warning, nameof(ThresholdSet.MinQuality), (s, _) => s.MinQuality),
        new(TrendMetrics.TokensPerInvocation, ThresholdEvaluator.Warning, nameof(ThresholdSet.MaxTokensPerInvocation), (s, _) => s.MaxTokensPerInvocation),
        new(BudgetUtilization, ThresholdEvaluator.Warning, nameof(ThresholdSet.BudgetWarningRatio), (s, _) => s.BudgetWarningRatio),
        new(BudgetUtilization, ThresholdEvaluator.Critical, nameof(ThresholdSet.BudgetCriticalRatio), (s, _) => s.BudgetCriticalRatio),
        new(HourlyCostSpike, ThresholdEvaluator.Warning, nameof(ThresholdSet.HourlyCostSpikeFactor), (s, _) => s.HourlyCostSpikeFactor),
        new(ThresholdEvaluator.AnomalyMetric, ThresholdEvaluator.Warning, "Analytics:AnomalyThreshold", (_, anomaly) => anomaly),
        new(ProcessMemory, ThresholdEvaluator.Critical, nameof(ThresholdSet.MaxProcessMemoryMegabytes), (s, _) => s.MaxProcessMemoryMegabytes * BytesPerMegabyte),
        new(ProcessCpuUtilization, ThresholdEvaluator.Warning, nameof(ThresholdSet.MaxProcessCpuUtilization), (s, _) => s.MaxProcessCpuUtilization),
        new(AgentSilent, ThresholdEvaluator.Warning, nameof(ThresholdSet.AgentSilentAfterSeconds), (s, _) => s.AgentSilentAfterSeconds),
    ];
}

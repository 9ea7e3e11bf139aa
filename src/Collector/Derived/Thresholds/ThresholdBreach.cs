using System.Globalization;
using PerfOtel.Collector.Derived.Analytics.Reports;

namespace PerfOtel.Collector.Derived.Thresholds;

/// <summary>One threshold an agent is past now.</summary>
public sealed record ThresholdBreach(
    string Tenant,
    string Agent,
    string Window,
    string Metric,
    string Level,
    double Value,
    double Threshold,
    string Comparison,
    string Message,
    string Recommendation);

/// <summary>Compares agent reports with the thresholds that apply to their tenant.</summary>
public static class ThresholdEvaluator
{
    public const string Critical = "critical";
    public const string Warning = "warning";

    /// <summary>Metric name of anomaly breaches.</summary>
    public const string AnomalyMetric = "anomaly_score";

    /// <summary>Every metric a breach can name (the alerts API's <c>metric</c> filter accepts these).</summary>
    public static IReadOnlyList<string> Metrics { get; } =
    [
        TrendMetrics.SuccessRate, TrendMetrics.ErrorRate, TrendMetrics.LatencyP95, TrendMetrics.CostPerInvocation,
        TrendMetrics.Accuracy, TrendMetrics.Quality, TrendMetrics.TokensPerInvocation, AnomalyMetric,
    ];

    /// <summary>Every breach of one report, most severe first.</summary>
    public static IReadOnlyList<ThresholdBreach> Evaluate(AgentReport report, ThresholdSet thresholds, double anomalyThreshold)
    {
        var breaches = new List<ThresholdBreach>();
        void Below(string metric, double? value, double threshold, string level, string what, string recommendation)
        {
            if (value is { } v && v < threshold)
            {
                breaches.Add(new ThresholdBreach(report.Tenant, report.Agent ?? "", report.Window, metric, level, v, threshold,
                    "<", string.Create(CultureInfo.InvariantCulture, $"{what} {v:0.###} is below {threshold:0.###}"), recommendation));
            }
        }
        void Above(string metric, double? value, double threshold, string level, string what, string recommendation)
        {
            if (value is { } v && v > threshold)
            {
                breaches.Add(new ThresholdBreach(report.Tenant, report.Agent ?? "", report.Window, metric, level, v, threshold,
                    ">", string.Create(CultureInfo.InvariantCulture, $"{what} {v:0.###} is above {threshold:0.###}"), recommendation));
            }
        }

        Below(TrendMetrics.SuccessRate, report.SuccessRate, thresholds.MinSuccessRate, Critical, "Success rate",
            "Look at the agent's failed invocations by error type and at its provider calls' errors; roll back a recent prompt, model or tool change if the drop started with it.");
        Below(TrendMetrics.Accuracy, report.Accuracy, thresholds.MinAccuracy, Critical, "Accuracy",
            "Compare predicted and actual outcomes in the feedback of the worst task types; review the prompt and the model for them, and consider routing them to a stronger agent.");
        Below(TrendMetrics.Quality, report.Quality, thresholds.MinQuality, Warning, "Quality",
            "Read the lowest-quality answers of the agent's invocations; check for a model or prompt change, thinner retrieved context or a new kind of task, and add the weak cases to the agent's evaluation set.");
        Above(TrendMetrics.ErrorRate, report.ErrorRate, thresholds.MaxErrorRate, Warning, "Error rate",
            "Group the failures by error type: provider throttling calls for retries with backoff or a fallback model, tool errors for fixing the tool.");
        Above(TrendMetrics.LatencyP95, report.LatencyP95Seconds, thresholds.MaxLatencyP95Seconds, Warning, "p95 latency (s)",
            "Check the provider calls' latency and retries; cap output tokens, cache prompts, or move latency-sensitive tasks to a faster model.");
        Above(TrendMetrics.CostPerInvocation, report.CostPerInvocationUsd, thresholds.MaxCostPerInvocationUsd, Warning, "Cost per invocation (USD)",
            "Look for retries and fallbacks that multiply calls, trim the context sent per call, and use a cheaper model for simple task types.");
        Above(TrendMetrics.TokensPerInvocation, report.TokensPerInvocation, thresholds.MaxTokensPerInvocation, Warning, "Tokens per invocation",
            "Trim conversation history and retrieved context, and limit the number of tool-call rounds per invocation.");
        if (report.Anomaly.Score is { } z && z >= anomalyThreshold)
        {
            breaches.Add(new ThresholdBreach(report.Tenant, report.Agent ?? "", report.Window, AnomalyMetric, Warning, z,
                anomalyThreshold, ">=", string.Create(CultureInfo.InvariantCulture, $"Anomaly score {z:0.##} is at or above {anomalyThreshold:0.##}"),
                "The latest bucket's success rate, latency or cost departs from the agent's recent pattern: check deployments and provider status at that time."));
        }
        return breaches.OrderBy(b => b.Level == Critical ? 0 : 1).ToList();
    }
}

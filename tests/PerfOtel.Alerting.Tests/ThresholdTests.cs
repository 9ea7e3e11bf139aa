using System.Globalization;
using System.Text.RegularExpressions;
using PerfOtel.Alerting.Tests.Assets;
using PerfOtel.Collector.Derived.Analytics.Formulas;
using PerfOtel.Collector.Derived.Budgets;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Derived.Thresholds;
using PerfOtel.Collector.Exposure.Metrics;

namespace PerfOtel.Alerting.Tests;

/// <summary>
/// The rules' thresholds (perfotel-config.rules.yaml) equal the collector's defaults, so the collector's
/// GET /api/v1/alerts and Prometheus page on the same numbers.
/// </summary>
public partial class ThresholdTests
{
    /// <summary>Each collector default and the recorded threshold that carries it.</summary>
    public static TheoryData<string, string, double> CollectorDefaults() => new()
    {
        { "threshold:perfotel_agent_success_ratio:min", "ThresholdDefaults.MinSuccessRate", ThresholdDefaults.MinSuccessRate },
        { "threshold:perfotel_agent_error_ratio:max", "ThresholdDefaults.MaxErrorRate", ThresholdDefaults.MaxErrorRate },
        { "threshold:perfotel_agent_latency_p95_seconds:max", "ThresholdDefaults.MaxLatencyP95Seconds", ThresholdDefaults.MaxLatencyP95Seconds },
        { "threshold:perfotel_agent_cost_per_invocation_usd:max", "ThresholdDefaults.MaxCostPerInvocationUsd", ThresholdDefaults.MaxCostPerInvocationUsd },
        { "threshold:perfotel_agent_accuracy:min", "ThresholdDefaults.MinAccuracy", ThresholdDefaults.MinAccuracy },
        { "threshold:perfotel_agent_tokens_per_invocation:max", "ThresholdDefaults.MaxTokensPerInvocation", ThresholdDefaults.MaxTokensPerInvocation },
        { "threshold:perfotel_budget_utilization_ratio:warning", "ThresholdDefaults.BudgetWarningRatio", ThresholdDefaults.BudgetWarningRatio },
        { "threshold:perfotel_budget_utilization_ratio:critical", "ThresholdDefaults.BudgetCriticalRatio", ThresholdDefaults.BudgetCriticalRatio },
        { "threshold:perfotel_agent_hourly_cost_spike:factor", "ThresholdDefaults.HourlyCostSpikeFactor", ThresholdDefaults.HourlyCostSpikeFactor },
        { "threshold:perfotel_agent_silent_seconds:min", "ThresholdDefaults.AgentSilentAfterSeconds", ThresholdDefaults.AgentSilentAfterSeconds },
        // Calibration gauges are withheld below this many samples; the drift alert waits for as many.
        { "threshold:perfotel_agent_calibration_samples:min", "CalibrationFormulas.DefaultMinimumSamples", CalibrationFormulas.DefaultMinimumSamples },
    };

    [Theory]
    [MemberData(nameof(CollectorDefaults))]
    public void RuleThreshold_EqualsTheCollectorDefault(string record, string collectorSetting, double collectorDefault)
    {
        var rules = RuleThresholds();
        Assert.True(rules.ContainsKey(record), $"perfotel-config.rules.yaml does not record {record}");
        Assert.True(collectorDefault == rules[record], $"{record} is {rules[record]}, the collector's {collectorSetting} is {collectorDefault}");
    }

    [Fact]
    public void EveryThreshold_IsAConstantVector()
    {
        var thresholds = RuleSet.Recordings.Where(r => r.Record!.StartsWith("threshold:", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(thresholds);
        Assert.All(thresholds, t => Assert.Matches(ConstantVector(), t.Expr.Trim()));
        Assert.All(thresholds, t => Assert.Equal("perfotel-config.rules.yaml", t.File));
    }

    private static Dictionary<string, double> RuleThresholds() =>
        RuleSet.Recordings
            .Where(r => r.Record!.StartsWith("threshold:", StringComparison.Ordinal))
            .ToDictionary(
                r => r.Record!,
                r => double.Parse(ConstantVector().Match(r.Expr.Trim()).Groups[1].Value, CultureInfo.InvariantCulture),
                StringComparer.Ordinal);

    [GeneratedRegex(@"^vector\(([0-9]+(?:\.[0-9]+)?)\)$")]
    private static partial Regex ConstantVector();
}

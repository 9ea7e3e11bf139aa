using System.Globalization;
using System.Text.RegularExpressions;
using PerfOtel.Alerting.Tests.Assets;
using PerfOtel.Collector.Derived.Analytics.Formulas;
using PerfOtel.Collector.Derived.Thresholds;

namespace PerfOtel.Alerting.Tests;

/// <summary>
/// The rules' thresholds (perfotel-config.rules.yaml) come from the collector's <c>perfotel_threshold</c> series, and
/// their fallbacks equal the collector's defaults, so the collector's GET /api/v1/alerts and Prometheus page on the
/// same numbers whether or not a collector is scraped.
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
        { "threshold:perfotel_agent_quality:min", "ThresholdDefaults.MinQuality", ThresholdDefaults.MinQuality },
        { "threshold:perfotel_agent_tokens_per_invocation:max", "ThresholdDefaults.MaxTokensPerInvocation", ThresholdDefaults.MaxTokensPerInvocation },
        { "threshold:perfotel_budget_utilization_ratio:warning", "ThresholdDefaults.BudgetWarningRatio", ThresholdDefaults.BudgetWarningRatio },
        { "threshold:perfotel_budget_utilization_ratio:critical", "ThresholdDefaults.BudgetCriticalRatio", ThresholdDefaults.BudgetCriticalRatio },
        { "threshold:perfotel_agent_hourly_cost_spike:factor", "ThresholdDefaults.HourlyCostSpikeFactor", ThresholdDefaults.HourlyCostSpikeFactor },
        { "threshold:perfotel_agent_anomaly_score:max", "AnomalyDetector.DefaultThreshold", AnomalyDetector.DefaultThreshold },
        { "threshold:perfotel_agent_silent_seconds:min", "ThresholdDefaults.AgentSilentAfterSeconds", ThresholdDefaults.AgentSilentAfterSeconds },
        { "threshold:perfotel_agent_process_memory_bytes:max", "ThresholdDefaults.MaxProcessMemoryMegabytes (in bytes)", ThresholdDefaults.MaxProcessMemoryMegabytes * 1024 * 1024 },
        { "threshold:perfotel_agent_process_cpu_utilization:max", "ThresholdDefaults.MaxProcessCpuUtilization", ThresholdDefaults.MaxProcessCpuUtilization },
        // Calibration gauges are withheld below this many samples; the drift alert waits for as many.
        { "threshold:perfotel_agent_calibration_samples:min", "CalibrationFormulas.DefaultMinimumSamples", CalibrationFormulas.DefaultMinimumSamples },
    };

    [Theory]
    [MemberData(nameof(CollectorDefaults))]
    public void RuleThreshold_FallbackEqualsTheCollectorDefault(string record, string collectorSetting, double collectorDefault)
    {
        var rules = RuleThresholds();
        Assert.True(rules.ContainsKey(record), $"perfotel-config.rules.yaml does not record {record}");
        Assert.True(collectorDefault == rules[record].Fallback, $"{record} falls back to {rules[record].Fallback}, the collector's {collectorSetting} is {collectorDefault}");
    }

    [Fact]
    public void EveryThreshold_IsAConstantOrTheCollectorsSectionWideValueWithAConstantFallback()
    {
        var thresholds = RuleSet.Recordings.Where(r => r.Record!.StartsWith("threshold:", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(thresholds);
        Assert.All(thresholds, t => Assert.True(ConstantVector().IsMatch(t.Expr.Trim()) || CollectorOrConstant().IsMatch(t.Expr.Trim()), $"{t.Record}: {t.Expr}"));
        Assert.All(thresholds, t => Assert.Equal("perfotel-config.rules.yaml", t.File));
    }

    /// <summary>Every threshold the collector exposes is used by a rule, and every one a rule selects is exposed.</summary>
    [Fact]
    public void CollectorThresholds_AndTheRulesSelectingThem_AreTheSameRows()
    {
        var exposed = ThresholdSeries.All.Select(r => (r.Metric, r.Level)).ToHashSet();
        var selected = RuleSet.All
            .SelectMany(r => SelectedThreshold().Matches(r.Expr))
            .Select(m => (m.Groups["metric"].Value, m.Groups["level"].Value))
            .ToHashSet();
        Assert.Empty(selected.Except(exposed));
        Assert.Empty(exposed.Except(selected));
    }

    /// <summary>Each per-(tenant, agent) threshold prefers the agent's value, then the tenant's, then the global one.</summary>
    [Fact]
    public void ScopedThresholds_PreferAgentThenTenantThenGlobal()
    {
        var scoped = RuleSet.Recordings.Where(r => r.Group == "perfotel-thresholds").ToList();
        Assert.NotEmpty(scoped);
        foreach (var rule in scoped)
        {
            var expr = rule.Expr;
            var agent = expr.IndexOf("tenant!=\"\",agent!=\"\"", StringComparison.Ordinal);
            var tenant = expr.IndexOf("tenant!=\"\",agent=\"\"", StringComparison.Ordinal);
            var global = expr.IndexOf("threshold:", StringComparison.Ordinal);
            Assert.True(agent >= 0 && tenant > agent && global > tenant, $"{rule.Record}: agent, tenant and global thresholds not in that order");
            Assert.Equal(2, Regex.Matches(expr, @"or on \(tenant, agent\)").Count);
            Assert.Contains(":threshold_", rule.Record!, StringComparison.Ordinal);
        }
    }

    private static Dictionary<string, (double Fallback, string Expr)> RuleThresholds() =>
        RuleSet.Recordings
            .Where(r => r.Record!.StartsWith("threshold:", StringComparison.Ordinal))
            .ToDictionary(
                r => r.Record!,
                r =>
                {
                    var expr = r.Expr.Trim();
                    var match = ConstantVector().Match(expr);
                    if (!match.Success)
                    {
                        match = CollectorOrConstant().Match(expr);
                    }
                    return (double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), expr);
                },
                StringComparer.Ordinal);

    [GeneratedRegex(@"^vector\(([0-9]+(?:\.[0-9]+)?)\)$")]
    private static partial Regex ConstantVector();

    [GeneratedRegex(@"^max\(perfotel_threshold\{tenant="""",metric=""[a-z0-9_]+"",level=""[a-z]+""\}\) or vector\(([0-9]+(?:\.[0-9]+)?)\)$")]
    private static partial Regex CollectorOrConstant();

    [GeneratedRegex(@"perfotel_threshold\{metric=""(?<metric>[a-z0-9_]+)"",level=""(?<level>[a-z]+)""|perfotel_threshold\{tenant="""",metric=""(?<metric>[a-z0-9_]+)"",level=""(?<level>[a-z]+)""")]
    private static partial Regex SelectedThreshold();
}

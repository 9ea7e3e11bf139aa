using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using PerfOtel.Alerting.Tests.Assets;
using Xunit.Abstractions;

namespace PerfOtel.Alerting.Tests;

/// <summary>
/// The rules' thresholds (perfotel-config.rules.yaml) equal the collector's defaults, so the collector's
/// GET /api/v1/alerts and Prometheus page on the same numbers.
/// </summary>
public partial class ThresholdTests(ITestOutputHelper output)
{
    private const string DefaultsType = "PerfOtel.Collector.Thresholds.ThresholdDefaults";

    /// <summary>Each collector default and the recorded threshold that carries it.</summary>
    private static readonly Dictionary<string, string> RuleForDefault = new(StringComparer.Ordinal)
    {
        ["MinSuccessRate"] = "threshold:perfotel_agent_success_ratio:min",
        ["MaxErrorRate"] = "threshold:perfotel_agent_error_ratio:max",
        ["MaxLatencyP95Seconds"] = "threshold:perfotel_agent_latency_p95_seconds:max",
        ["MaxCostPerInvocationUsd"] = "threshold:perfotel_agent_cost_per_invocation_usd:max",
        ["MinAccuracy"] = "threshold:perfotel_agent_accuracy:min",
        ["MaxTokensPerInvocation"] = "threshold:perfotel_agent_tokens_per_invocation:max",
        ["BudgetWarningRatio"] = "threshold:perfotel_budget_utilization_ratio:warning",
        ["BudgetCriticalRatio"] = "threshold:perfotel_budget_utilization_ratio:critical",
        ["HourlyCostSpikeFactor"] = "threshold:perfotel_agent_hourly_cost_spike:factor",
    };

    /// <summary>ARCHITECTURE.md's defaults, used only while the collector's ThresholdDefaults class has not landed.</summary>
    private static readonly Dictionary<string, double> DocumentedDefaults = new(StringComparer.Ordinal)
    {
        ["MinSuccessRate"] = 0.80,
        ["MaxErrorRate"] = 0.15,
        ["MaxLatencyP95Seconds"] = 5,
        ["MaxCostPerInvocationUsd"] = 1,
        ["MinAccuracy"] = 0.70,
        ["MaxTokensPerInvocation"] = 5000,
        ["BudgetWarningRatio"] = 0.80,
        ["BudgetCriticalRatio"] = 1.00,
        ["HourlyCostSpikeFactor"] = 3,
    };

    [Fact]
    public void RuleThresholds_EqualTheCollectorDefaults()
    {
        var defaults = CollectorDefaults();
        var rules = RuleThresholds();

        Assert.Equal(RuleForDefault.Keys.Order(StringComparer.Ordinal), defaults.Keys.Order(StringComparer.Ordinal));
        foreach (var (setting, record) in RuleForDefault)
        {
            Assert.True(rules.ContainsKey(record), $"perfotel-config.rules.yaml does not record {record}");
            Assert.True(rules[record] == defaults[setting], $"{record} is {rules[record]}, the collector's {setting} is {defaults[setting]}");
        }
    }

    [Fact]
    public void EveryThreshold_IsAConstantVector()
    {
        var thresholds = RuleSet.Recordings.Where(r => r.Record!.StartsWith("threshold:", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(thresholds);
        Assert.All(thresholds, t => Assert.Matches(ConstantVector(), t.Expr.Trim()));
        Assert.All(thresholds, t => Assert.Equal("perfotel-config.rules.yaml", t.File));
    }

    private Dictionary<string, double> CollectorDefaults()
    {
        var type = typeof(PerfOtel.Collector.Model.AgentInvocation).Assembly.GetType(DefaultsType);
        if (type is null)
        {
            output.WriteLine($"{DefaultsType} is not in the collector yet: compared with ARCHITECTURE.md's documented defaults instead.");
            return DocumentedDefaults;
        }
        return type.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral)
            .ToDictionary(f => f.Name, f => Convert.ToDouble(f.GetRawConstantValue(), CultureInfo.InvariantCulture), StringComparer.Ordinal);
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

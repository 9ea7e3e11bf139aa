using System.Text.RegularExpressions;
using PerfOtel.Alerting.Tests.Assets;

namespace PerfOtel.Alerting.Tests;

/// <summary>
/// The conventions every rule follows (kubernetes-mixin habits): recording-rule names, alert labels and annotations,
/// runbook sections, and promtool tests that cover each alert before and after its <c>for:</c>.
/// </summary>
public partial class RuleConventionTests
{
    private static readonly string[] RequiredAnnotations = ["summary", "description", "recommendation", "runbook_url"];
    private const string RunbookBase = "https://github.com/perfotel/perfotel/blob/main/alerting/prometheus-rules/runbook.md#";

    public static TheoryData<string> AlertNames() => [.. RuleSet.Alerts.Select(a => a.Alert!).Distinct()];

    [Fact]
    public void RecordingRuleNames_AreLevelMetricOperations()
    {
        Assert.NotEmpty(RuleSet.Recordings);
        Assert.All(RuleSet.Recordings, r => Assert.Matches(LevelMetricOperations(), r.Record!));
    }

    [Fact]
    public void RecordingRules_AreEachDefinedOncePerLabelSet()
    {
        var duplicates = RuleSet.Recordings
            .GroupBy(r => r.Record + string.Join(',', r.Labels.OrderBy(l => l.Key).Select(l => l.Key + "=" + l.Value)))
            .Where(g => g.Count() > 1)
            .Select(g => g.Key);
        Assert.Empty(duplicates);
    }

    [Theory]
    [MemberData(nameof(AlertNames))]
    public void Alert_HasForSeverityAndEveryAnnotation(string alertName)
    {
        foreach (var alert in RuleSet.Alerts.Where(a => a.Alert == alertName))
        {
            Assert.False(string.IsNullOrEmpty(alert.For), $"{alertName} has no for:");
            Assert.True(PromDuration.Parse(alert.For!) > TimeSpan.Zero, $"{alertName} has for: 0");
            Assert.Contains(alert.Labels.GetValueOrDefault("severity"), new[] { "critical", "warning", "info" });
            foreach (var key in RequiredAnnotations)
            {
                Assert.False(string.IsNullOrWhiteSpace(alert.Annotations.GetValueOrDefault(key)), $"{alertName} lacks the {key} annotation");
            }
        }
    }

    [Theory]
    [MemberData(nameof(AlertNames))]
    public void Alert_DescriptionNamesTenantAgentAndValue(string alertName)
    {
        foreach (var alert in RuleSet.Alerts.Where(a => a.Alert == alertName))
        {
            var description = alert.Annotations["description"];
            // Alerts about the collector or a whole tenant set tenant/agent to "*" themselves and name what they are about.
            var staticScope = alert.Labels.GetValueOrDefault("tenant") == "*" && alert.Labels.GetValueOrDefault("agent") == "*";
            if (!staticScope)
            {
                Assert.Contains("$labels.tenant", description, StringComparison.Ordinal);
                if (!description.Contains("(all agents)", StringComparison.Ordinal))
                {
                    Assert.Contains("$labels.agent", description, StringComparison.Ordinal);
                }
            }
            // A down target's value is 0 by definition; every other alert reports the number it fired on.
            if (alertName != "PerfOtelCollectorDown")
            {
                Assert.Contains("$value", description, StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [MemberData(nameof(AlertNames))]
    public void Alert_RunbookUrlPointsAtItsRunbookSection(string alertName)
    {
        var sections = RunbookSections();
        foreach (var alert in RuleSet.Alerts.Where(a => a.Alert == alertName))
        {
            var url = alert.Annotations["runbook_url"];
            Assert.StartsWith(RunbookBase, url, StringComparison.Ordinal);
            var anchor = url[RunbookBase.Length..];
            Assert.Equal(alertName.ToLowerInvariant(), anchor);
            Assert.Contains(anchor, sections.Keys);
        }
    }

    [Fact]
    public void Runbook_HasNoSectionWithoutAnAlert()
    {
        var alerts = RuleSet.Alerts.Select(a => a.Alert!.ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
        Assert.All(RunbookSections(), section => Assert.True(alerts.Contains(section.Key), $"runbook section '{section.Value}' has no alert"));
    }

    [Theory]
    [MemberData(nameof(AlertNames))]
    public void Alert_IsTestedBeforeAndAfterItsForWithFullLabelsAndAnnotations(string alertName)
    {
        var checks = PromtoolTestFiles.AlertChecks().Where(c => c.AlertName == alertName).ToList();
        var firing = checks.Where(c => c.Expected.Count > 0).ToList();
        Assert.True(firing.Count > 0, $"no promtool test expects {alertName} to fire");

        foreach (var rule in RuleSet.Alerts.Where(a => a.Alert == alertName))
        {
            var forDuration = PromDuration.Parse(rule.For!);
            // Alerts sharing a name (the burn-rate pairs) are told apart by their static labels.
            bool IsThisRule(ExpectedAlert e) => rule.Labels.All(l => e.Labels.GetValueOrDefault(l.Key) == l.Value);
            var firstFiring = firing.Where(c => c.Expected.Any(IsThisRule)).MinBy(c => c.EvalTime);
            Assert.True(firstFiring is not null, $"no promtool test expects {alertName} {Describe(rule.Labels)} to fire");
            Assert.True(firstFiring!.EvalTime >= forDuration, $"{alertName} {Describe(rule.Labels)} is expected to fire at {firstFiring.EvalTime}, before its for: {rule.For}");
            Assert.True(
                checks.Any(c => c.File == firstFiring.File && c.TestName == firstFiring.TestName && c.EvalTime < firstFiring.EvalTime && !c.Expected.Any(IsThisRule)),
                $"{alertName} {Describe(rule.Labels)}: no check that it is still pending before its for: {rule.For} elapsed");
        }

        foreach (var expected in firing.SelectMany(c => c.Expected))
        {
            Assert.True(expected.Labels.ContainsKey("tenant") && expected.Labels.ContainsKey("agent"), $"{alertName}: an expected alert lacks tenant or agent");
            Assert.True(expected.Labels.ContainsKey("severity"), $"{alertName}: an expected alert lacks its severity");
            Assert.Equal(RequiredAnnotations.Order(StringComparer.Ordinal), expected.Annotations.Keys.Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public void EveryThreshold_IsUsedByAnAlert()
    {
        var thresholds = RuleSet.Recordings.Where(r => r.Record!.StartsWith("threshold:", StringComparison.Ordinal)).Select(r => r.Record!);
        // Collector thresholds reach alerts through the per-(tenant, agent) recordings of the perfotel-thresholds group.
        var used = string.Join('\n', RuleSet.Alerts.Select(a => a.Expr + a.Annotations["description"])
            .Concat(RuleSet.Recordings.Where(r => r.Group == "perfotel-thresholds").Select(r => r.Expr)));
        Assert.All(thresholds, t => Assert.Contains(t, used, StringComparison.Ordinal));
    }

    private static string Describe(IReadOnlyDictionary<string, string> labels) =>
        "{" + string.Join(", ", labels.Where(l => l.Key != "severity").Select(l => $"{l.Key}={l.Value}")) + "}";

    /// <summary>Runbook sections by their GitHub anchor (a heading's lower-cased text).</summary>
    private static Dictionary<string, string> RunbookSections() =>
        File.ReadLines(AlertingAssets.Runbook)
            .Where(line => line.StartsWith("## ", StringComparison.Ordinal))
            .Select(line => line[3..].Trim())
            .ToDictionary(heading => heading.ToLowerInvariant(), heading => heading, StringComparer.Ordinal);

    [GeneratedRegex("^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$")]
    private static partial Regex LevelMetricOperations();
}

using System.Text.Json;
using System.Text.RegularExpressions;
using PerfOtel.Alerting.Tests.Assets;
using PerfOtel.Alerting.Tests.Catalog;
using PerfOtel.Alerting.Tests.PromQl;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Alerting.Tests;

/// <summary>
/// Every PromQL expression in the rules and dashboards refers only to metrics and labels that the code declares (or
/// that a rule records): a shipped dashboard can never query a name the code does not emit.
/// </summary>
public partial class CatalogCheckTests
{
    [Fact]
    public void RuleExpressions_ReferOnlyToCatalogMetricsAndLabels()
    {
        var checker = Checker();
        var problems = new List<string>();
        foreach (var rule in RuleSet.All)
        {
            problems.AddRange(checker.Problems($"{rule.File} {rule.Name}", rule.Expr));
            foreach (var annotation in rule.Annotations)
            {
                foreach (Match query in TemplateQuery().Matches(annotation.Value))
                {
                    var expression = query.Groups[1].Success ? query.Groups[1].Value : query.Groups[2].Value.Replace("%q", "\"x\"", StringComparison.Ordinal);
                    problems.AddRange(checker.Problems($"{rule.File} {rule.Name} annotation {annotation.Key}", expression));
                }
            }
        }
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void DashboardExpressions_ReferOnlyToCatalogMetricsAndLabels()
    {
        var checker = Checker();
        var problems = new List<string>();
        foreach (var dashboard in Dashboard.All())
        {
            foreach (var variable in dashboard.Variables.Where(v => v.GetProperty("type").GetString() == "query"))
            {
                var where = $"{dashboard.File} variable {variable.GetProperty("name").GetString()}";
                var query = LabelValues().Match(DashboardTests.VariableQuery(variable));
                Assert.True(query.Success, $"{where}: not a label_values(selector, label) query");
                problems.AddRange(checker.Problems(where, query.Groups["selector"].Value));
                problems.AddRange(checker.UnknownLabels(where, [query.Groups["label"].Value]));
            }
            foreach (var panel in dashboard.DataPanels)
            {
                foreach (var target in Dashboard.Targets(panel))
                {
                    var where = $"{dashboard.File} {Dashboard.Describe(panel)} {target.GetProperty("refId").GetString()}";
                    problems.AddRange(checker.Problems(where, target.GetProperty("expr").GetString()!));
                    var legend = target.TryGetProperty("legendFormat", out var l) && l.ValueKind == JsonValueKind.String ? l.GetString()! : "";
                    problems.AddRange(checker.UnknownLabels(where + " legend", LegendLabel().Matches(legend).Select(m => m.Groups[1].Value)));
                }
            }
        }
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void Checker_ReportsUnknownMetricsAndLabels()
    {
        var checker = Checker();

        var problems = checker.Problems("probe",
            """sum by (gen_ai_agent_name, colour) (rate(perfotel_agent_invocations_total{perfotel_outcome="success",model="x"}[5m])) / perfotel_agent_nonexistent_total""").ToList();

        Assert.Contains(problems, p => p.Contains("'perfotel_agent_nonexistent_total'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("label 'model' is not a label of perfotel_agent_invocations_total", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("label 'colour'", StringComparison.Ordinal));
        Assert.Equal(3, problems.Count);
    }

    [Fact]
    public void Catalog_HoldsTheInstrumentationAnalyticsCostAndCollectorMetrics()
    {
        var metrics = CodeCatalog.Metrics;
        Assert.Contains("perfotel_agent_invocations_total", metrics.Keys);
        Assert.Contains("gen_ai_client_operation_duration_seconds_bucket", metrics.Keys);
        Assert.Contains("le", metrics["gen_ai_client_operation_duration_seconds_bucket"].Labels);
        Assert.Contains("perfotel_agent_window_invocations", metrics.Keys);
        Assert.Contains("perfotel_collector_records_committed_total", metrics.Keys);
        Assert.Contains("perfotel_collector_store_write_duration_seconds_bucket", metrics.Keys);
        Assert.Contains("perfotel_collector_queue_bytes", metrics.Keys);
        Assert.Contains("perfotel_budget_utilization_ratio", metrics.Keys);
    }

    [Fact]
    public void Catalog_PrometheusNamesFollowFromTheOpenTelemetryNamesAndUnits()
    {
        // One rule for every catalog: the name PerfOtel.Exporter (and OpenTelemetry's Prometheus exporters) give an
        // instrument, so a rule or dashboard written against PrometheusName queries what the scrape carries.
        Assert.All(CodeCatalog.Catalogs.SelectMany(c => c.Definitions), d => Assert.Equal(PrometheusNaming.Metric(d), d.PrometheusName));
    }

    private static CatalogChecker Checker()
    {
        var recorded = RuleSet.Recordings.Select(r => r.Record!).ToHashSet(StringComparer.Ordinal);
        var ruleLabels = RuleSet.All.SelectMany(r => r.Labels.Keys)
            .Concat(RuleSet.All.SelectMany(r => PromQlScanner.Scan(r.Expr).IntroducedLabels));
        return new CatalogChecker(CodeCatalog.Metrics, recorded, ruleLabels);
    }

    // {{ with query "threshold:..." }} and {{ with printf "tenant_agent:...{tenant=%q,agent=%q}" ... | query }} in alert
    // annotations (the placeholders are checked as the string values they become).
    [GeneratedRegex(@"(?:query\s+""([^""]+)""|printf\s+""([^""]+)""[^}]*\|\s*query)")]
    private static partial Regex TemplateQuery();

    [GeneratedRegex(@"^label_values\((?<selector>.+),\s*(?<label>[a-zA-Z_][a-zA-Z0-9_]*)\)$")]
    private static partial Regex LabelValues();

    [GeneratedRegex(@"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")]
    private static partial Regex LegendLabel();
}

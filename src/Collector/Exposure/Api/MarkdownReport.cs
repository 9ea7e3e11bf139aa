using System.Globalization;
using System.Text;
using PerfOtel.Collector.Derived.Analytics.Reports;
using PerfOtel.Collector.Derived.Experiments;
using PerfOtel.Collector.Derived.Experiments.Statistics;

namespace PerfOtel.Collector.Exposure.Api;

/// <summary>The report as Markdown, for pasting into a ticket or a chat.</summary>
internal static class MarkdownReport
{
    public static string Render(ReportResponse report, IReadOnlyList<ExperimentReport>? experiments = null)
    {
        var text = new StringBuilder();
        Line(text, $"# PerfOtel report: tenant {report.Tenant}, window {report.Window}");
        text.AppendLine();
        Line(text, $"Generated {report.GeneratedAt:yyyy-MM-dd HH:mm:ss} UTC, covering {report.System.WindowStart:yyyy-MM-dd HH:mm} to {report.System.WindowEnd:yyyy-MM-dd HH:mm} UTC.");
        text.AppendLine();
        text.AppendLine("## System");
        text.AppendLine();
        text.AppendLine("| health | band | invocations | success rate | error rate | p95 latency | accuracy | quality | cost / invocation |");
        text.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
        var s = report.System;
        Line(text, $"| {Number(s.HealthScore, "0.0")} | {s.HealthBand ?? "-"} | {s.Invocations} | {Percent(s.SuccessRate)} | {Percent(s.ErrorRate)} | {Seconds(s.LatencyP95Seconds)} | {Percent(s.Accuracy)} | {Percent(s.Quality)} | {Usd(s.CostPerInvocationUsd)} |");
        text.AppendLine();
        text.AppendLine("## Agents");
        text.AppendLine();
        if (report.Agents.Count == 0)
        {
            text.AppendLine("No agent has data in this window.");
        }
        else
        {
            text.AppendLine("| agent | health | band | invocations | success rate | p95 latency | accuracy | quality | ECE | trend (health) |");
            text.AppendLine("|---|---:|---|---:|---:|---:|---:|---:|---:|---|");
            foreach (var a in report.Agents)
            {
                Line(text, $"| {Cell(a.Agent)} | {Number(a.HealthScore, "0.0")} | {a.HealthBand ?? "-"} | {a.Invocations} | {Percent(a.SuccessRate)} | {Seconds(a.LatencyP95Seconds)} | {Percent(a.Accuracy)} | {Percent(a.Quality)} | {Number(a.Calibration.ExpectedCalibrationError, "0.000")} | {Trend(a)} |");
            }
        }
        text.AppendLine();
        text.AppendLine("## Threshold breaches");
        text.AppendLine();
        if (report.Breaches.Count == 0)
        {
            text.AppendLine("None.");
        }
        else
        {
            text.AppendLine("| level | agent | metric | value | threshold |");
            text.AppendLine("|---|---|---|---:|---:|");
            foreach (var b in report.Breaches)
            {
                Line(text, $"| {b.Level} | {Cell(b.Agent)} | {b.Metric} | {b.Value:0.###} | {b.Comparison} {b.Threshold:0.###} |");
            }
        }
        text.AppendLine();
        text.AppendLine("## Worst runs");
        text.AppendLine();
        if (report.WorstRuns.Count == 0)
        {
            text.AppendLine(report.Breaches.Count == 0 ? "No breach to explain." : "No stored run of the breaching agents in this window.");
        }
        else
        {
            text.AppendLine("| agent | metric | run (trace id / span id) | start | outcome | duration | tokens | cost |");
            text.AppendLine("|---|---|---|---|---|---:|---:|---:|");
            foreach (var w in report.WorstRuns)
            {
                var r = w.Run;
                Line(text, $"| {Cell(w.Agent)} | {w.Metric} | `{r.TraceId}/{r.SpanId}` | {r.StartTime:yyyy-MM-dd HH:mm:ss} | {Cell(r.Outcome)} | {Seconds(r.DurationSeconds)} | {r.TotalTokens} | {Usd(r.CostUsd)} |");
            }
            text.AppendLine();
            text.AppendLine("Open a run with `GET /api/v1/invocations/{traceId}/{spanId}`.");
        }
        text.AppendLine();
        Experiments(text, experiments ?? []);
        text.AppendLine("## Recommendations");
        text.AppendLine();
        if (report.Recommendations.Count == 0)
        {
            text.AppendLine("Nothing to act on.");
        }
        foreach (var recommendation in report.Recommendations)
        {
            Line(text, $"- {recommendation}");
        }
        return text.ToString();
    }

    /// <summary>
    /// The tenant's experiments with their verdict and reason, and per variant the success rate, the p95 latency and the
    /// cost per invocation, each with its interval (docs/collector/experiments.md). Nothing when the tenant has none.
    /// </summary>
    private static void Experiments(StringBuilder text, IReadOnlyList<ExperimentReport> experiments)
    {
        var analysed = experiments.Where(e => e.Analysis is not null).ToList();
        if (analysed.Count == 0)
        {
            return;
        }
        text.AppendLine("## Experiments");
        text.AppendLine();
        foreach (var experiment in analysed)
        {
            var a = experiment.Analysis!;
            var level = (a.ConfidenceLevel * 100).ToString("0.#", CultureInfo.InvariantCulture) + " % CI";
            Line(text, $"### {Cell(experiment.Experiment)}: {ExperimentVerdictNames.Name(a.Verdict)}{(experiment.Defined ? "" : " (not defined)")}");
            text.AppendLine();
            Line(text, $"{a.Reason}. Control: {Cell(a.Control)}, primary metric: {a.PrimaryMetric}.");
            text.AppendLine();
            Line(text, $"| variant | invocations | intended | success rate [{level}] | p95 latency [{level}] | cost / invocation [{level}] |");
            text.AppendLine("|---|---:|---:|---:|---:|---:|");
            foreach (var v in a.Variants)
            {
                var success = v.Metrics.First(m => m.Metric == "success").Estimate;
                var cost = v.Metrics.First(m => m.Metric == "cost").Estimate;
                Line(text, $"| {Cell(v.Variant)} | {v.Invocations} | {Percent(v.IntendedWeight)} | {Interval(success, Percent)} | {Interval(v.LatencyP95, Seconds)} | {Interval(cost, Usd)} |");
            }
            text.AppendLine();
        }
    }

    private static string Interval(Interval? interval, Func<double?, string> format) =>
        interval is { } i ? $"{format(i.Estimate)} [{format(i.Lower)}, {format(i.Upper)}]" : "-";

    private static void Line(StringBuilder text, FormattableString line) =>
        text.Append(line.ToString(CultureInfo.InvariantCulture)).Append('\n');

    private static string Cell(string? value) => (value ?? "").Replace("|", "\\|", StringComparison.Ordinal);

    private static string Number(double? value, string format) =>
        value?.ToString(format, CultureInfo.InvariantCulture) ?? "-";

    private static string Percent(double? value) =>
        value is { } v ? (v * 100).ToString("0.0", CultureInfo.InvariantCulture) + " %" : "-";

    private static string Seconds(double? value) =>
        value is { } v ? v.ToString("0.###", CultureInfo.InvariantCulture) + " s" : "-";

    private static string Usd(double? value) =>
        value is { } v ? "$" + v.ToString("0.####", CultureInfo.InvariantCulture) : "-";

    private static string Trend(AgentReport report) =>
        report.Trends.TryGetValue(TrendMetrics.HealthScore, out var t) ? t switch { > 0 => "improving", < 0 => "degrading", _ => "stable" } : "-";
}

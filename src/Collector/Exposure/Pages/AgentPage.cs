using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Series;
using PerfOtel.Collector.Derived.Analytics.Reports;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Runs;
using PerfOtel.Collector.Exposure.Api;
using PerfOtel.Collector.Records;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Exposure.Pages;

/// <summary>
/// <c>/ui/agents/{agent}</c>: one agent over every window (<c>/api/v1/metrics/agents/{agent}</c>), its reliability
/// diagram with the bin counts, its task types and its worst recent runs (from <c>/api/v1/invocations?agent=</c>).
/// </summary>
internal static class AgentPage
{
    /// <summary>Recent runs the page ranks for its worst runs: the run list's first page at its largest.</summary>
    public const int RecentRuns = RunEndpoints.MaxLimit;

    public const int WorstShown = 10;

    public static async Task<IResult> HandleAsync(string agent, HttpContext context, RollingWindows windows, IExecutionStore store,
        IOptions<UiOptions> options, CancellationToken cancellationToken)
    {
        // The reliability diagram wants the most evidence: the longest window unless one is named.
        var longest = windows.Windows.Select((w, i) => (w, i)).MaxBy(p => p.w.Duration).i;
        if (PageScope.Read(context, windows, options.Value, out var error, longest) is not { } scope)
        {
            return error;
        }
        if (agent.Length > 256 || AnalyticsQueries.AgentMetrics(windows, scope.Tenant, agent, null) is not { } metrics)
        {
            return UiEndpoints.Problem(context, scope, StatusCodes.Status404NotFound, "Agent not found",
                $"No agent '{agent}' in tenant '{scope.Tenant}': it has sent no data the windows still hold.");
        }
        var recent = await RunEndpoints.PageAsync(store, windows, new RunSearch { Tenant = scope.Tenant, AgentName = agent, Limit = RecentRuns },
            warning: null, RecentRuns, cancellationToken).ConfigureAwait(false);
        return UiEndpoints.Html(context, Render(scope, metrics, recent, windows.Now));
    }

    /// <summary>Worst first: failures, then partial runs, then the most warnings, then the slowest.</summary>
    public static IEnumerable<RunSummary> Worst(IEnumerable<RunSummary> runs) => runs
        .OrderBy(r => r.Outcome switch { Outcomes.Failure => 0, Outcomes.Partial => 1, _ => 2 })
        .ThenByDescending(r => r.Warnings.Count)
        .ThenByDescending(r => r.DurationSeconds)
        .Take(WorstShown);

    public static string Render(PageScope scope, AgentMetricsResponse metrics, InvocationListResponse recent, DateTimeOffset now)
    {
        var agent = metrics.Agent;
        var encoded = Uri.EscapeDataString(agent);
        var selected = metrics.Windows.First(w => w.Window == scope.WindowName);
        var page = new PageWriter("Agent " + agent, scope.Tenant, scope.Carry, scope.SignedIn);
        page.Sources(scope.Rest("/api/v1/metrics/agents/" + encoded), scope.Grafana(GrafanaDashboards.Agent, agent), "PerfOtel / Agent drill-down");

        page.Raw("<section aria-labelledby=\"now\">").Heading($"Over {selected.Window}", "now").Figures()
            .Figure("Health score" + (selected.HealthBand is { } band ? $" ({band})" : string.Empty), "healthScore", selected.HealthScore, NumberFormat.Score)
            .Figure("Success rate", "successRate", selected.SuccessRate, NumberFormat.Percent)
            .Figure("p95 latency", "latencyP95Seconds", selected.LatencyP95Seconds, NumberFormat.Seconds)
            .Figure("Cost / invocation", "costPerInvocationUsd", selected.CostPerInvocationUsd, NumberFormat.Usd)
            .Figure("Accuracy", "accuracy", selected.Accuracy, NumberFormat.Percent)
            .Figure("Quality", "quality", selected.Quality, NumberFormat.Percent)
            .Figure("Invocations", "invocations", selected.Invocations, NumberFormat.Count)
            .EndFigures().Raw("</section>");

        page.Raw("<section aria-labelledby=\"windows\">").Heading("Every window", "windows");
        var labels = metrics.Windows.Select(w => w.Window).ToList();
        var (model, series) = Charts.Bars(labels, "Health score (0-100)", 0, 100, "0");
        foreach (var report in metrics.Windows)
        {
            series.Items.Add(new BarItem(report.HealthScore ?? 0) { Color = report.HealthBand is { } b ? OverviewPage.BandColor(b) : Charts.Grey });
        }
        series.LabelFormatString = "{0:0.0}";
        page.Chart(Charts.Svg(model, Charts.BarsHeight(labels.Count), "chart-windows", $"Health score of {agent} per window",
                "Health score per window: " + string.Join(", ", metrics.Windows.Select(w => $"{w.Window} {PageWriter.Show(w.HealthScore, NumberFormat.Score)}")) + "."),
            "Health score per window; the table has every figure.");
        page.Table($"{agent} per window", "Window", "Invocations", "Health", "Success", "Errors", "p95 latency", "Cost / invocation", "Cost", "Accuracy", "Quality", "ECE");
        foreach (var report in metrics.Windows)
        {
            page.Row(report.Window).RowHeader(report.Window)
                .Number("invocations", report.Invocations, NumberFormat.Count)
                .Number("healthScore", report.HealthScore, NumberFormat.Score)
                .Number("successRate", report.SuccessRate, NumberFormat.Percent)
                .Number("errorRate", report.ErrorRate, NumberFormat.Percent)
                .Number("latencyP95Seconds", report.LatencyP95Seconds, NumberFormat.Seconds)
                .Number("costPerInvocationUsd", report.CostPerInvocationUsd, NumberFormat.Usd)
                .Number("costUsd", report.CostUsd, NumberFormat.Usd)
                .Number("accuracy", report.Accuracy, NumberFormat.Percent)
                .Number("quality", report.Quality, NumberFormat.Percent)
                .Number("calibrationError", report.Calibration.ExpectedCalibrationError, NumberFormat.Plain).EndRow();
        }
        page.EndTable().Raw("</section>");

        Reliability(page, scope, selected);
        TaskTypes(page, selected);

        page.Raw("<section aria-labelledby=\"worst\">").Heading("Worst recent runs", "worst")
            .Sources(scope.Rest(RunEndpoints.ListRoute, ("agent", agent), ("limit", RecentRuns.ToString(System.Globalization.CultureInfo.InvariantCulture))),
                scope.Grafana(GrafanaDashboards.Agent, agent), "PerfOtel / Agent drill-down")
            .Paragraph($"Of the agent's {recent.Invocations.Count} most recent runs, the worst {WorstShown}: failures first, then partial runs, then the most warnings, then the slowest.");
        page.Table("Worst recent runs", "Run", "Started (UTC)", "Outcome", "Duration", "Cost", "Warnings");
        foreach (var run in Worst(recent.Invocations))
        {
            var id = run.TraceId + "/" + run.SpanId;
            page.Row(id).RowHeader(run.TaskId ?? run.SpanId, scope.Page($"/ui/runs/{run.TraceId}/{run.SpanId}"))
                .Cell(run.StartTime.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture))
                .Cell(run.Outcome, run.Outcome == Outcomes.Failure ? "critical" : run.Outcome == Outcomes.Partial ? "warning" : null)
                .Number("durationSeconds", run.DurationSeconds, NumberFormat.Seconds)
                .Number("costUsd", run.CostUsd, NumberFormat.Usd)
                .Cell(run.Warnings.Count == 0 ? "none" : string.Join(", ", run.Warnings.Select(w => w.Name))).EndRow();
        }
        page.EndTable().Raw("</section>");
        return page.Finish(now);
    }

    private static void Reliability(PageWriter page, PageScope scope, AgentReport report)
    {
        var calibration = report.Calibration;
        page.Raw("<section aria-labelledby=\"reliability\">").Heading($"Reliability diagram ({report.Window})", "reliability")
            .Sources(scope.Rest("/api/v1/metrics/agents/" + Uri.EscapeDataString(report.Agent!), ("window", report.Window)),
                scope.Grafana(GrafanaDashboards.Quality, report.Agent), "PerfOtel / Quality (reliability diagram)");
        page.Figures()
            .Figure("Calibration samples", "calibrationSamples", calibration.Samples, NumberFormat.Count)
            .Figure("ECE", "expectedCalibrationError", calibration.ExpectedCalibrationError, NumberFormat.Plain)
            .Figure("MCE", "maximumCalibrationError", calibration.MaximumCalibrationError, NumberFormat.Plain)
            .Figure("Brier score", "brierScore", calibration.BrierScore, NumberFormat.Plain)
            .Figure("Overconfidence", "overconfidence", calibration.Overconfidence, NumberFormat.Plain)
            .EndFigures();
        if (calibration.Withheld)
        {
            page.Paragraph($"ECE, MCE and Brier are withheld below {calibration.MinimumSamples} samples; the bins are drawn as they are.", "sources");
        }
        // The two charts depend on the bins alone: drawn once per report (a new report after new data draws them anew).
        page.Raw(ReliabilityCharts.GetValue(calibration, _ => DrawReliability(report)));
        page.Table("Calibration bins", "Bin", "Samples", "Mean confidence", "Success rate", "Gap");
        foreach (var bin in calibration.Bins)
        {
            page.Row(bin.Bin.ToString(System.Globalization.CultureInfo.InvariantCulture))
                .RowHeader($"{bin.Lower:0.0}–{bin.Upper:0.0}")
                .Number("samples", bin.Samples, NumberFormat.Count)
                .Number("meanConfidence", bin.MeanConfidence, NumberFormat.Plain)
                .Number("successRate", bin.SuccessRate, NumberFormat.Plain)
                .Number("gap", bin.SuccessRate - bin.MeanConfidence, NumberFormat.Plain).EndRow();
        }
        page.EndTable().Raw("</section>");
    }

    /// <summary>The reliability diagram and the bin counts of a report, kept with its calibration (one per report built).</summary>
    private static readonly ConditionalWeakTable<CalibrationReport, string> ReliabilityCharts = new();

    private static string DrawReliability(AgentReport report)
    {
        var calibration = report.Calibration;
        var charts = PageWriter.Fragment(24 * 1024);
        var filled = calibration.Bins.Where(b => b.Samples > 0 && b.MeanConfidence is not null && b.SuccessRate is not null).ToList();

        var model = Charts.Model();
        var x = Charts.Linear(AxisPosition.Bottom, "Mean confidence in the bin", 0, 1, "0.0");
        var y = Charts.Linear(AxisPosition.Left, "Observed success rate", 0, 1, "0.0");
        model.Axes.Add(x);
        model.Axes.Add(y);
        var diagonal = new LineSeries { Color = Charts.Grey, LineStyle = LineStyle.Dash, StrokeThickness = 1.5, Title = "Perfect calibration" };
        diagonal.Points.Add(new DataPoint(0, 0));
        diagonal.Points.Add(new DataPoint(1, 1));
        model.Series.Add(diagonal);
        var observed = new LineSeries { Color = Charts.Blue, StrokeThickness = 1.5, Title = "Observed" };
        var points = new ScatterSeries { MarkerType = MarkerType.Circle, MarkerFill = Charts.Blue, MarkerStroke = OxyColors.White, MarkerStrokeThickness = 1, MarkerSize = 6 };
        foreach (var bin in filled)
        {
            observed.Points.Add(new DataPoint(bin.MeanConfidence!.Value, bin.SuccessRate!.Value));
            points.Points.Add(new ScatterPoint(bin.MeanConfidence.Value, bin.SuccessRate.Value));
        }
        model.Series.Add(observed);
        model.Series.Add(points);
        var description = filled.Count == 0
            ? "No invocation of this agent reported a confidence in this window."
            : "Each point is a confidence bin: its mean confidence against the share of its invocations that succeeded; " +
              "points below the dashed diagonal are overconfident. " + string.Join("; ", filled.Select(b =>
                  $"bin {b.Lower:0.0}-{b.Upper:0.0}: {b.Samples} samples, mean confidence {b.MeanConfidence:0.000}, success {b.SuccessRate:0.000}")) + ".";
        charts.Chart(Charts.Svg(model, 420, "chart-reliability", $"Reliability diagram of {report.Agent} over {report.Window}", description, x, y),
            "Confidence against observed success per bin (dashed: perfect calibration). The bin counts follow, and the table has every bin.");

        var counts = Charts.Model();
        var countX = Charts.Linear(AxisPosition.Bottom, "Confidence", 0, 1, "0.0");
        var countY = Charts.Linear(AxisPosition.Left, "Samples", 0, null, "0");
        countY.MinimumMajorStep = 1;
        counts.Axes.Add(countX);
        counts.Axes.Add(countY);
        var bars = new RectangleBarSeries { FillColor = Charts.Blue, StrokeColor = OxyColors.White, StrokeThickness = 1 };
        foreach (var bin in calibration.Bins)
        {
            bars.Items.Add(new RectangleBarItem(bin.Lower, 0, bin.Upper, bin.Samples));
        }
        if (calibration.Bins.All(b => b.Samples == 0))
        {
            countY.Maximum = 1;
        }
        counts.Series.Add(bars);
        charts.Chart(Charts.Svg(counts, 220, "chart-bin-counts", $"Samples per confidence bin of {report.Agent}",
                "Number of invocations in each confidence bin: " + string.Join(", ", calibration.Bins.Select(b => $"{b.Lower:0.0}-{b.Upper:0.0}: {b.Samples}")) + ".",
                countX, countY),
            "How many invocations fall in each confidence bin: a point backed by few samples says little.");
        return charts.Markup();
    }

    private static void TaskTypes(PageWriter page, AgentReport report)
    {
        page.Raw("<section aria-labelledby=\"tasks\">").Heading($"Task types ({report.Window})", "tasks");
        if (report.TaskTypes.Count == 0)
        {
            page.Paragraph("No invocation carried a task type (perfotel.task.type) in this window.");
        }
        else
        {
            page.Table("Task types", "Task type", "Invocations", "Successes", "Success rate");
            foreach (var task in report.TaskTypes)
            {
                page.Row(task.TaskType).RowHeader(task.TaskType)
                    .Number("invocations", task.Invocations, NumberFormat.Count)
                    .Number("successes", task.Successes, NumberFormat.Count)
                    .Number("successRate", task.SuccessRate, NumberFormat.Percent).EndRow();
            }
            page.EndTable();
        }
        page.Raw("</section>");
    }
}

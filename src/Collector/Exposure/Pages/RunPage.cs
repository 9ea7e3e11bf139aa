using System.Globalization;
using Microsoft.Extensions.Options;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Series;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Runs;
using PerfOtel.Collector.Exposure.Api;
using PerfOtel.Collector.Records;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Exposure.Pages;

/// <summary><c>/ui/runs/{traceId}/{spanId}</c>: one run of <c>/api/v1/invocations/{traceId}/{spanId}</c>, its steps on a timeline.</summary>
internal static class RunPage
{
    public static async Task<IResult> HandleAsync(string traceId, string spanId, HttpContext context, RollingWindows windows,
        IExecutionStore store, IOptions<UiOptions> options, CancellationToken cancellationToken)
    {
        if (PageScope.Read(context, windows, options.Value, out var error) is not { } scope)
        {
            return error;
        }
        if (!IsHex(traceId, 32) || !IsHex(spanId, 16))
        {
            return UiEndpoints.Problem(context, scope, StatusCodes.Status400BadRequest, "Bad request",
                "A run is named by its trace id (32 hex digits) and its invocation's span id (16 hex digits).");
        }
        var detail = await RunEndpoints.InspectAsync(store, windows, scope.Tenant, traceId.ToLowerInvariant(), spanId.ToLowerInvariant(),
            cancellationToken).ConfigureAwait(false);
        if (detail is null)
        {
            return UiEndpoints.Problem(context, scope, StatusCodes.Status404NotFound, "Run not found",
                $"No invocation {traceId}/{spanId} in tenant '{scope.Tenant}'.");
        }
        return UiEndpoints.Html(context, Render(scope, detail, windows.Now));
    }

    private static bool IsHex(string text, int length) => text.Length == length && text.All(char.IsAsciiHexDigit);

    public static string Render(PageScope scope, RunDetail detail, DateTimeOffset now)
    {
        var run = detail.Run;
        var page = new PageWriter($"Run of {run.Agent}", scope.Tenant, scope.Carry, scope.SignedIn);
        var end = run.StartTime.AddSeconds(Math.Max(run.DurationSeconds, 1));
        page.Sources(scope.Rest($"/api/v1/invocations/{run.TraceId}/{run.SpanId}"),
            scope.Grafana(GrafanaDashboards.Agent, run.Agent, run.StartTime.AddMinutes(-15), end.AddMinutes(15)), "PerfOtel / Agent drill-down around this run");
        page.Raw("<p>Agent ").Link(scope.Page("/ui/agents/" + Uri.EscapeDataString(run.Agent)), run.Agent)
            .Text($" · trace {run.TraceId} · span {run.SpanId}" + (run.TaskId is { } task ? $" · task {task}" : string.Empty) +
                  (run.TaskType is { } type ? $" · task type {type}" : string.Empty) +
                  " · started " + run.StartTime.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff 'UTC'", CultureInfo.InvariantCulture))
            .Raw("</p>");
        page.Figures()
            .Raw("<div class=\"figure\"><dt>Outcome</dt><dd data-metric=\"outcome\" data-value=\"").Raw(PageWriter.Attribute(run.Outcome))
            .Raw("\" class=\"").Raw(run.Outcome == Outcomes.Failure ? "critical" : run.Outcome == Outcomes.Partial ? "warning" : "ok").Raw("\">")
            .Text(run.Outcome + (run.ErrorType is { } errorType ? $" ({errorType})" : string.Empty)).Raw("</dd></div>")
            .Figure("Duration", "durationSeconds", run.DurationSeconds, NumberFormat.Seconds)
            .Figure("Steps", "stepCount", detail.StepCount, NumberFormat.Count)
            .Figure("Errors", "errorCount", detail.ErrorCount, NumberFormat.Count)
            .Figure("Cost", "costUsd", run.CostUsd, NumberFormat.Usd)
            .Figure("Tokens", "totalTokens", run.TotalTokens, NumberFormat.Count)
            .Figure("Confidence", "confidence", run.Confidence, NumberFormat.Plain)
            .EndFigures();

        page.Raw("<section aria-labelledby=\"problems\">").Heading("Errors and warnings", "problems");
        if (detail.ErrorCount == 0 && run.Warnings.Count == 0)
        {
            page.Paragraph("No step failed and no warning applies.", "ok");
        }
        else
        {
            page.Raw("<ul>");
            foreach (var errorClass in detail.ErrorClasses)
            {
                page.Raw("<li class=\"critical\" data-kind=\"error\">Error: ").Text(errorClass).Raw("</li>");
            }
            foreach (var warning in run.Warnings)
            {
                page.Raw("<li class=\"warning\" data-kind=\"warning\" data-value=\"").Raw(PageWriter.Attribute(warning.Name)).Raw("\">Warning ")
                    .Text(warning.Name + ": " + warning.Message).Raw("</li>");
            }
            page.Raw("</ul>");
        }
        page.Raw("</section>");

        page.Raw("<section aria-labelledby=\"timeline\">").Heading("Steps on a timeline", "timeline");
        var steps = detail.Steps;
        if (steps.Count == 0)
        {
            page.Paragraph("The run recorded no provider or tool call.");
        }
        else
        {
            var labels = steps.Select((s, i) => $"{i + 1}. {s.Operation} {s.Name}").ToList();
            var model = Charts.Model();
            model.PlotMargins = Charts.MarginsFor(labels);
            // Categories top to bottom in step order, as a trace view reads.
            var categories = Charts.Categories(AxisPosition.Left, labels);
            categories.StartPosition = 1;
            categories.EndPosition = 0;
            model.Axes.Add(categories);
            var time = Charts.Linear(AxisPosition.Bottom, "Seconds since the run started", 0, Math.Max(run.DurationSeconds, steps.Max(s => s.OffsetSeconds + s.DurationSeconds)), null);
            model.Axes.Add(time);
            var series = new IntervalBarSeries { StrokeThickness = 0, BarWidth = 0.6, LabelFormatString = null };
            foreach (var step in steps)
            {
                var failed = step.ErrorType is not null || step.Outcome == Outcomes.Failure;
                series.Items.Add(new IntervalBarItem(step.OffsetSeconds, step.OffsetSeconds + step.DurationSeconds)
                {
                    Color = failed ? Charts.Red : step.Kind == RunStep.ToolCallKind ? Charts.Green : Charts.Blue,
                });
            }
            model.Series.Add(series);
            page.Chart(Charts.Svg(model, Charts.BarsHeight(steps.Count), "chart-timeline", $"Steps of the run of {run.Agent}",
                    string.Join("; ", steps.Select((s, i) => $"step {i + 1} {s.Operation} {s.Name} from {s.OffsetSeconds:0.###} s for {s.DurationSeconds:0.###} s" +
                        (s.ErrorType is { } e ? $", failed ({e})" : string.Empty))) + "."),
                "Each step from its start to its end (blue: model call, green: tool call, red: failed); the table lists them.");
            page.Table("Steps", "Step", "Kind", "Start (s)", "Duration", "Model", "Tokens", "Cost", "Error");
            var index = 0;
            foreach (var step in steps)
            {
                index++;
                page.Row(step.SpanId).RowHeader($"{index}. {step.Operation} {step.Name}").Cell(step.Kind.Replace('_', ' '))
                    .Number("offsetSeconds", step.OffsetSeconds, NumberFormat.Plain)
                    .Number("durationSeconds", step.DurationSeconds, NumberFormat.Seconds)
                    .Cell(step.ResponseModel ?? step.RequestModel)
                    .Number("tokens", step.Tokens?.Total, NumberFormat.Count)
                    .Number("costUsd", step.CostUsd, NumberFormat.Usd)
                    .Cell(step.ErrorType is null ? null : step.ErrorType + (step.ErrorClass is { } c ? $" ({c})" : string.Empty),
                        step.ErrorType is null ? null : "critical").EndRow();
            }
            page.EndTable();
        }
        page.Raw("</section>");

        if (detail.Evaluations.Count > 0 || detail.Feedback is not null)
        {
            page.Raw("<section aria-labelledby=\"evaluations\">").Heading("Evaluations and feedback", "evaluations");
            page.Table("Evaluations", "Name", "Score", "Label");
            foreach (var evaluation in detail.Evaluations)
            {
                page.Row(evaluation.Name).RowHeader(evaluation.Name).Number("score", evaluation.Score, NumberFormat.Plain).Cell(evaluation.Label).EndRow();
            }
            if (detail.Feedback is { } feedback)
            {
                page.Row("feedback").RowHeader("feedback " + feedback.FeedbackId).Number("accuracy", feedback.Accuracy, NumberFormat.Plain)
                    .Cell(feedback.Success is { } ok ? (ok ? "success" : "failure") : null).EndRow();
            }
            page.EndTable().Raw("</section>");
        }
        return page.Finish(now);
    }
}

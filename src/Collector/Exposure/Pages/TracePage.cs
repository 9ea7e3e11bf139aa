using System.Globalization;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Exposure.Api;
using PerfOtel.Collector.Records;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Exposure.Pages;

/// <summary>
/// <c>/ui/runs/{traceId}</c>: the runs of one trace, as <c>/api/v1/invocations?traceId=</c> lists them. It is where a
/// Grafana exemplar lands: the Prometheus datasource's <c>exemplarTraceIdDestinations</c> passes the trace id only, so a
/// trace of one run redirects to that run's page and a trace of several lists them (docs/collector/ui.md).
/// </summary>
internal static class TracePage
{
    public static async Task<IResult> HandleAsync(string traceId, HttpContext context, RollingWindows windows,
        IExecutionStore store, IOptions<UiOptions> options, CancellationToken cancellationToken)
    {
        if (PageScope.Read(context, windows, options.Value, out var error) is not { } scope)
        {
            return error;
        }
        if (traceId.Length != 32 || !traceId.All(char.IsAsciiHexDigit))
        {
            return UiEndpoints.Problem(context, scope, StatusCodes.Status400BadRequest, "Bad request",
                "A trace is named by its trace id (32 hex digits).");
        }
        var trace = traceId.ToLowerInvariant();
        var runs = await RunEndpoints.PageAsync(store, windows, new RunSearch { Tenant = scope.Tenant, TraceId = trace, Limit = RunEndpoints.MaxLimit }, null,
            RunEndpoints.MaxLimit, cancellationToken).ConfigureAwait(false);
        if (runs.Invocations.Count == 0)
        {
            return UiEndpoints.Problem(context, scope, StatusCodes.Status404NotFound, "Trace not found",
                $"No invocation of trace {trace} in tenant '{scope.Tenant}'.");
        }
        if (runs.Invocations.Count == 1)
        {
            // 302, like any link that resolves to one place; the tenant and window travel with it.
            return Results.Redirect(scope.Page($"/ui/runs/{trace}/{runs.Invocations[0].SpanId}"));
        }
        return UiEndpoints.Html(context, Render(scope, trace, runs, windows.Now));
    }

    private static string Render(PageScope scope, string trace, InvocationListResponse runs, DateTimeOffset now)
    {
        var page = new PageWriter("Runs of trace " + trace, scope.Tenant, scope.Carry, scope.SignedIn);
        page.Sources(scope.Rest(RunEndpoints.ListRoute, ("traceId", trace), ("limit", RunEndpoints.MaxLimit.ToString(CultureInfo.InvariantCulture))),
            null, null);
        page.Paragraph(runs.NextCursor is null
            ? $"The trace has {runs.Invocations.Count} agent invocations, newest first."
            : $"The trace's newest {runs.Invocations.Count} agent invocations; the REST call pages through the rest.");
        page.Table("Runs of the trace", "Run", "Agent", "Started (UTC)", "Outcome", "Duration", "Cost", "Warnings");
        foreach (var run in runs.Invocations)
        {
            page.Row(run.TraceId + "/" + run.SpanId)
                .RowHeader(run.TaskId ?? run.SpanId, scope.Page($"/ui/runs/{run.TraceId}/{run.SpanId}"))
                .Cell(run.Agent)
                .Cell(run.StartTime.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture))
                .Cell(run.Outcome, run.Outcome == Outcomes.Failure ? "critical" : run.Outcome == Outcomes.Partial ? "warning" : null)
                .Number("durationSeconds", run.DurationSeconds, NumberFormat.Seconds)
                .Number("costUsd", run.CostUsd, NumberFormat.Usd)
                .Cell(run.Warnings.Count == 0 ? "none" : string.Join(", ", run.Warnings.Select(w => w.Name))).EndRow();
        }
        page.EndTable();
        return page.Finish(now);
    }
}

using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Runs;

/// <summary>One page of the run list and the cursor after it; <see cref="Next"/> is null on the last page.</summary>
public sealed record RunPage(IReadOnlyList<RunSummary> Runs, RunCursor? Next);

/// <summary>
/// Reads one page of the run list (<c>GET /api/v1/invocations</c>, docs/collector/rest-api.md, "List and filter runs").
/// Without <c>warning=</c> a page is one index range scan of <c>limit + 1</c> rows. With it, warnings are derived per
/// row (<see cref="RunWarnings"/>) while walking the same index, because they are not facts a write can store: they
/// depend on the tenant's thresholds as configured now, on the agent's current p95 and on feedback that arrives later.
/// The walk is bounded: a page examines at most <see cref="MaxWarningScan"/> rows, read in chunks that double from
/// <see cref="FirstWarningChunk"/> (a common warning costs one small read, a rare one a handful), and otherwise ends
/// with a cursor after the last row examined so that the next page continues the scan.
/// </summary>
public static class RunPages
{
    /// <summary>With a warning filter, the most rows one page examines before it answers with what it found.</summary>
    public const int MaxWarningScan = 5_000;

    /// <summary>With a warning filter, the rows of the first read (or four pages, when more).</summary>
    public const int FirstWarningChunk = 200;

    /// <param name="store">The store's run reads.</param>
    /// <param name="search">The filters, cursor and page size (<see cref="RunSearch.Limit"/> runs).</param>
    /// <param name="warning">Only runs with this warning (one of <see cref="RunWarnings.All"/>); null for all.</param>
    /// <param name="summarize">The list row of a run, warnings included, against its tenant's thresholds.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    public static async Task<RunPage> ReadAsync(IRunStore store, RunSearch search, string? warning,
        Func<RunRow, RunSummary> summarize, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(search);
        ArgumentNullException.ThrowIfNull(summarize);
        var limit = search.Limit;
        var found = new List<RunSummary>();
        RunCursor? next = null;
        var after = search.After;
        var scanned = 0;
        var chunk = Math.Max(limit * 4, FirstWarningChunk);
        while (true)
        {
            // One row beyond the page tells whether another page exists.
            var fetch = warning is null ? limit + 1 : Math.Min(MaxWarningScan - scanned, chunk);
            var rows = await store.SearchRunsAsync(search with { After = after, Limit = fetch }, cancellationToken)
                .ConfigureAwait(false);
            foreach (var row in rows)
            {
                if (found.Count == limit)
                {
                    next = new RunCursor(found[^1].StartTime, found[^1].SpanId, found[^1].TraceId);
                    break;
                }
                scanned++;
                var run = row.Stored.Invocation;
                after = new RunCursor(run.StartTime, run.SpanId, run.TraceId);
                var summary = summarize(row);
                if (warning is null || summary.Warnings.Any(w => w.Name == warning))
                {
                    found.Add(summary);
                }
            }
            if (next is not null || rows.Count < fetch)
            {
                break;
            }
            if (warning is not null && (found.Count == limit || scanned >= MaxWarningScan))
            {
                // Stop scanning: the next page continues after the last row examined.
                next = after;
                break;
            }
            chunk *= 2;
        }
        return new RunPage(found, next);
    }
}

using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Runs;

/// <summary>One page of the run list and the cursor after it; <see cref="Next"/> is null on the last page.</summary>
public sealed record RunPage(IReadOnlyList<RunSummary> Runs, RunCursor? Next);

/// <summary>
/// Reads one page of the run list (<c>GET /api/v1/invocations</c>, docs/collector/rest-api.md, "List and filter runs"):
/// one index range scan of <c>limit + 1</c> rows, <c>warning=</c> included. A warning filter is the warning's own rule
/// evaluated by the store (<see cref="RunWarnings.StoreFilter"/>) with the tenant's thresholds and the agents' p95 of the
/// moment, over the summary of each run's calls that the store's writer keeps; so a page holds <c>limit</c> matches
/// whenever that many exist, and no run is examined twice.
/// </summary>
public static class RunPages
{
    /// <param name="store">The store's run reads.</param>
    /// <param name="search">The filters (a warning's included), cursor and page size (<see cref="RunSearch.Limit"/> runs).</param>
    /// <param name="summarize">The list row of a run, warnings included, against its tenant's thresholds.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public static async Task<RunPage> ReadAsync(IRunStore store, RunSearch search, Func<RunRow, RunSummary> summarize,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(search);
        ArgumentNullException.ThrowIfNull(summarize);
        var limit = search.Limit;
        // One row beyond the page tells whether another page exists.
        var rows = await store.SearchRunsAsync(search with { Limit = limit + 1 }, cancellationToken).ConfigureAwait(false);
        var found = rows.Take(limit).Select(summarize).ToList();
        var next = rows.Count > limit ? new RunCursor(found[^1].StartTime, found[^1].SpanId, found[^1].TraceId) : null;
        return new RunPage(found, next);
    }
}

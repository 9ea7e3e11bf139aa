namespace PerfOtel.Collector.Records;

/// <summary>
/// Position in the newest-first list of invocations: the last row of a page. The next page starts strictly after it
/// in the order (start time, span id, trace id), all descending.
/// </summary>
public sealed record RunCursor(DateTimeOffset StartTime, string SpanId, string TraceId);

/// <summary>Filter of <c>GET /api/v1/invocations</c> as the store applies it, <c>warning=</c> included.</summary>
public sealed record RunSearch
{
    public required string Tenant { get; init; }
    /// <summary>Only the invocations of one trace (the link from an exemplar, which carries the trace id).</summary>
    public string? TraceId { get; init; }
    public string? AgentName { get; init; }
    public string? Outcome { get; init; }
    public string? TaskType { get; init; }
    public string? JobId { get; init; }
    /// <summary>Request or response model of any of the invocation's own provider calls.</summary>
    public string? Model { get; init; }
    /// <summary>The invocation span's own <c>error.type</c>.</summary>
    public string? ErrorType { get; init; }
    public DateTimeOffset? Since { get; init; }
    public DateTimeOffset? Until { get; init; }
    public double? MinDurationSeconds { get; init; }
    /// <summary>On the rolled-up cost (the calls' sum, else the span's own); an invocation of unknown cost never matches.</summary>
    public double? MinCostUsd { get; init; }
    public RunCursor? After { get; init; }
    /// <summary>Only the runs with one warning, by the thresholds of today (built by <c>RunWarnings.StoreFilter</c>).</summary>
    public RunWarningFilter? Warning { get; init; }
    public required int Limit { get; init; }
}

/// <summary>
/// One warning's rule as the store evaluates it (docs/collector/rest-api.md, "Warnings"), with the values of the
/// tenant's thresholds at query time: <see cref="Threshold"/> is the warning's own (minimum confidence, maximum tokens,
/// minimum quality, maximum retries), <see cref="AccuracyThreshold"/> the minimum accuracy of <c>quality_concern</c>,
/// and <see cref="SlowAboveSeconds"/> the duration above which each agent's run is slow (its p95 times the factor;
/// agents without a p95 are absent and never slow).
/// </summary>
public sealed record RunWarningFilter
{
    public required string Warning { get; init; }
    public double Threshold { get; init; }
    public double AccuracyThreshold { get; init; }
    public IReadOnlyDictionary<string, double> SlowAboveSeconds { get; init; } = new Dictionary<string, double>();
}

/// <summary>What an invocation's own provider calls add up to, beyond the token and cost roll-up.</summary>
public readonly record struct CallSummary(long Calls, long Retries, long Fallbacks, long FailedCalls, int MaxAttempt)
{
    public static CallSummary Of(IEnumerable<ProviderCall> calls)
    {
        ArgumentNullException.ThrowIfNull(calls);
        long count = 0, retries = 0, fallbacks = 0, failed = 0;
        var maxAttempt = 0;
        foreach (var call in calls)
        {
            count++;
            retries += call.Attempt > 1 ? 1 : 0;
            fallbacks += call.FallbackFrom is not null ? 1 : 0;
            failed += call.ErrorType is not null ? 1 : 0;
            maxAttempt = Math.Max(maxAttempt, call.Attempt);
        }
        return new CallSummary(count, retries, fallbacks, failed, maxAttempt);
    }
}

/// <summary>One row of an invocation list: the stored invocation and the summary of its provider calls.</summary>
public sealed record RunRow(StoredInvocation Stored, CallSummary Calls);

/// <summary>Every record of one tenant in one trace, in start-time order: the material of a run's steps.</summary>
public sealed record TraceRecords(
    IReadOnlyList<StoredInvocation> Invocations,
    IReadOnlyList<ProviderCall> ProviderCalls,
    IReadOnlyList<ToolCall> ToolCalls,
    IReadOnlyList<EvaluationRecord> Evaluations);

/// <summary>
/// The reads behind investigating runs (<c>/api/v1/invocations</c>, <c>/api/v1/jobs</c>). Implemented by both stores;
/// every read is scoped to one tenant, so another tenant's ids find nothing.
/// </summary>
public interface IRunStore
{
    /// <summary>A page of invocations, newest first, with their roll-ups, feedback and call summaries.</summary>
    Task<IReadOnlyList<RunRow>> SearchRunsAsync(RunSearch search, CancellationToken cancellationToken);

    /// <summary>Every record of the tenant in the trace (empty lists when the trace is unknown to the tenant).</summary>
    Task<TraceRecords> ReadTraceAsync(string tenant, string traceId, CancellationToken cancellationToken);
}

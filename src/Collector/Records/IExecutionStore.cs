namespace PerfOtel.Collector.Records;

/// <summary>Filter for reading invocations back (analytics rebuild, export, REST).</summary>
public sealed record InvocationQuery
{
    public string? Tenant { get; init; }
    public string? AgentName { get; init; }
    public DateTimeOffset? Since { get; init; }
    public DateTimeOffset? Until { get; init; }
    public int? Limit { get; init; }
}

/// <summary>An invocation as read back: the span's record with child roll-ups and joined feedback.</summary>
public sealed record StoredInvocation(
    AgentInvocation Invocation,
    TokenCounts RolledUpTokens,
    double? RolledUpCostUsd,
    long UnpricedTokens,
    FeedbackRecord? Feedback);

/// <summary>
/// Result of posting feedback: joined to a stored invocation now, or kept pending until it arrives.
/// <see cref="AlreadyStored"/>: the feedback id was seen before; nothing changed and the result describes the stored
/// feedback, so observers must not count the join again.
/// </summary>
public sealed record FeedbackResult(bool Joined, AgentInvocation? Invocation, bool AlreadyStored = false)
{
    /// <summary>
    /// The commit position of the transaction that made the join, on a shared store (<see cref="ISharedStore"/>); else
    /// null. Bookkeeping of the derivation leader, not part of the result's value (equality ignores it).
    /// </summary>
    public long? CommitPosition { get; init; }

    public bool Equals(FeedbackResult? other) =>
        other is not null && Joined == other.Joined && Equals(Invocation, other.Invocation) && AlreadyStored == other.AlreadyStored;

    public override int GetHashCode() => HashCode.Combine(Joined, Invocation, AlreadyStored);
}

/// <summary>
/// The durable store behind the collector. Implementations: SQLite (embedded default) and PostgreSQL.
/// A write that returns has been committed: the receiver acknowledges only after it. Writes are idempotent on
/// (tenant, trace id, span id) for spans and on (tenant, feedback id) for feedback.
/// </summary>
public interface IExecutionStore : IAsyncDisposable
{
    /// <summary>Creates or migrates the schema. Called once at start-up.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Commits a batch; returns only once it is durable. Joins pending feedback to new invocations. Returns what the
    /// write stored for the first time: a record already stored (a retried export) or repeated within the batch is
    /// absent, and <see cref="IngestBatch.JoinedFeedback"/> holds the feedback joined to the new invocations. That is
    /// what observers must count. When every record was new the result may be <paramref name="batch"/> itself.
    /// </summary>
    Task<IngestBatch> WriteAsync(IngestBatch batch, CancellationToken cancellationToken);

    /// <summary>
    /// <see cref="WriteAsync"/> answered at COMMIT: the result is what was stored, and
    /// <see cref="CommittedWrite.Durable"/> completes once the commit is durable (it fails when the store could not
    /// make it durable). Until then nothing of it may be acknowledged. The ingest writer uses it to build and commit
    /// the next batch while this one is flushed. A store whose COMMIT returns only once durable completes both together.
    /// </summary>
    async Task<CommittedWrite> WriteCommittedAsync(IngestBatch batch, CancellationToken cancellationToken) =>
        new(await WriteAsync(batch, cancellationToken).ConfigureAwait(false), Task.CompletedTask);

    /// <summary>Stores feedback, joining it to its invocation when that is already stored.</summary>
    Task<FeedbackResult> AddFeedbackAsync(FeedbackRecord feedback, CancellationToken cancellationToken);

    /// <summary>Invocations in start-time order, with roll-ups and feedback, streamed.</summary>
    IAsyncEnumerable<StoredInvocation> ReadInvocationsAsync(InvocationQuery query, CancellationToken cancellationToken);

    /// <summary>Provider calls in start-time order, streamed.</summary>
    IAsyncEnumerable<ProviderCall> ReadProviderCallsAsync(InvocationQuery query, CancellationToken cancellationToken);

    /// <summary>Evaluations in time order, streamed.</summary>
    IAsyncEnumerable<EvaluationRecord> ReadEvaluationsAsync(InvocationQuery query, CancellationToken cancellationToken);

    /// <summary>Tool calls in start-time order, streamed.</summary>
    IAsyncEnumerable<ToolCall> ReadToolCallsAsync(InvocationQuery query, CancellationToken cancellationToken);

    /// <summary>The span links kept for attribution (the last horizons' worth), in no particular order.</summary>
    IAsyncEnumerable<SpanLink> ReadSpanLinksAsync(CancellationToken cancellationToken);

    /// <summary>Deletes records older than the cutoff (retention); returns how many rows went.</summary>
    Task<long> DeleteOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken);
}

/// <summary>A committed write: what it stored, and when it is durable (<see cref="IExecutionStore.WriteCommittedAsync"/>).</summary>
public readonly record struct CommittedWrite(IngestBatch Stored, Task Durable);

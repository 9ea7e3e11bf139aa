namespace PerfOtel.Collector.Records;

/// <summary>
/// A store that several collector processes write at once (PostgreSQL), read back in commit order so that one of them,
/// the derivation leader, derives from everything any of them committed. Every transaction that stores records has a
/// commit position (PostgreSQL's 64-bit transaction id); the watermark is a position below which every transaction has
/// finished, so reading the positions between the last watermark and the current one misses no row of a transaction
/// that was still open and reads no row twice. See docs/collector/scale-out.md.
/// </summary>
public interface ISharedStore
{
    /// <summary>
    /// Tries once to become the derivation leader: a session-level advisory lock on a connection of its own, held for
    /// as long as the returned lease is open (and released by the database when the holder's session dies, whatever
    /// killed the process). Null when another process holds it.
    /// </summary>
    Task<IDerivationLease?> TryAcquireDerivationLeadershipAsync(CancellationToken cancellationToken);

    /// <summary>A position such that every transaction before it has committed or rolled back.</summary>
    Task<long> CommittedWatermarkAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Everything committed by the transactions at positions in [<paramref name="from"/>, <paramref name="to"/>) except
    /// those in <paramref name="skip"/>, as committed batches in the start-up replay's order (every table at once, merged
    /// by time with <see cref="RecordMerge"/>: on equal times provider calls, tool calls, invocations, feedback joins by
    /// their receipt, evaluations), at most <paramref name="batchRecords"/> records each.
    /// A feedback join is read at the position of the transaction that made it.
    /// </summary>
    IAsyncEnumerable<IngestBatch> ReadCommittedAsync(long from, long to, IReadOnlySet<long> skip, int batchRecords,
        CancellationToken cancellationToken);

    /// <summary>
    /// The span links stored by the transactions at positions in [<paramref name="from"/>, <paramref name="to"/>) except
    /// those in <paramref name="skip"/>: what the derivation leader attributes the records of every replica with.
    /// </summary>
    IAsyncEnumerable<SpanLink> ReadCommittedSpanLinksAsync(long from, long to, IReadOnlySet<long> skip, CancellationToken cancellationToken);
}

/// <summary>The derivation leadership of one process: held while open.</summary>
public interface IDerivationLease : IAsyncDisposable
{
    /// <summary>Checks that the session holding the lock is alive; false once it is gone (the lock is then free).</summary>
    Task<bool> IsHeldAsync(CancellationToken cancellationToken);
}

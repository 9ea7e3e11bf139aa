using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Coordination;

/// <summary>
/// The ingest writer's door to the seam. Alone on its store, a commit goes straight to <see cref="DerivationPipeline"/>,
/// as it always did. On a shared store the writer's commits reach the pipeline only on the derivation leader, and each
/// is noted by its commit position so that the leader's reading of the shared store (<see cref="SharedDerivation"/>)
/// skips it: every committed record is applied exactly once, whichever replica committed it.
/// </summary>
/// <remarks>
/// The writer holds <see cref="EnterCommitAsync"/> from before its transaction until the commit is noted; the reader
/// takes its watermark inside the same gate. A commit of this process is therefore either noted before the watermark
/// is taken, or its transaction starts after it and gets a position at or above the watermark, which that reading does
/// not reach.
/// </remarks>
public sealed class LiveDerivations(DerivationPipeline pipeline, DerivationRole role)
{
    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly HashSet<long> ownCommits = [];

    /// <summary>
    /// Whether this process derives now (alone on its store, or as the derivation leader): then its writer also
    /// attributes what it commits. Read inside the commit section, where it cannot change.
    /// </summary>
    public bool IsDeriving => role.IsDeriving;

    /// <summary>
    /// Whether the writer may apply its commits after it has gone on to the next transaction (alone on its store: no
    /// commit section to hold, no other replica's commits to interleave). The writer then hands each commit, in commit
    /// order, to one applier of its own, so the derivations still see exactly the same batches in the same order.
    /// </summary>
    public bool MayApplyBehindTheWriter => !role.Shared;

    /// <summary>Enters the commit section (a no-op alone on the store); dispose after <see cref="Committed"/>.</summary>
    public async ValueTask<IDisposable> EnterCommitAsync()
    {
        if (!role.Shared)
        {
            return NoGate.Instance;
        }
        await gate.WaitAsync().ConfigureAwait(false);
        return new Release(gate);
    }

    /// <summary>
    /// Applies what a commit newly stored, on the process that derives; notes its positions when shared (one per
    /// transaction: a large PostgreSQL write is several, committed within the same commit section).
    /// </summary>
    public void Committed(IngestBatch stored, IReadOnlyList<long> commitPositions)
    {
        ArgumentNullException.ThrowIfNull(stored);
        ArgumentNullException.ThrowIfNull(commitPositions);
        if (!role.IsDeriving)
        {
            return;
        }
        if (role.Shared && commitPositions.Count > 0)
        {
            lock (ownCommits)
            {
                ownCommits.UnionWith(commitPositions);
            }
        }
        if (stored.Count > 0 || stored.JoinedFeedback.Count > 0)
        {
            pipeline.Apply(stored);
        }
    }

    /// <summary>
    /// Enters the commit section for a reading of the shared store: the writer does not commit (nor attribute) while the
    /// leader takes its watermark, reads up to it and applies what it read, so the two never interleave.
    /// </summary>
    internal async Task<IDisposable> EnterReadingAsync(CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        return new Release(gate);
    }

    /// <summary>Takes the store's watermark with the commits this process applied itself; call inside the commit section.</summary>
    internal async Task<(long Watermark, HashSet<long> Applied)> WatermarkAsync(ISharedStore store, CancellationToken cancellationToken)
    {
        var watermark = await store.CommittedWatermarkAsync(cancellationToken).ConfigureAwait(false);
        lock (ownCommits)
        {
            return (watermark, [.. ownCommits]);
        }
    }

    /// <summary>Switches this process to deriving, between two commits of the writer.</summary>
    internal async Task BecomeLeaderAsync(CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            role.BecomeLeader();
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Forgets the noted commits below <paramref name="watermark"/>: the reader will not come back to them.</summary>
    internal void Forget(long watermark)
    {
        lock (ownCommits)
        {
            ownCommits.RemoveWhere(position => position < watermark);
        }
    }

    private sealed class Release(SemaphoreSlim gate) : IDisposable
    {
        private int released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref released, 1) == 0)
            {
                gate.Release();
            }
        }
    }

    private sealed class NoGate : IDisposable
    {
        public static readonly NoGate Instance = new();

        public void Dispose()
        {
        }
    }
}

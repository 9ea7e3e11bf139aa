using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Derived.Coordination;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Ingest;

/// <summary>
/// The single consumer of the ingest queue: coalesces waiting batches into one store transaction, completes each
/// handler's promise only after the commit and after applying what was new to the derivations (the one seam, through
/// <see cref="LiveDerivations"/>, which on a store shared by several replicas applies only on the derivation leader). Feedback posted through the API comes the same way, after the spans of its group. On
/// shutdown it keeps going until the queue, closed to new work when the application starts stopping, is empty: whatever
/// a handler accepted gets committed. Attribution across requests is resolved here, in the commit: the batch's span links
/// and the updates of earlier records they attribute go into the same transaction, and the derivations see a call only
/// once its agent is known (<see cref="SpanAttribution"/>); between batches the writer releases what waited a whole
/// horizon.
/// </summary>
/// <remarks>
/// Alone on its store (<see cref="LiveDerivations.MayApplyBehindTheWriter"/>) the writer does not apply a commit itself:
/// it hands the commit's records and its senders to one applier task, in commit order, and goes on to the next
/// transaction. The applier applies each to the derivations and only then answers its senders, so the derivations see
/// the same batches in the same order as before and a sender's 200 still comes after its data is derived; only the
/// next commit no longer waits for the derivations. On a shared store the commit section must cover the application,
/// so the writer applies inline, as it always did. The store answers the writer at COMMIT
/// (<see cref="IExecutionStore.WriteCommittedAsync"/>) with the flush that makes the commit durable still running
/// beside it (SQLite at durability <c>full</c>): the writer goes on with the next batch, and the commit is applied and
/// its senders answered only once that flush is done.
/// </remarks>
internal sealed partial class IngestWriter(
    IngestQueue queue,
    IExecutionStore store,
    LiveDerivations derivations,
    SpanAttribution attribution,
    TimeProvider time,
    IOptions<IngestOptions> options,
    CollectorMetrics metrics,
    IHostApplicationLifetime lifetime,
    ILogger<IngestWriter> logger) : BackgroundService
{
    private readonly int _maxWriteBatchRecords = options.Value.MaxWriteBatchRecords;

    // Work after a commit (apply to the derivations, answer the senders), in commit order; bounded by the ingest queue,
    // whose records are released only once their work here is done.
    // Each waits for its commit's flush (Durable) first: a sender is answered only once its data is on disk.
    private readonly Channel<(Task Durable, Action<Exception?> Work)> _applier =
        Channel.CreateUnbounded<(Task Durable, Action<Exception?> Work)>(
            new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    // Held records are released (without an agent) at the first commit or sweep after their horizon: sweeping this
    // often bounds how late that is when no data arrives.
    private readonly TimeSpan _sweepInterval = TimeSpan.FromTicks(Math.Clamp(options.Value.AttributionHorizon.Ticks / 10,
        TimeSpan.FromMilliseconds(100).Ticks, TimeSpan.FromSeconds(5).Ticks));

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStopping.Register(queue.StopAccepting);
        return base.StartAsync(cancellationToken);
    }

    public override Task StopAsync(CancellationToken cancellationToken)
    {
        queue.StopAccepting();
        return base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Not stoppingToken: the loop ends when the queue is closed and drained, never with accepted work inside.
        var reader = queue.Reader;
        var group = new List<PendingBatch>();
        metrics.ObserveAttribution(() => attribution.PendingRecords, () => attribution.Links, () => attribution.EvictedLinks);
        var applier = Task.Run(RunApplierAsync, CancellationToken.None);
        try
        {
            await WriteAsync(reader, group).ConfigureAwait(false);
        }
        finally
        {
            // Everything committed is applied and answered before the writer ends.
            _applier.Writer.TryComplete();
            await applier.ConfigureAwait(false);
        }
    }

    private async Task WriteAsync(ChannelReader<PendingBatch> reader, List<PendingBatch> group)
    {
        while (true)
        {
            var waiting = reader.WaitToReadAsync(CancellationToken.None).AsTask();
            while (!waiting.IsCompleted)
            {
                using var stop = new CancellationTokenSource();
                var tick = Task.Delay(_sweepInterval, time, stop.Token);
                if (await Task.WhenAny(waiting, tick).ConfigureAwait(false) == tick)
                {
                    await SweepAsync().ConfigureAwait(false);
                }
                else
                {
                    await stop.CancelAsync().ConfigureAwait(false);
                }
            }
            if (!await waiting.ConfigureAwait(false))
            {
                break;
            }

            group.Clear();
            var records = 0;
            while (records < _maxWriteBatchRecords && reader.TryRead(out var pending))
            {
                pending.TakenAt = Stopwatch.GetTimestamp();
                group.Add(pending);
                records += pending.Batch.Count;
            }

            await CommitGroupAsync(group).ConfigureAwait(false);
        }
    }

    /// <summary>Runs the work after each commit, one at a time, in the order the writer committed.</summary>
    private async Task RunApplierAsync()
    {
        var reader = _applier.Reader;
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (reader.TryRead(out var item))
            {
                var notDurable = await FlushedAsync(item.Durable).ConfigureAwait(false);
                var started = Stopwatch.GetTimestamp();
                item.Work(notDurable);
                metrics.IngestApplied(Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
        }
    }

    /// <summary>Waits for a commit's flush: null once durable, else why it could not be made durable.</summary>
    private static async Task<Exception?> FlushedAsync(Task durable)
    {
        try
        {
            await durable.ConfigureAwait(false);
            return null;
        }
#pragma warning disable CA1031 // The failure goes to the senders (503, they retry); the applier must live on.
        catch (Exception error)
#pragma warning restore CA1031
        {
            return error;
        }
    }

    /// <summary>
    /// Applies a commit and answers its senders once it is <paramref name="durable"/>: behind the writer, in commit
    /// order, when alone on the store; inline otherwise. <paramref name="work"/> gets null, or the error that kept the
    /// commit from being made durable; it must not throw (the derivation pipeline keeps one derivation's failure to
    /// itself; completing a sender's promise does not throw).
    /// </summary>
    private async Task AfterCommitAsync(Task durable, Action<Exception?> work)
    {
        if (!derivations.MayApplyBehindTheWriter || !_applier.Writer.TryWrite((durable, work)))
        {
            var notDurable = await FlushedAsync(durable).ConfigureAwait(false);
            var started = Stopwatch.GetTimestamp();
            work(notDurable);
            metrics.IngestApplied(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    private Task AfterCommitAsync(Action work) => AfterCommitAsync(Task.CompletedTask, _ => work());

    private async Task CommitGroupAsync(List<PendingBatch> group)
    {
        if (group.Exists(p => p.Batch.Feedback.Count > 0))
        {
            var spans = group.FindAll(p => p.Batch.Feedback.Count == 0);
            if (spans.Count > 0)
            {
                await CommitGroupAsync(spans).ConfigureAwait(false);
            }
            foreach (var feedback in group.FindAll(p => p.Batch.Feedback.Count > 0))
            {
                await CommitFeedbackAsync(feedback).ConfigureAwait(false);
            }
            return;
        }

        if (group.Count == 1)
        {
            await CommitAsync(group[0].Batch, group).ConfigureAwait(false);
            return;
        }

        var merged = new IngestBatch();
        // Each list sized once for the whole group rather than grown through its doublings.
        int invocations = 0, calls = 0, tools = 0, evaluations = 0, links = 0;
        foreach (var pending in group)
        {
            invocations += pending.Batch.Invocations.Count;
            calls += pending.Batch.ProviderCalls.Count;
            tools += pending.Batch.ToolCalls.Count;
            evaluations += pending.Batch.Evaluations.Count;
            links += pending.Batch.SpanLinks.Count;
        }
        merged.Invocations.EnsureCapacity(invocations);
        merged.ProviderCalls.EnsureCapacity(calls);
        merged.ToolCalls.EnsureCapacity(tools);
        merged.Evaluations.EnsureCapacity(evaluations);
        merged.SpanLinks.EnsureCapacity(links);
        foreach (var pending in group)
        {
            merged.Invocations.AddRange(pending.Batch.Invocations);
            merged.ProviderCalls.AddRange(pending.Batch.ProviderCalls);
            merged.ToolCalls.AddRange(pending.Batch.ToolCalls);
            merged.Evaluations.AddRange(pending.Batch.Evaluations);
            merged.SpanLinks.AddRange(pending.Batch.SpanLinks);
        }

        if (await CommitAsync(merged, group, finalAttempt: false).ConfigureAwait(false))
        {
            return;
        }

        // One bad request must not fail the others it was coalesced with: retry each on its own.
        foreach (var pending in group)
        {
            await CommitAsync(pending.Batch, [pending]).ConfigureAwait(false);
        }
    }

    private async Task<bool> CommitAsync(IngestBatch batch, List<PendingBatch> owners, bool finalAttempt = true)
    {
        var started = Stopwatch.GetTimestamp();
        IngestBatch stored;
        Task durable;
        // Held from before the transaction until its records are applied (docs/collector/scale-out.md).
        using var commitSection = await derivations.EnterCommitAsync().ConfigureAwait(false);
        // The process that derives attributes (alone on its store, or the derivation leader); a replica that does not
        // derive only stores the records and their links, which the leader reads and attributes in commit order.
        var plan = derivations.IsDeriving ? attribution.Plan(batch, time.GetUtcNow()) : null;
        try
        {
            // Answered at COMMIT: the flush that makes it durable runs while the next batch is planned and written.
            (stored, durable) = await store.WriteCommittedAsync(plan?.ToStore ?? Stamped(batch, time.GetUtcNow()),
                CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Any store failure is reported to the waiting senders as retryable; the writer must live on.
        catch (Exception error)
#pragma warning restore CA1031
        {
            metrics.StoreWrite(Stopwatch.GetElapsedTime(started).TotalSeconds, committed: false, batch.Count);
            LogWriteFailed(logger, batch.Count, owners.Count, error);
            if (finalAttempt)
            {
                foreach (var pending in owners)
                {
                    queue.Release(pending);
                    pending.MarkFailed(error);
                }
            }

            return false;
        }

        var committedAt = Stopwatch.GetTimestamp();
        metrics.StoreWrite(Stopwatch.GetElapsedTime(started, committedAt).TotalSeconds, committed: true, stored.Count, batch.Count - stored.Count);

        // Derivations first, then the senders: once a sender has its 200, the REST API and /metrics already show its
        // data (read-your-writes), which is what clients and tests that query right after sending expect. Derivations
        // see only what was stored for the first time: an exporter's retry of spans already committed adds nothing.
        // Both wait for the commit's flush. Should it fail, the records are stored all the same (readable, and a
        // restart that finds them derives them), so they are derived; only the senders get the error and retry, and
        // their retry stores and counts nothing new.
        var counted = plan is null ? stored : Committed(plan, stored);
        var positions = stored.CommitPositions;
        var answered = owners.ToArray();
        await AfterCommitAsync(durable, notDurable =>
        {
            var applying = Stopwatch.GetTimestamp();
            derivations.Committed(counted, positions);
            foreach (var pending in answered)
            {
                queue.Release(pending);
                if (notDurable is null)
                {
                    pending.MarkCommitted();
                }
                else
                {
                    pending.MarkFailed(notDurable);
                }
            }
            foreach (var pending in answered)
            {
                metrics.IngestPhaseEnded(IngestPhase.Queue, pending.EnqueuedAt, pending.TakenAt);
                metrics.IngestPhaseEnded(IngestPhase.Write, pending.TakenAt, committedAt);
                metrics.IngestPhaseEnded(IngestPhase.Durable, committedAt, applying);
                metrics.IngestPhaseEnded(IngestPhase.Apply, applying, pending.AnsweredAt);
            }
        }).ConfigureAwait(false);

        return true;
    }

    /// <summary>
    /// Stores each feedback record (one transaction each: the store joins it to its invocation when that is stored) and
    /// applies every new join to the derivations before the sender gets its answer. A failure fails the sender, which
    /// retries; what was committed before stays and is recognised by its feedback id.
    /// </summary>
    private async Task CommitFeedbackAsync(PendingBatch pending)
    {
        var results = new List<FeedbackResult>(pending.Batch.Feedback.Count);
        try
        {
            foreach (var feedback in pending.Batch.Feedback)
            {
                using var commitSection = await derivations.EnterCommitAsync().ConfigureAwait(false);
                var result = await store.AddFeedbackAsync(feedback, CancellationToken.None).ConfigureAwait(false);
                results.Add(result);
                if (result is { Joined: true, Invocation: { } invocation, AlreadyStored: false })
                {
                    var joined = new IngestBatch();
                    joined.JoinedFeedback.Add(new FeedbackJoin(invocation, feedback));
                    IReadOnlyList<long> positions = result.CommitPosition is { } position ? [position] : [];
                    await AfterCommitAsync(() => derivations.Committed(joined, positions)).ConfigureAwait(false);
                }
            }
        }
#pragma warning disable CA1031 // Any store failure is reported to the sender as retryable; the writer must live on.
        catch (Exception error)
#pragma warning restore CA1031
        {
            LogFeedbackFailed(logger, pending.Batch.Feedback.Count, error);
            await AfterCommitAsync(() =>
            {
                queue.Release(pending);
                pending.MarkFailed(error);
            }).ConfigureAwait(false);
            return;
        }

        await AfterCommitAsync(() =>
        {
            queue.Release(pending);
            pending.MarkCommitted(results);
        }).ConfigureAwait(false);
    }

    /// <summary>The batch with its span links stamped with the time this replica saw them (the horizon counts from it).</summary>
    private static IngestBatch Stamped(IngestBatch batch, DateTimeOffset now)
    {
        for (var i = 0; i < batch.SpanLinks.Count; i++)
        {
            batch.SpanLinks[i] = batch.SpanLinks[i] with { SeenAt = now };
        }
        return batch;
    }

    /// <summary>What the derivations count after a committed plan, with the attribution self-metrics.</summary>
    private IngestBatch Committed(AttributionPlan plan, IngestBatch stored)
    {
        var counted = attribution.Commit(plan, stored);
        metrics.Attribution(plan.ResolvedRecords, plan.ExpiredRecords, plan.Late.Count);
        return counted;
    }

    /// <summary>Releases, between batches, the held records whose horizon passed (and prunes old links when due).</summary>
    private async Task SweepAsync()
    {
        if (!derivations.IsDeriving)
        {
            return;
        }
        try
        {
            using var commitSection = await derivations.EnterCommitAsync().ConfigureAwait(false);
            var plan = attribution.Plan(new IngestBatch(), time.GetUtcNow());
            if (plan.Expired.Count == 0 && !plan.ToStore.HasWork)
            {
                return;
            }
            var stored = await store.WriteAsync(plan.ToStore, CancellationToken.None).ConfigureAwait(false);
            var counted = Committed(plan, stored);
            var positions = stored.CommitPositions;
            await AfterCommitAsync(() => derivations.Committed(counted, positions)).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A failed prune is retried at the next sweep; the writer must live on.
        catch (Exception error)
#pragma warning restore CA1031
        {
            LogSweepFailed(logger, error);
        }
    }

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Releasing attribution-held records or pruning span links failed; retried at the next sweep")]
    private static partial void LogSweepFailed(ILogger logger, Exception error);

    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Store write of {Records} records from {Requests} requests failed; senders get 503 and retry")]
    private static partial void LogWriteFailed(ILogger logger, int records, int requests, Exception error);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "Store write of {Records} feedback records failed; the sender gets 503 and retries")]
    private static partial void LogFeedbackFailed(ILogger logger, int records, Exception error);
}

using System.Diagnostics;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Coordination;

/// <summary>
/// Several replicas on one PostgreSQL (docs/collector/scale-out.md): every replica ingests; the one holding the
/// database's advisory lock derives. The leader reads, in commit order, everything committed by any replica (its own
/// commits it applied live, see <see cref="LiveDerivations"/>), so its derived state is a function of the store. A
/// replica that takes over starts from an empty state and reads the whole store once through the same path before it
/// exposes anything. A leader whose session is lost stops the process: its state cannot be handed back, and the
/// restarted process comes back as a follower. Alone on its store this service does nothing
/// (<see cref="DerivationReplay"/> runs instead).
/// </summary>
/// <remarks>
/// Attribution across requests (docs/architecture.md, "Attribution") is the leader's too: the other replicas store
/// records and span links as they come; the leader reads the links with the records, in commit order, and runs the same
/// <see cref="SpanAttribution"/> as a single collector's writer on them: a call waits for its ancestors whichever
/// replica stored them, is counted once on its agent when they are known, or without an agent when its horizon passes.
/// Each decision (the stored rows' agent, a span's expiry) is written to the store before the derivations count it, so
/// a leader that takes over decides from the store as its predecessor did.
/// </remarks>
public sealed partial class SharedDerivation(
    DerivationRole role,
    LiveDerivations live,
    DerivationPipeline pipeline,
    SpanAttribution attribution,
    IOptions<DerivationOptions> options,
    ILogger<SharedDerivation> logger,
    CollectorMetrics? metrics = null,
    TimeProvider? time = null,
    IHostApplicationLifetime? lifetime = null,
    InvocationAttribution? facts = null) : BackgroundService
{
    // Real time, not the registered clock: a test's fixed clock must not stop the leader from reading.
    private static readonly TimeProvider clock = TimeProvider.System;

    private IDerivationLease? lease;
    private long cursor;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!role.Shared)
        {
            return;
        }
        // Before the server listens: a replica that is first (or alone) derives from the whole store before its first
        // answer, as a single collector's start-up replay does.
        await TryLeadAsync(cancellationToken).ConfigureAwait(false);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        // Taken once: a second stop running beside this one (the host's and the application lifetime's) found the lease
        // still set and then released it under this one, which read it again (a CI run's NullReferenceException).
        if (Interlocked.Exchange(ref lease, null) is { } held)
        {
            role.StopDeriving();
            await held.DisposeAsync().ConfigureAwait(false);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        while (!stoppingToken.IsCancellationRequested)
        {
            // Read once an iteration: StopAsync beside this loop may take the lease (and release it) at any point.
            var held = Volatile.Read(ref lease);
            if (held is not null && !role.IsDeriving)
            {
                return; // gave the leadership up; the application is stopping
            }
            try
            {
                if (held is null)
                {
                    await Task.Delay(settings.LeaderRetryInterval, clock, stoppingToken).ConfigureAwait(false);
                    await TryLeadAsync(stoppingToken).ConfigureAwait(false);
                    continue;
                }

                await Task.Delay(settings.TailInterval, clock, stoppingToken).ConfigureAwait(false);
                if (!await held.IsHeldAsync(stoppingToken).ConfigureAwait(false))
                {
                    LostLeadership();
                    return;
                }
                await CatchUpAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The database may be away for a while: retry at the next interval, the lag metric shows it.
            catch (Exception error)
#pragma warning restore CA1031
            {
                LogReadFailed(logger, error);
            }
        }
    }

    private async Task TryLeadAsync(CancellationToken cancellationToken)
    {
        var store = role.SharedStore!;
        var acquired = await store.TryAcquireDerivationLeadershipAsync(cancellationToken).ConfigureAwait(false);
        if (acquired is null)
        {
            return;
        }
        lease = acquired;
        await live.BecomeLeaderAsync(cancellationToken).ConfigureAwait(false);
        var started = Stopwatch.GetTimestamp();
        var records = await CatchUpAsync(cancellationToken).ConfigureAwait(false);
        LogLeading(logger, records, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    /// <summary>Applies everything committed between the cursor and the current watermark; returns the records read.</summary>
    private async Task<long> CatchUpAsync(CancellationToken cancellationToken)
    {
        var store = role.SharedStore!;
        var takenAt = clock.GetUtcNow();
        using var section = await live.EnterReadingAsync(cancellationToken).ConfigureAwait(false);
        var (watermark, applied) = await live.WatermarkAsync(store, cancellationToken).ConfigureAwait(false);
        // The first reading (the whole store) rebuilds what the predecessor decided: its self-metrics were counted then.
        var counting = cursor > 0;
        long records = 0;
        var changed = false;
        try
        {
            if (watermark > cursor)
            {
                // Links first: they resolve records held from earlier readings and attribute this range's records.
                var links = new IngestBatch();
                await foreach (var link in store.ReadCommittedSpanLinksAsync(cursor, watermark, applied, cancellationToken).ConfigureAwait(false))
                {
                    links.SpanLinks.Add(link);
                }
                changed |= await AttributeAndApplyAsync(store, links, counting, cancellationToken).ConfigureAwait(false);
                await foreach (var batch in store.ReadCommittedAsync(cursor, watermark, applied, DerivationReplay.BatchRecordsFor(facts), cancellationToken)
                                   .ConfigureAwait(false))
                {
                    records += batch.Count + batch.JoinedFeedback.Count;
                    changed |= await AttributeAndApplyAsync(store, batch, counting, cancellationToken).ConfigureAwait(false);
                }
            }
            // What waited a whole horizon is counted without an agent (also when nothing new was committed).
            changed |= await AttributeAndApplyAsync(store, new IngestBatch(), counting, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (changed)
        {
            // Part of the range is applied and the cursor cannot say which part: reading it again would count that
            // part twice. Give the leadership up; the next leader reads the whole store.
            LostLeadership();
            throw;
        }
        if (watermark > cursor)
        {
            cursor = watermark;
            live.Forget(watermark);
        }
        role.CaughtUp(takenAt);
        return records;
    }

    /// <summary>
    /// Attributes stored records (and resolves held ones) with <see cref="SpanAttribution"/>, writes its decisions to the
    /// store, then applies what is counted now. Returns whether anything changed the derived state.
    /// </summary>
    private async Task<bool> AttributeAndApplyAsync(ISharedStore store, IngestBatch read, bool counting, CancellationToken cancellationToken)
    {
        var (plan, attributed) = attribution.PlanStored(read, (time ?? TimeProvider.System).GetUtcNow());
        if (plan.ToStore.HasWork)
        {
            // Decided in the store before counted: a successor reads the same decisions.
            await ((IExecutionStore)store).WriteAsync(plan.ToStore, cancellationToken).ConfigureAwait(false);
        }
        var counted = attribution.Commit(plan, attributed);
        if (counting)
        {
            metrics?.Attribution(plan.ResolvedRecords, plan.ExpiredRecords, plan.Late.Count);
        }
        if (counted.Count == 0 && counted.JoinedFeedback.Count == 0)
        {
            return plan.Resolved.Count > 0 || plan.Expired.Count > 0;
        }
        pipeline.Apply(counted);
        return true;
    }

    private void LostLeadership()
    {
        role.StopDeriving();
        LogLostLeadership(logger);
        Environment.ExitCode = 1;
        lifetime?.StopApplication();
    }

    [LoggerMessage(EventId = 7010, Level = LogLevel.Information, Message = "Derivation leader: read {Records} records committed by every replica in {Seconds:F2} s; this replica now derives and exposes the derived series.")]
    private static partial void LogLeading(ILogger logger, long records, double seconds);

    [LoggerMessage(EventId = 7011, Level = LogLevel.Critical, Message = "The derivation leadership's database session was lost; stopping so that the process restarts as a follower while another replica takes over.")]
    private static partial void LogLostLeadership(ILogger logger);

    [LoggerMessage(EventId = 7012, Level = LogLevel.Warning, Message = "Reading the shared store's commits or the leadership failed; retrying at the next interval.")]
    private static partial void LogReadFailed(ILogger logger, Exception error);
}

using System.Diagnostics;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Ingest;

/// <summary>
/// The single consumer of the ingest queue: coalesces waiting batches into one store transaction, completes each
/// handler's promise only after the commit and after telling the observers about the records that were new. On
/// shutdown it keeps going until the queue, closed to new work when the application starts stopping, is empty: whatever
/// a handler accepted gets committed.
/// </summary>
internal sealed partial class IngestWriter(
    IngestQueue queue,
    IExecutionStore store,
    IEnumerable<IIngestObserver> observers,
    IOptions<IngestOptions> options,
    CollectorMetrics metrics,
    IHostApplicationLifetime lifetime,
    ILogger<IngestWriter> logger) : BackgroundService
{
    private readonly IIngestObserver[] _observers = observers.ToArray();
    private readonly int _maxWriteBatchRecords = options.Value.MaxWriteBatchRecords;

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
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            group.Clear();
            var records = 0;
            while (records < _maxWriteBatchRecords && reader.TryRead(out var pending))
            {
                group.Add(pending);
                records += pending.Batch.Count;
            }

            await CommitGroupAsync(group).ConfigureAwait(false);
        }
    }

    private async Task CommitGroupAsync(List<PendingBatch> group)
    {
        if (group.Count == 1)
        {
            await CommitAsync(group[0].Batch, group).ConfigureAwait(false);
            return;
        }

        var merged = new IngestBatch();
        foreach (var pending in group)
        {
            merged.Invocations.AddRange(pending.Batch.Invocations);
            merged.ProviderCalls.AddRange(pending.Batch.ProviderCalls);
            merged.ToolCalls.AddRange(pending.Batch.ToolCalls);
            merged.Evaluations.AddRange(pending.Batch.Evaluations);
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
        try
        {
            stored = await store.WriteAsync(batch, CancellationToken.None).ConfigureAwait(false);
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

        metrics.StoreWrite(Stopwatch.GetElapsedTime(started).TotalSeconds, committed: true, stored.Count, batch.Count - stored.Count);

        // Observers first, then the senders: once a sender has its 200, the REST API and /metrics already show its
        // data (read-your-writes), which is what clients and tests that query right after sending expect. Observers
        // see only what was stored for the first time: an exporter's retry of spans already committed adds nothing.
        if (stored.Count > 0 || stored.JoinedFeedback.Count > 0)
        {
            Notify(stored);
        }

        foreach (var pending in owners)
        {
            queue.Release(pending);
            pending.MarkCommitted();
        }

        return true;
    }

    private void Notify(IngestBatch batch)
    {
        foreach (var observer in _observers)
        {
            try
            {
                observer.OnCommitted(batch);
            }
#pragma warning disable CA1031 // An observer's bug must not undo an acknowledged commit nor stop the writer.
            catch (Exception error)
#pragma warning restore CA1031
            {
                LogObserverFailed(logger, observer.GetType().Name, error);
            }
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "Store write of {Records} records from {Requests} requests failed; senders get 503 and retry")]
    private static partial void LogWriteFailed(ILogger logger, int records, int requests, Exception error);

    [LoggerMessage(EventId = 2, Level = LogLevel.Error, Message = "Ingest observer {Observer} threw; the commit stands")]
    private static partial void LogObserverFailed(ILogger logger, string observer, Exception error);
}

using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Ingest;

/// <summary>What happened to a batch offered to the queue.</summary>
public enum EnqueueOutcome
{
    Accepted,
    /// <summary>Over the record or byte capacity: the sender should retry later (429).</summary>
    Full,
    /// <summary>The collector is stopping and takes nothing new (503).</summary>
    ShuttingDown,
}

/// <summary>A batch waiting for the writer, and the promise its HTTP handler awaits before acknowledging.</summary>
public sealed class PendingBatch
{
    private readonly TaskCompletionSource _committed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal PendingBatch(IngestBatch batch, long estimatedBytes)
    {
        Batch = batch;
        EstimatedBytes = estimatedBytes;
        EnqueuedAt = Stopwatch.GetTimestamp();
    }

    // When the batch went through each phase (Stopwatch timestamps, 0 until then): the ingest phase self-metric.
    internal long EnqueuedAt { get; }

    /// <summary>When the writer took the batch from the queue (its first attempt).</summary>
    internal long TakenAt { get; set; }

    /// <summary>When the writer answered it (committed or failed): the transport's answer phase starts here.</summary>
    internal long AnsweredAt { get; private set; }

    public IngestBatch Batch { get; }

    public long EstimatedBytes { get; }

    /// <summary>Completes once the batch is durable in the store; faults when the store refused it.</summary>
    public Task Committed => _committed.Task;

    /// <summary>For a batch carrying feedback: what the store did with each record, in order (set before <see cref="Committed"/> completes).</summary>
    public IReadOnlyList<FeedbackResult> FeedbackResults { get; private set; } = [];

    internal void MarkCommitted()
    {
        AnsweredAt = Stopwatch.GetTimestamp();
        _committed.TrySetResult();
    }

    internal void MarkCommitted(IReadOnlyList<FeedbackResult> feedbackResults)
    {
        FeedbackResults = feedbackResults;
        AnsweredAt = Stopwatch.GetTimestamp();
        _committed.TrySetResult();
    }

    internal void MarkFailed(Exception error)
    {
        AnsweredAt = Stopwatch.GetTimestamp();
        _committed.TrySetException(error);
    }
}

/// <summary>
/// Bounded hand-off between the OTLP handlers and the single store writer. Bounded by records and by estimated bytes,
/// so a flood of small or of large requests cannot grow memory; over either bound the handler answers 429 instead of
/// waiting, which keeps request threads and bodies from piling up behind a slow store.
/// </summary>
public sealed class IngestQueue
{
    private readonly Channel<PendingBatch> _channel =
        Channel.CreateUnbounded<PendingBatch>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _gate = new();
    private readonly IngestOptions _options;
    private long _queuedRecords;
    private long _queuedBytes;
    private bool _accepting = true;

    public IngestQueue(IOptions<IngestOptions> options, CollectorMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(metrics);
        _options = options.Value;
        metrics.ObserveQueue(() => Volatile.Read(ref _queuedRecords), () => Volatile.Read(ref _queuedBytes));
    }

    public long QueuedRecords => Volatile.Read(ref _queuedRecords);

    public long QueuedBytes => Volatile.Read(ref _queuedBytes);

    public bool IsAccepting
    {
        get
        {
            lock (_gate)
            {
                return _accepting;
            }
        }
    }

    internal ChannelReader<PendingBatch> Reader => _channel.Reader;

    /// <summary>Offers a batch; on <see cref="EnqueueOutcome.Accepted"/> the caller awaits <see cref="PendingBatch.Committed"/>.</summary>
    public EnqueueOutcome TryEnqueue(IngestBatch batch, out PendingBatch? pending)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var bytes = IngestBatchSize.Estimate(batch);
        lock (_gate)
        {
            pending = null;
            if (!_accepting)
            {
                return EnqueueOutcome.ShuttingDown;
            }

            // An empty queue takes any single batch, so that one request larger than the capacity is not refused forever.
            var empty = _queuedRecords == 0;
            if (!empty && (_queuedRecords + batch.Count > _options.QueueCapacityRecords || _queuedBytes + bytes > _options.QueueCapacityBytes))
            {
                return EnqueueOutcome.Full;
            }

            pending = new PendingBatch(batch, bytes);
            _queuedRecords += batch.Count;
            _queuedBytes += bytes;
            _channel.Writer.TryWrite(pending);
            return EnqueueOutcome.Accepted;
        }
    }

    /// <summary>Stops intake: later offers get <see cref="EnqueueOutcome.ShuttingDown"/>; the writer drains what is queued.</summary>
    public void StopAccepting()
    {
        lock (_gate)
        {
            _accepting = false;
            _channel.Writer.TryComplete();
        }
    }

    /// <summary>Called by the writer once a batch left the queue (committed or failed).</summary>
    internal void Release(PendingBatch pending)
    {
        lock (_gate)
        {
            _queuedRecords -= pending.Batch.Count;
            _queuedBytes -= pending.EstimatedBytes;
        }
    }
}

using Microsoft.Extensions.Options;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Ingest;
using PerfOtel.Collector.Receiving.Http;
using PerfOtel.Collector.Receiving.Mapping;

namespace PerfOtel.Collector.Receiving;

/// <summary>How an export ended, whatever the transport; each transport turns it into its own status.</summary>
internal enum ExportStatus
{
    /// <summary>Committed (or nothing to commit): the sender gets OK, with partial_success for rejected items.</summary>
    Accepted,

    /// <summary>Too many requests being decoded at once: retry later (429 / RESOURCE_EXHAUSTED).</summary>
    Busy,

    /// <summary>The ingest queue is over its bounds: retry later (429 / RESOURCE_EXHAUSTED).</summary>
    QueueFull,

    /// <summary>The collector is stopping: retry, elsewhere or later (503 / UNAVAILABLE).</summary>
    ShuttingDown,

    /// <summary>The store refused the batch: nothing acknowledged, retry later (503 / UNAVAILABLE).</summary>
    StoreFailed,
}

internal readonly record struct ExportOutcome(ExportStatus Status, string Message, long Rejected = 0, string? ErrorMessage = null)
{
    public static ExportOutcome Refused(ExportStatus status) => new(status, status switch
    {
        ExportStatus.Busy => "too many export requests are being decoded at once (Otlp:MaxConcurrentRequests)",
        ExportStatus.QueueFull => "the ingest queue is full (Ingest:QueueCapacityRecords / Ingest:QueueCapacityBytes)",
        ExportStatus.ShuttingDown => "the collector is shutting down",
        ExportStatus.StoreFailed => "the execution store could not commit this batch",
        _ => throw new ArgumentOutOfRangeException(nameof(status), status, "not a refusal"),
    });
}

/// <summary>A mapped export handed to the ingest queue, waiting for its commit.</summary>
internal readonly record struct Submission(OtlpSignal Signal, MappingResult Result, EnqueueOutcome Outcome, PendingBatch? Pending);

/// <summary>
/// The one consumer behind both OTLP transports (the OpenTelemetry Collector's receiver pattern: the transport is a
/// detail at the edge). It admits a request (shutdown, concurrency bound), counts what the mapping received and
/// rejected, hands the records to the ingest queue and waits for their commit, so OTLP/HTTP and OTLP/gRPC keep the
/// same promises: acknowledged only once durable, retryable refusals under pressure, nothing dropped silently.
/// </summary>
internal sealed class OtlpConsumer(
    IngestQueue queue,
    CollectorMetrics metrics,
    IOptions<OtlpOptions> otlpOptions,
    IOptions<IngestOptions> ingestOptions,
    RejectionSummary rejections) : IDisposable
{
    private readonly SemaphoreSlim _decodeSlots = new(otlpOptions.Value.MaxConcurrentRequests, otlpOptions.Value.MaxConcurrentRequests);

    /// <summary>How long a refused sender should wait (HTTP Retry-After, gRPC RetryInfo): <c>Ingest:RetryAfterSeconds</c>.</summary>
    public int RetryAfterSeconds { get; } = ingestOptions.Value.RetryAfterSeconds;

    public CollectorMetrics Metrics => metrics;

    /// <summary>Where the transports note what they refused, for the once-a-minute summary line.</summary>
    public RejectionSummary Rejections => rejections;

    /// <summary>
    /// Admits a request before its body is read and decoded: null when admitted (the caller then owns a decode slot
    /// and must <see cref="Leave"/>), else the refusal.
    /// </summary>
    public ExportStatus? TryEnter()
    {
        if (!queue.IsAccepting)
        {
            return ExportStatus.ShuttingDown;
        }

        return _decodeSlots.Wait(0) ? null : ExportStatus.Busy;
    }

    public void Leave() => _decodeSlots.Release();

    /// <summary>Counts the mapped export and offers its records to the ingest queue (call while holding a slot).</summary>
    public Submission Submit(OtlpSignal signal, MappingResult result)
    {
        signal.CountReceived(metrics, result.Received);
        signal.CountRejected(metrics, result.Rejected, RejectReasons.Invalid);
        rejections.Note($"{signal.Name} items refused in partial_success", result.ErrorMessage, result.Rejected);
        PendingBatch? pending = null;
        var outcome = !result.Batch.HasWork ? EnqueueOutcome.Accepted : queue.TryEnqueue(result.Batch, out pending);
        return new Submission(signal, result, outcome, pending);
    }

    /// <summary>Waits until the submitted records are durable and says how the export ended.</summary>
    public async Task<ExportOutcome> CompleteAsync(Submission submission)
    {
        var (signal, result, outcome, pending) = submission;
        var valid = result.Received - result.Rejected;
        switch (outcome)
        {
            case EnqueueOutcome.Full:
                signal.CountRejected(metrics, valid, RejectReasons.QueueFull);
                return ExportOutcome.Refused(ExportStatus.QueueFull);
            case EnqueueOutcome.ShuttingDown:
                signal.CountRejected(metrics, valid, RejectReasons.ShuttingDown);
                return ExportOutcome.Refused(ExportStatus.ShuttingDown);
        }

        if (pending is not null)
        {
            try
            {
                // Not the request's cancellation: the batch is in the writer's hands; a sender that hung up gets no
                // answer but loses nothing.
                await pending.Committed.ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Whatever the store threw, the sender must hear "retry" and nothing was acknowledged.
            catch (Exception)
#pragma warning restore CA1031
            {
                signal.CountRejected(metrics, valid, RejectReasons.StoreFailed);
                return ExportOutcome.Refused(ExportStatus.StoreFailed);
            }
        }

        signal.CountAccepted(metrics, valid);
        return new ExportOutcome(ExportStatus.Accepted, string.Empty, result.Rejected, result.ErrorMessage);
    }

    /// <summary>
    /// The whole path for a request whose message the transport already decoded (gRPC): admission, mapping under a
    /// decode slot and the queue happen before this returns; the task then only waits for the commit.
    /// </summary>
    /// <remarks>
    /// Deliberately not an async method: an async method keeps its arguments in its state machine until it completes,
    /// and <paramref name="map"/> holds the decoded request (megabytes of message objects for a 1 000-span export).
    /// Kept alive across the commit wait, every in-flight request survived the gen-0 collections of that wait and was
    /// promoted, and gRPC paid for many more gen-2 collections than OTLP/HTTP, whose decoded message is garbage before
    /// it awaits (docs/collector/ingest-performance.md, "OTLP/gRPC against OTLP/HTTP").
    /// </remarks>
    public Task<ExportOutcome> ExportAsync(OtlpSignal signal, Func<MappingResult> map)
    {
        ArgumentNullException.ThrowIfNull(signal);
        ArgumentNullException.ThrowIfNull(map);
        if (TryEnter() is { } refusal)
        {
            return Task.FromResult(ExportOutcome.Refused(refusal));
        }

        Submission submission;
        try
        {
            submission = Submit(signal, map());
        }
        finally
        {
            Leave();
        }

        return CompleteAsync(submission);
    }

    public void Dispose() => _decodeSlots.Dispose();
}

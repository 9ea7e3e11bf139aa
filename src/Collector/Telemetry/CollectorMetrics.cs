using System.Diagnostics;
using System.Diagnostics.Metrics;
using M = PerfOtel.Collector.Telemetry.SelfMetricCatalog;

namespace PerfOtel.Collector.Telemetry;

/// <summary>
/// The collector's own instruments, created from <see cref="SelfMetricCatalog"/> (names, units, descriptions and attributes
/// live there). Created through <see cref="IMeterFactory"/> so each host (and each test host) has its own instruments.
/// Every layer records into it; only the composition root exposes it.
/// </summary>
public sealed class CollectorMetrics
{
    /// <summary>The meter's name (<see cref="SelfMetricCatalog.MeterName"/>).</summary>
    public const string MeterName = SelfMetricCatalog.MeterName;

    private readonly Counter<long> _spansReceived;
    private readonly Counter<long> _spansAccepted;
    private readonly Counter<long> _spansRejected;
    private readonly Counter<long> _logRecordsReceived;
    private readonly Counter<long> _dataPointsReceived;
    private readonly Counter<long> _dataPointsDropped;
    private Func<IReadOnlyList<(string Tenant, int Series)>>? _metricSeries;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _grpcRequests;
    private readonly Counter<long> _misdirectedConnections;
    private readonly Histogram<double> _storeWriteDuration;
    private readonly Histogram<double> _storeCommitDuration;
    private readonly Histogram<double> _storeWalFlushDuration;
    private readonly Histogram<double> _storeCheckpointDuration;
    private readonly Counter<long> _storeCheckpointPages;
    private readonly Counter<long> _storeWalFrames;
    private readonly Counter<long> _storeWritesRedone;
    private readonly Histogram<double> _ingestApplyDuration;
    private readonly Histogram<double> _ingestPhaseDuration;
    private long _storeWalPages = -1;
    private readonly Counter<long> _recordsCommitted;
    private readonly Counter<long> _recordsDuplicate;
    private readonly Counter<long> _cardinalityOverflow;
    private readonly Counter<long> _attributionResolved;
    private readonly Counter<long> _attributionExpired;
    private readonly Counter<long> _attributionLate;
    private readonly Counter<long> _reportDeliveries;
    private Func<IReadOnlyList<(string? Tenant, string Dimension, int Values)>>? _cardinalityTracked;
    private IDerivationStatus? _derivationRole;

    public CollectorMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter = meterFactory.Create(MeterName, typeof(CollectorMetrics).Assembly.GetName().Version?.ToString());
        _spansReceived = Meter.CounterOf<long>(M.SpansReceived);
        _spansAccepted = Meter.CounterOf<long>(M.SpansAccepted);
        _spansRejected = Meter.CounterOf<long>(M.SpansRejected);
        _logRecordsReceived = Meter.CounterOf<long>(M.LogRecordsReceived);
        _dataPointsReceived = Meter.CounterOf<long>(M.MetricPointsReceived);
        _dataPointsDropped = Meter.CounterOf<long>(M.MetricPointsDropped);
        Meter.GaugeOf(M.MetricSeries, ObserveMetricSeries);
        _requests = Meter.CounterOf<long>(M.Requests);
        _grpcRequests = Meter.CounterOf<long>(M.GrpcRequests);
        _misdirectedConnections = Meter.CounterOf<long>(M.MisdirectedConnections);
        _storeWriteDuration = Meter.HistogramOf<double>(M.StoreWriteDuration);
        _storeCommitDuration = Meter.HistogramOf<double>(M.StoreCommitDuration);
        _storeWalFlushDuration = Meter.HistogramOf<double>(M.StoreWalFlushDuration);
        _storeCheckpointDuration = Meter.HistogramOf<double>(M.StoreCheckpointDuration);
        _storeCheckpointPages = Meter.CounterOf<long>(M.StoreCheckpointPages);
        _storeWalFrames = Meter.CounterOf<long>(M.StoreWalFrames);
        _storeWritesRedone = Meter.CounterOf<long>(M.StoreWritesRedone);
        Meter.GaugeOf(M.StoreWalPages, ObserveWalPages);
        _ingestApplyDuration = Meter.HistogramOf<double>(M.IngestApplyDuration);
        _ingestPhaseDuration = Meter.HistogramOf<double>(M.IngestPhaseDuration);
        _recordsCommitted = Meter.CounterOf<long>(M.RecordsCommitted);
        _recordsDuplicate = Meter.CounterOf<long>(M.RecordsDuplicate);
        _attributionResolved = Meter.CounterOf<long>(M.AttributionResolved);
        _attributionExpired = Meter.CounterOf<long>(M.AttributionExpired);
        _attributionLate = Meter.CounterOf<long>(M.AttributionLate);
        _cardinalityOverflow = Meter.CounterOf<long>(M.CardinalityOverflow);
        _reportDeliveries = Meter.CounterOf<long>(M.ReportDeliveries);
        // Created here rather than when the guard connects, so that the catalog is complete without a guard.
        Meter.GaugeOf(M.CardinalityTracked, ObserveCardinalityTracked);
        Meter.GaugeOf(M.DerivationLeader, ObserveDerivationLeader);
        Meter.GaugeOf(M.DerivationLag, ObserveDerivationLag);
    }

    /// <summary>Observes whether this process derives; called once by the role that knows.</summary>
    public void ObserveDerivation(IDerivationStatus role) => _derivationRole = role;

    private IEnumerable<Measurement<long>> ObserveDerivationLeader() =>
        _derivationRole is { } role ? [new Measurement<long>(role.IsDeriving ? 1 : 0)] : [];

    private IEnumerable<Measurement<double>> ObserveDerivationLag() =>
        _derivationRole is { Shared: true, IsDeriving: true, CaughtUpAt: { } caughtUp }
            ? [new Measurement<double>(Math.Max(0, (DateTimeOffset.UtcNow - caughtUp).TotalSeconds))]
            : [];

    /// <summary>The meter; exporters select it by <see cref="MeterName"/>.</summary>
    public Meter Meter { get; }

    /// <summary>
    /// Observes the records held back from the derivations until their attribution is known, the span links the
    /// attribution keeps and those it evicted at its capacity.
    /// </summary>
    public void ObserveAttribution(Func<long> pending, Func<long> links, Func<long> evictedLinks)
    {
        Meter.GaugeOf(M.AttributionPending, pending);
        Meter.GaugeOf(M.AttributionLinks, links);
        Meter.ObservableCounterOf(M.AttributionLinksEvicted, evictedLinks);
    }

    /// <summary>Counts what one commit did to attribution.</summary>
    public void Attribution(long resolved, long expired, long late)
    {
        if (resolved > 0)
        {
            _attributionResolved.Add(resolved);
        }
        if (expired > 0)
        {
            _attributionExpired.Add(expired);
        }
        if (late > 0)
        {
            _attributionLate.Add(late);
        }
    }

    /// <summary>Observes the ingest queue's depth; called once by the queue that owns the numbers.</summary>
    public void ObserveQueue(Func<long> records, Func<long> bytes)
    {
        Meter.GaugeOf(M.QueueRecords, records);
        Meter.GaugeOf(M.QueueBytes, bytes);
    }

    /// <summary>Observes the guard's tracked values; called once by the guard's wiring.</summary>
    public void ObserveCardinality(Func<IReadOnlyList<(string? Tenant, string Dimension, int Values)>> tracked) =>
        _cardinalityTracked = tracked;

    /// <summary>
    /// One committed record folded into overflow in the given dimension (its <see cref="SelfMetricCatalog.DimensionAttribute"/> value);
    /// <paramref name="tenant"/> as kept.
    /// </summary>
    public void CardinalityOverflow(string tenant, string dimension) =>
        _cardinalityOverflow.Add(1, new KeyValuePair<string, object?>(M.TenantAttribute, tenant),
            new KeyValuePair<string, object?>(M.DimensionAttribute, dimension));

    private IEnumerable<Measurement<long>> ObserveCardinalityTracked()
    {
        if (_cardinalityTracked is not { } tracked)
        {
            return [];
        }
        var measurements = new List<Measurement<long>>();
        foreach (var (tenant, dimension, values) in tracked())
        {
            var tags = new TagList { { M.DimensionAttribute, dimension } };
            if (tenant is not null)
            {
                tags.Add(M.TenantAttribute, tenant);
            }
            measurements.Add(new Measurement<long>(values, tags));
        }
        return measurements;
    }

    /// <summary>One scheduled report's delivery to one destination ended: <paramref name="result"/> is delivered or failed.</summary>
    public void ReportDelivery(string schedule, string destination, string result) =>
        _reportDeliveries.Add(1, new KeyValuePair<string, object?>(M.ScheduleAttribute, schedule),
            new KeyValuePair<string, object?>(M.DestinationAttribute, destination), new KeyValuePair<string, object?>(M.ResultAttribute, result));

    public void SpansReceived(long count) => _spansReceived.Add(count);

    public void SpansAccepted(long count) => _spansAccepted.Add(count);

    public void SpansRejected(long count, string reason)
    {
        if (count > 0)
        {
            _spansRejected.Add(count, new KeyValuePair<string, object?>(M.ReasonAttribute, reason));
        }
    }

    public void LogRecordsReceived(long count) => _logRecordsReceived.Add(count);

    public void DataPointsReceived(long count) => _dataPointsReceived.Add(count);

    public void MetricPointsDropped(long count, string reason) =>
        _dataPointsDropped.Add(count, new KeyValuePair<string, object?>(M.ReasonAttribute, reason));

    /// <summary>Observes the re-exposed series per tenant; called once by their owner's wiring.</summary>
    public void ObserveMetricSeries(Func<IReadOnlyList<(string Tenant, int Series)>> series) => _metricSeries = series;

    private IEnumerable<Measurement<long>> ObserveMetricSeries() =>
        _metricSeries is { } series
            ? series().Select(s => new Measurement<long>(s.Series, new KeyValuePair<string, object?>(M.TenantAttribute, s.Tenant)))
            : [];

    public void RequestAnswered(string signal, int statusCode) =>
        _requests.Add(1, new KeyValuePair<string, object?>(M.SignalAttribute, signal), new KeyValuePair<string, object?>(M.StatusCodeAttribute, statusCode));

    public void GrpcRequestAnswered(string signal, int grpcStatusCode) =>
        _grpcRequests.Add(1, new KeyValuePair<string, object?>(M.SignalAttribute, signal), new KeyValuePair<string, object?>(M.GrpcStatusCodeAttribute, grpcStatusCode));

    public void MisdirectedConnection(string listener) =>
        _misdirectedConnections.Add(1, new KeyValuePair<string, object?>(M.ListenerAttribute, listener));

    /// <summary>SQLite: one of the writer's transactions, from its first statement to COMMIT returning.</summary>
    public void StoreCommit(double seconds) => _storeCommitDuration.Record(seconds);

    /// <summary>SQLite: one flush of the WAL to disk.</summary>
    public void StoreWalFlush(double seconds) => _storeWalFlushDuration.Record(seconds);

    /// <summary>SQLite: one checkpoint, by <paramref name="by"/> (<see cref="CheckpointBy"/>), that copied <paramref name="pages"/>.</summary>
    public void StoreCheckpoint(string by, double seconds, long pages)
    {
        var tag = new KeyValuePair<string, object?>(M.CheckpointByAttribute, by);
        _storeCheckpointDuration.Record(seconds, tag);
        if (pages > 0)
        {
            _storeCheckpointPages.Add(pages, tag);
        }
    }

    /// <summary>PostgreSQL: one write (or part of one) rolled back on a stored record and written again skipping stored ones.</summary>
    public void StoreWriteRedone() => _storeWritesRedone.Add(1);

    /// <summary>SQLite: frames one commit appended to the WAL.</summary>
    public void StoreWalFrames(long frames) => _storeWalFrames.Add(frames);

    /// <summary>SQLite: the pages in the WAL after the writer's last commit.</summary>
    public void StoreWalPages(long pages) => Interlocked.Exchange(ref _storeWalPages, pages);

    private IEnumerable<Measurement<long>> ObserveWalPages() =>
        Interlocked.Read(ref _storeWalPages) is >= 0 and var pages ? [new Measurement<long>(pages)] : [];

    /// <summary>One committed batch applied to the derivations and answered, after its flush.</summary>
    public void IngestApplied(double seconds) => _ingestApplyDuration.Record(seconds);

    /// <summary>
    /// One phase of an export request (<see cref="IngestPhase"/>), from <paramref name="from"/> to <paramref name="to"/>
    /// (<see cref="Stopwatch.GetTimestamp"/> values); nothing when either is unknown (0).
    /// </summary>
    public void IngestPhaseEnded(string phase, long from, long to)
    {
        if (from != 0 && to != 0)
        {
            _ingestPhaseDuration.Record(Stopwatch.GetElapsedTime(from, to).TotalSeconds,
                new KeyValuePair<string, object?>(M.PhaseAttribute, phase));
        }
    }

    /// <summary>A store write: for a committed one, how many records were new and how many the store already held.</summary>
    public void StoreWrite(double seconds, bool committed, long newRecords, long duplicateRecords = 0)
    {
        _storeWriteDuration.Record(seconds, new KeyValuePair<string, object?>(M.ResultAttribute, committed ? "committed" : "failed"));
        if (committed)
        {
            _recordsCommitted.Add(newRecords);
            if (duplicateRecords > 0)
            {
                _recordsDuplicate.Add(duplicateRecords);
            }
        }
    }
}

/// <summary>Values of <see cref="SelfMetricCatalog.CheckpointByAttribute"/>.</summary>
public static class CheckpointBy
{
    /// <summary>The store's checkpoint thread, with a connection of its own, beside the writer.</summary>
    public const string Checkpointer = "checkpointer";
    /// <summary>The writer, between two transactions, when the WAL passed its bound.</summary>
    public const string Writer = "writer";
    /// <summary>The writer, with nothing waiting, of the few pages the checkpointer's passes left, so that its next
    /// transaction restarts the WAL.</summary>
    public const string WriterIdle = "writer_idle";
}

/// <summary>Values of <see cref="SelfMetricCatalog.ReasonAttribute"/>.</summary>
public static class RejectReasons
{
    public const string Invalid = "invalid";
    public const string QueueFull = "queue_full";
    public const string ShuttingDown = "shutting_down";
    public const string StoreFailed = "store_failed";
}

/// <summary>
/// Whether this process derives, as the self-metrics report it (<c>perfotel.collector.derivation.*</c>); implemented by
/// the derivation role, which knows.
/// </summary>
public interface IDerivationStatus
{
    /// <summary>True when several replicas may share the store and only the leader derives.</summary>
    bool Shared { get; }

    /// <summary>Whether this process derives now.</summary>
    bool IsDeriving { get; }

    /// <summary>When the shared-store leader last caught up with every replica's commits; null otherwise.</summary>
    DateTimeOffset? CaughtUpAt { get; }
}

/// <summary>Values of <see cref="SelfMetricCatalog.PhaseAttribute"/>, in the order an export request goes through them.</summary>
public static class IngestPhase
{
    /// <summary>OTLP/HTTP: from the handler's start to the whole body read (and decompressed).</summary>
    public const string Receive = "receive";
    /// <summary>OTLP/HTTP: decoding and mapping the body, until its records are in the ingest queue.</summary>
    public const string Decode = "decode";
    /// <summary>In the ingest queue until the writer takes the batch: the writer's commits before it.</summary>
    public const string Queue = "queue";
    /// <summary>The writer's plan and store write, until the store answered at COMMIT (SQLite: its write queue, a
    /// checkpoint the store's writer runs between two transactions, the transaction).</summary>
    public const string Write = "write";
    /// <summary>From COMMIT until the applier begins the batch: the WAL flush, and the batches committed before it.</summary>
    public const string Durable = "durable";
    /// <summary>Applying the commit to the derivations and answering its senders.</summary>
    public const string Apply = "apply";
    /// <summary>OTLP/HTTP: from the batch answered by the writer until the response is written.</summary>
    public const string Answer = "answer";
}

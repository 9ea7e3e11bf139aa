using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PerfOtel.Collector.Telemetry;

/// <summary>
/// The collector's own metrics: the single catalog of their names, units and descriptions. Prometheus sees them as
/// <c>perfotel_collector_*</c> (dots become underscores, counters gain <c>_total</c>, seconds gain <c>_seconds</c>).
/// Created through <see cref="IMeterFactory"/> so each host (and each test host) has its own instruments.
/// </summary>
public sealed class CollectorMetrics
{
    public const string MeterName = "PerfOtel.Collector";

    public const string SpansReceivedName = "perfotel.collector.spans.received";
    public const string SpansAcceptedName = "perfotel.collector.spans.accepted";
    public const string SpansRejectedName = "perfotel.collector.spans.rejected";
    public const string LogRecordsReceivedName = "perfotel.collector.log_records.received";
    public const string DataPointsReceivedName = "perfotel.collector.metric_points.received";
    public const string DataPointsDroppedName = "perfotel.collector.metric_points.dropped";
    public const string MetricSeriesName = "perfotel.collector.metric_series";
    public const string RequestsName = "perfotel.collector.requests";
    public const string GrpcRequestsName = "perfotel.collector.grpc.requests";
    public const string MisdirectedConnectionsName = "perfotel.collector.connections.misdirected";
    public const string QueueRecordsName = "perfotel.collector.queue.records";
    public const string QueueBytesName = "perfotel.collector.queue.bytes";
    public const string StoreWriteDurationName = "perfotel.collector.store.write.duration";
    public const string RecordsCommittedName = "perfotel.collector.records.committed";
    public const string RecordsDuplicateName = "perfotel.collector.records.duplicate";
    public const string CardinalityOverflowName = "perfotel.collector.cardinality.overflow";
    public const string CardinalityTrackedName = "perfotel.collector.cardinality.tracked";
    public const string AttributionPendingName = "perfotel.collector.attribution.pending";
    public const string AttributionResolvedName = "perfotel.collector.attribution.resolved";
    public const string AttributionExpiredName = "perfotel.collector.attribution.expired";
    public const string AttributionLateName = "perfotel.collector.attribution.late";
    public const string DerivationLeaderName = "perfotel.collector.derivation.leader";
    public const string DerivationLagName = "perfotel.collector.derivation.lag";
    public const string ReportDeliveriesName = "perfotel.collector.report.deliveries";

    /// <summary>Attribute on <see cref="SpansRejectedName"/>: why a span was refused (bounded set, see <see cref="RejectReasons"/>).</summary>
    public const string ReasonAttribute = "reason";
    /// <summary>Attribute on <see cref="RequestsName"/>: <c>traces</c>, <c>metrics</c> or <c>logs</c>.</summary>
    public const string SignalAttribute = "signal";
    /// <summary>Attribute on <see cref="RequestsName"/>: the HTTP status code answered.</summary>
    public const string StatusCodeAttribute = "http.response.status_code";
    /// <summary>Attribute on <see cref="GrpcRequestsName"/>: the gRPC status code answered (0 OK, 3, 8, 14, ...).</summary>
    public const string GrpcStatusCodeAttribute = "rpc.grpc.status_code";
    /// <summary>
    /// Attribute on <see cref="MisdirectedConnectionsName"/>: the listener that received the other transport's
    /// connection, <c>otlp_grpc</c> (an HTTP/1 request) or <c>otlp_http</c> (an HTTP/2 preface, i.e. a gRPC exporter).
    /// </summary>
    public const string ListenerAttribute = "listener";
    /// <summary>
    /// Attribute on <see cref="StoreWriteDurationName"/>: <c>committed</c> or <c>failed</c>; on
    /// <see cref="ReportDeliveriesName"/>: <c>delivered</c> or <c>failed</c>.
    /// </summary>
    public const string ResultAttribute = "result";
    /// <summary>
    /// Attribute on the cardinality metrics: the tenant as it appears on other series (already folded, so bounded);
    /// absent on the tracked count of tenants.
    /// </summary>
    public const string TenantAttribute = "tenant";
    /// <summary>Attribute on the cardinality metrics: <c>tenant</c>, <c>agent</c>, <c>model</c>, <c>evaluation</c>, <c>experiment_variant</c>.</summary>
    public const string DimensionAttribute = "dimension";
    /// <summary>Attribute on <see cref="ReportDeliveriesName"/>: the schedule's name under <c>Reports:Schedules</c>.</summary>
    public const string ScheduleAttribute = "schedule";
    /// <summary>Attribute on <see cref="ReportDeliveriesName"/>: <c>webhook</c> or <c>directory</c>.</summary>
    public const string DestinationAttribute = "destination";

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
        _spansReceived = Meter.CreateCounter<long>(SpansReceivedName, "{span}", "Spans received over OTLP, before validation.");
        _spansAccepted = Meter.CreateCounter<long>(SpansAcceptedName, "{span}", "Spans acknowledged to the sender after their records were committed.");
        _spansRejected = Meter.CreateCounter<long>(SpansRejectedName, "{span}", "Spans refused, by reason: invalid (reported in partial_success), queue_full, shutting_down, store_failed.");
        _logRecordsReceived = Meter.CreateCounter<long>(LogRecordsReceivedName, "{record}", "Log records received over OTLP.");
        _dataPointsReceived = Meter.CreateCounter<long>(DataPointsReceivedName, "{data_point}", "Metric data points received over OTLP (the GenAI and perfotel.* ones are re-exposed on /metrics, none are stored).");
        _dataPointsDropped = Meter.CreateCounter<long>(DataPointsDroppedName, "{data_point}",
            "Metric data points received over OTLP and not re-exposed, by reason: other_metric (outside gen_ai.* and perfotel.*), rejected (in partial_success: exponential histograms, summaries, malformed), series_limit, out_of_order, conflicting_type.");
        Meter.CreateObservableGauge(MetricSeriesName, ObserveMetricSeries, "{series}",
            "Series of OTLP-pushed GenAI and perfotel.* metrics re-exposed on /metrics, by tenant (bounded by Cardinality:MaxMetricSeriesPerTenant).");
        _requests = Meter.CreateCounter<long>(RequestsName, "{request}", "OTLP/HTTP requests answered, by signal and HTTP status code.");
        _grpcRequests = Meter.CreateCounter<long>(GrpcRequestsName, "{request}", "OTLP/gRPC export calls answered by the receiver, by signal and gRPC status code.");
        _misdirectedConnections = Meter.CreateCounter<long>(MisdirectedConnectionsName, "{connection}",
            "Connections that spoke the other OTLP transport on a listener (HTTP/1 on the gRPC port, an HTTP/2 preface on the HTTP port), by listener: the exporter points at the wrong port.");
        _storeWriteDuration = Meter.CreateHistogram<double>(StoreWriteDurationName, "s", "Time to commit one write batch to the execution store.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _recordsCommitted = Meter.CreateCounter<long>(RecordsCommittedName, "{record}", "Records (invocations, provider calls, tool calls, evaluations) committed to the store for the first time.");
        _recordsDuplicate = Meter.CreateCounter<long>(RecordsDuplicateName, "{record}", "Records the store already held (exporter retries, spans sent twice): acknowledged, not stored or counted again.");
        _attributionResolved = Meter.CreateCounter<long>(AttributionResolvedName, "{record}", "Stored provider calls, tool calls and evaluations attributed to their agent by a later request (an ancestor or a span in between arrived apart): counted by the derivations then, once.");
        _attributionExpired = Meter.CreateCounter<long>(AttributionExpiredName, "{record}", "Records whose ancestry stayed incomplete for the whole Ingest:AttributionHorizon: counted by the derivations without an agent.");
        _attributionLate = Meter.CreateCounter<long>(AttributionLateName, "{span}", "Spans whose invoke_agent ancestor became known only after their horizon: their records stay counted without an agent.");
        _cardinalityOverflow = Meter.CreateCounter<long>(CardinalityOverflowName, "{record}", "Committed records whose tenant, agent, model, evaluation name or experiment variant was folded into the __overflow__ series, by tenant and dimension.");
        _reportDeliveries = Meter.CreateCounter<long>(ReportDeliveriesName, "{delivery}",
            "Scheduled reports delivered or failed (after the webhook's attempts ran out), by schedule, destination and result.");
        // Created here rather than when the guard connects, so that the catalog is complete without a guard.
        Meter.CreateObservableGauge(CardinalityTrackedName, ObserveCardinalityTracked, "{value}", "Distinct values that keep series of their own, by tenant and dimension (tenants: without a tenant label).");
        Meter.CreateObservableGauge(DerivationLeaderName, ObserveDerivationLeader, "{replica}",
            "1 when this process derives and exposes the derived series (alone on its store, or the derivation leader of replicas sharing PostgreSQL), else 0.");
        Meter.CreateObservableGauge(DerivationLagName, ObserveDerivationLag, "s",
            "On the derivation leader of replicas sharing PostgreSQL: age of the last completed reading of the other replicas' commits; the derived series include everything committed before it.");
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

    /// <summary>Observes the records held back from the derivations until their attribution is known.</summary>
    public void ObserveAttribution(Func<long> pending) =>
        Meter.CreateObservableGauge(AttributionPendingName, pending, "{record}", "Stored records held back from the derived values until their invoke_agent ancestor (or the root of their trace) arrives, at most Ingest:AttributionHorizon.");

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
        Meter.CreateObservableGauge(QueueRecordsName, records, "{record}", "Records waiting in the ingest queue for the store writer.");
        Meter.CreateObservableGauge(QueueBytesName, bytes, "By", "Estimated memory held by records waiting in the ingest queue.");
    }

    /// <summary>Observes the guard's tracked values; called once by the guard's wiring.</summary>
    public void ObserveCardinality(Func<IReadOnlyList<(string? Tenant, string Dimension, int Values)>> tracked) =>
        _cardinalityTracked = tracked;

    /// <summary>
    /// One committed record folded into overflow in the given dimension (its <see cref="DimensionAttribute"/> value);
    /// <paramref name="tenant"/> as kept.
    /// </summary>
    public void CardinalityOverflow(string tenant, string dimension) =>
        _cardinalityOverflow.Add(1, new KeyValuePair<string, object?>(TenantAttribute, tenant),
            new KeyValuePair<string, object?>(DimensionAttribute, dimension));

    private IEnumerable<Measurement<long>> ObserveCardinalityTracked()
    {
        if (_cardinalityTracked is not { } tracked)
        {
            return [];
        }
        var measurements = new List<Measurement<long>>();
        foreach (var (tenant, dimension, values) in tracked())
        {
            var tags = new TagList { { DimensionAttribute, dimension } };
            if (tenant is not null)
            {
                tags.Add(TenantAttribute, tenant);
            }
            measurements.Add(new Measurement<long>(values, tags));
        }
        return measurements;
    }

    /// <summary>One scheduled report's delivery to one destination ended: <paramref name="result"/> is delivered or failed.</summary>
    public void ReportDelivery(string schedule, string destination, string result) =>
        _reportDeliveries.Add(1, new KeyValuePair<string, object?>(ScheduleAttribute, schedule),
            new KeyValuePair<string, object?>(DestinationAttribute, destination), new KeyValuePair<string, object?>(ResultAttribute, result));

    public void SpansReceived(long count) => _spansReceived.Add(count);

    public void SpansAccepted(long count) => _spansAccepted.Add(count);

    public void SpansRejected(long count, string reason)
    {
        if (count > 0)
        {
            _spansRejected.Add(count, new KeyValuePair<string, object?>(ReasonAttribute, reason));
        }
    }

    public void LogRecordsReceived(long count) => _logRecordsReceived.Add(count);

    public void DataPointsReceived(long count) => _dataPointsReceived.Add(count);

    public void MetricPointsDropped(long count, string reason) =>
        _dataPointsDropped.Add(count, new KeyValuePair<string, object?>(ReasonAttribute, reason));

    /// <summary>Observes the re-exposed series per tenant; called once by their owner's wiring.</summary>
    public void ObserveMetricSeries(Func<IReadOnlyList<(string Tenant, int Series)>> series) => _metricSeries = series;

    private IEnumerable<Measurement<long>> ObserveMetricSeries() =>
        _metricSeries is { } series
            ? series().Select(s => new Measurement<long>(s.Series, new KeyValuePair<string, object?>(TenantAttribute, s.Tenant)))
            : [];

    public void RequestAnswered(string signal, int statusCode) =>
        _requests.Add(1, new KeyValuePair<string, object?>(SignalAttribute, signal), new KeyValuePair<string, object?>(StatusCodeAttribute, statusCode));

    public void GrpcRequestAnswered(string signal, int grpcStatusCode) =>
        _grpcRequests.Add(1, new KeyValuePair<string, object?>(SignalAttribute, signal), new KeyValuePair<string, object?>(GrpcStatusCodeAttribute, grpcStatusCode));

    public void MisdirectedConnection(string listener) =>
        _misdirectedConnections.Add(1, new KeyValuePair<string, object?>(ListenerAttribute, listener));

    /// <summary>A store write: for a committed one, how many records were new and how many the store already held.</summary>
    public void StoreWrite(double seconds, bool committed, long newRecords, long duplicateRecords = 0)
    {
        _storeWriteDuration.Record(seconds, new KeyValuePair<string, object?>(ResultAttribute, committed ? "committed" : "failed"));
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

/// <summary>Values of <see cref="CollectorMetrics.ReasonAttribute"/>.</summary>
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

using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Telemetry;

/// <summary>
/// The collector's own metrics (meter <c>PerfOtel.Collector</c>, <c>perfotel_collector_*</c> in Prometheus), declared once
/// as <see cref="MetricDefinition"/>s; <see cref="CollectorMetrics"/> creates its instruments from them. Prometheus names
/// follow the OpenTelemetry rules PerfOtel.Exporter applies: dots become underscores, counters gain <c>_total</c>,
/// <c>s</c> gains <c>_seconds</c>, <c>By</c> <c>_bytes</c>.
/// </summary>
public static class SelfMetricCatalog
{
    /// <summary>Meter name.</summary>
    public const string MeterName = "PerfOtel.Collector";

    /// <summary>Attribute of <see cref="SpansRejected"/> and <see cref="MetricPointsDropped"/>: why (bounded set, see <see cref="RejectReasons"/>).</summary>
    public const string ReasonAttribute = "reason";
    /// <summary>Attribute of <see cref="Requests"/> and <see cref="GrpcRequests"/>: <c>traces</c>, <c>metrics</c> or <c>logs</c>.</summary>
    public const string SignalAttribute = "signal";
    /// <summary>Attribute of <see cref="Requests"/>: the HTTP status code answered.</summary>
    public const string StatusCodeAttribute = "http.response.status_code";
    /// <summary>Attribute of <see cref="GrpcRequests"/>: the gRPC status code answered (0 OK, 3, 8, 14, ...).</summary>
    public const string GrpcStatusCodeAttribute = "rpc.grpc.status_code";
    /// <summary>
    /// Attribute of <see cref="MisdirectedConnections"/>: the listener that received the other transport's connection,
    /// <c>otlp_grpc</c> (an HTTP/1 request) or <c>otlp_http</c> (an HTTP/2 preface, i.e. a gRPC exporter).
    /// </summary>
    public const string ListenerAttribute = "listener";
    /// <summary>
    /// Attribute of <see cref="StoreWriteDuration"/>: <c>committed</c> or <c>failed</c>; of <see cref="ReportDeliveries"/>:
    /// <c>delivered</c> or <c>failed</c>.
    /// </summary>
    public const string ResultAttribute = "result";
    /// <summary>
    /// Attribute of the cardinality metrics and <see cref="MetricSeries"/>: the tenant as it appears on other series
    /// (already folded, so bounded); absent on the tracked count of tenants.
    /// </summary>
    public const string TenantAttribute = "tenant";
    /// <summary>Attribute of the cardinality metrics: <c>tenant</c>, <c>agent</c>, <c>model</c>, <c>evaluation</c>, <c>experiment_variant</c>.</summary>
    public const string DimensionAttribute = "dimension";
    /// <summary>Attribute of <see cref="ReportDeliveries"/>: the schedule's name under <c>Reports:Schedules</c>.</summary>
    public const string ScheduleAttribute = "schedule";
    /// <summary>Attribute of <see cref="ReportDeliveries"/>: <c>webhook</c> or <c>directory</c>.</summary>
    public const string DestinationAttribute = "destination";
    /// <summary>
    /// Attribute of <see cref="StoreCheckpointDuration"/> and <see cref="StoreCheckpointPages"/>: which thread ran the
    /// SQLite checkpoint, <c>checkpointer</c> (its own thread and connection, beside the writer), <c>writer_idle</c> (the
    /// writer with nothing waiting, of the few pages the passes left, so that its next transaction restarts the WAL) or
    /// <c>writer</c> (inside the writer's turn, only when the WAL passed its bound because the checkpointer could not
    /// catch up).
    /// </summary>
    public const string CheckpointByAttribute = "by";
    /// <summary>
    /// Attribute of <see cref="IngestPhaseDuration"/>: the part of an export request's time, in the order a request goes
    /// through them (<see cref="IngestPhase"/>): <c>receive</c>, <c>decode</c>, <c>queue</c>, <c>write</c>, <c>durable</c>,
    /// <c>apply</c>, <c>answer</c>.
    /// </summary>
    public const string PhaseAttribute = "phase";

    /// <summary>Bucket boundaries of <see cref="StoreWriteDuration"/>, in seconds.</summary>
    public static readonly IReadOnlyList<double> StoreWriteBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    public static readonly MetricDefinition SpansReceived = Counter("perfotel.collector.spans.received", "{span}",
        "Spans received over OTLP, before validation.", "perfotel_collector_spans_received_total");
    public static readonly MetricDefinition SpansAccepted = Counter("perfotel.collector.spans.accepted", "{span}",
        "Spans acknowledged to the sender after their records were committed.", "perfotel_collector_spans_accepted_total");
    public static readonly MetricDefinition SpansRejected = Counter("perfotel.collector.spans.rejected", "{span}",
        "Spans refused, by reason: invalid (reported in partial_success), queue_full, shutting_down, store_failed.",
        "perfotel_collector_spans_rejected_total", ReasonAttribute);
    public static readonly MetricDefinition LogRecordsReceived = Counter("perfotel.collector.log_records.received", "{record}",
        "Log records received over OTLP.", "perfotel_collector_log_records_received_total");
    public static readonly MetricDefinition MetricPointsReceived = Counter("perfotel.collector.metric_points.received", "{data_point}",
        "Metric data points received over OTLP (the GenAI and perfotel.* ones are re-exposed on /metrics, none are stored).",
        "perfotel_collector_metric_points_received_total");
    public static readonly MetricDefinition MetricPointsDropped = Counter("perfotel.collector.metric_points.dropped", "{data_point}",
        "Metric data points received over OTLP and not re-exposed, by reason: other_metric (outside gen_ai.* and perfotel.*), rejected (in partial_success: exponential histograms, summaries, malformed), series_limit, out_of_order, conflicting_type.",
        "perfotel_collector_metric_points_dropped_total", ReasonAttribute);
    public static readonly MetricDefinition MetricSeries = Gauge("perfotel.collector.metric_series", "long", "{series}",
        "Series of OTLP-pushed GenAI and perfotel.* metrics re-exposed on /metrics, by tenant (bounded by Cardinality:MaxMetricSeriesPerTenant).",
        "perfotel_collector_metric_series", TenantAttribute);
    public static readonly MetricDefinition Requests = Counter("perfotel.collector.requests", "{request}",
        "OTLP/HTTP requests answered, by signal and HTTP status code.", "perfotel_collector_requests_total",
        SignalAttribute, StatusCodeAttribute);
    public static readonly MetricDefinition GrpcRequests = Counter("perfotel.collector.grpc.requests", "{request}",
        "OTLP/gRPC export calls answered by the receiver, by signal and gRPC status code.", "perfotel_collector_grpc_requests_total",
        SignalAttribute, GrpcStatusCodeAttribute);
    public static readonly MetricDefinition MisdirectedConnections = Counter("perfotel.collector.connections.misdirected", "{connection}",
        "Connections that spoke the other OTLP transport on a listener (HTTP/1 on the gRPC port, an HTTP/2 preface on the HTTP port), by listener: the exporter points at the wrong port.",
        "perfotel_collector_connections_misdirected_total", ListenerAttribute);
    public static readonly MetricDefinition QueueRecords = Gauge("perfotel.collector.queue.records", "long", "{record}",
        "Records waiting in the ingest queue for the store writer.", "perfotel_collector_queue_records");
    public static readonly MetricDefinition QueueBytes = Gauge("perfotel.collector.queue.bytes", "long", "By",
        "Estimated memory held by records waiting in the ingest queue.", "perfotel_collector_queue_bytes");
    public static readonly MetricDefinition StoreWriteDuration = new("perfotel.collector.store.write.duration",
        MetricInstrumentKind.Histogram, "double", "s", "Time to commit one write batch to the execution store.",
        "perfotel_collector_store_write_duration_seconds", [ResultAttribute], StoreWriteBuckets);
    public static readonly MetricDefinition StoreCommitDuration = new("perfotel.collector.store.commit.duration",
        MetricInstrumentKind.Histogram, "double", "s",
        "SQLite: one transaction of the store's writer, from its first statement to COMMIT returning (the WAL flush and checkpoints are not in it).",
        "perfotel_collector_store_commit_duration_seconds", [], StoreWriteBuckets);
    public static readonly MetricDefinition StoreWalFlushDuration = new("perfotel.collector.store.wal_flush.duration",
        MetricInstrumentKind.Histogram, "double", "s",
        "SQLite at durability full: one flush (fsync) of the WAL, which makes every commit before it durable; senders are answered after it.",
        "perfotel_collector_store_wal_flush_duration_seconds", [], StoreWriteBuckets);
    public static readonly MetricDefinition StoreCheckpointDuration = new("perfotel.collector.store.checkpoint.duration",
        MetricInstrumentKind.Histogram, "double", "s",
        "SQLite: one checkpoint (WAL pages copied into the database file, with its syncs), by the thread that ran it: checkpointer or writer.",
        "perfotel_collector_store_checkpoint_duration_seconds", [CheckpointByAttribute], StoreWriteBuckets);
    public static readonly MetricDefinition StoreCheckpointPages = Counter("perfotel.collector.store.checkpoint.pages", "{page}",
        "SQLite: WAL pages copied into the database file by checkpoints, by the thread that ran them: checkpointer or writer.",
        "perfotel_collector_store_checkpoint_pages_total", CheckpointByAttribute);
    public static readonly MetricDefinition StoreWalFrames = Counter("perfotel.collector.store.wal.frames", "{frame}",
        "SQLite: frames the writer's commits appended to the WAL, one per page per commit that wrote it; every one is copied once by a checkpoint, so the checkpoint pages counters add up to it.",
        "perfotel_collector_store_wal_frames_total");
    public static readonly MetricDefinition StoreWalPages = Gauge("perfotel.collector.store.wal.pages", "long", "{page}",
        "SQLite: pages in the WAL after the writer's last commit (the WAL restarts from its beginning once a checkpoint copied all of them).",
        "perfotel_collector_store_wal_pages");
    public static readonly MetricDefinition StoreWritesRedone = Counter("perfotel.collector.store.writes.redone", "{write}",
        "PostgreSQL: writes (a part of one, when it is spread over connections) whose plain inserts met a record already stored (a resend, a span repeated in a request, another replica's commit), rolled back and written again skipping stored records; zero while every record is new.",
        "perfotel_collector_store_writes_redone_total");
    public static readonly MetricDefinition IngestApplyDuration = new("perfotel.collector.ingest.apply.duration",
        MetricInstrumentKind.Histogram, "double", "s",
        "Applying one committed write batch to the derivations and answering its senders, once its flush is done.",
        "perfotel_collector_ingest_apply_duration_seconds", [], StoreWriteBuckets);
    public static readonly MetricDefinition IngestPhaseDuration = new("perfotel.collector.ingest.phase.duration",
        MetricInstrumentKind.Histogram, "double", "s",
        "One OTLP trace export's time in each phase, by phase: receive (reading the body; OTLP/HTTP), decode (decoding, mapping, queueing), queue (waiting for the writer), write (the writer's plan and store write, to COMMIT), durable (waiting for the flush and the commits before), apply (derivations and answering), answer (the response written; OTLP/HTTP).",
        "perfotel_collector_ingest_phase_duration_seconds", [PhaseAttribute], StoreWriteBuckets);
    public static readonly MetricDefinition RecordsCommitted = Counter("perfotel.collector.records.committed", "{record}",
        "Records (invocations, provider calls, tool calls, evaluations) committed to the store for the first time.",
        "perfotel_collector_records_committed_total");
    public static readonly MetricDefinition RecordsDuplicate = Counter("perfotel.collector.records.duplicate", "{record}",
        "Records the store already held (exporter retries, spans sent twice): acknowledged, not stored or counted again.",
        "perfotel_collector_records_duplicate_total");
    public static readonly MetricDefinition CardinalityOverflow = Counter("perfotel.collector.cardinality.overflow", "{record}",
        "Committed records whose tenant, agent, model, evaluation name or experiment variant was folded into the __overflow__ series, by tenant and dimension.",
        "perfotel_collector_cardinality_overflow_total", TenantAttribute, DimensionAttribute);
    public static readonly MetricDefinition CardinalityTracked = Gauge("perfotel.collector.cardinality.tracked", "long", "{value}",
        "Distinct values that keep series of their own, by tenant and dimension (tenants: without a tenant label).",
        "perfotel_collector_cardinality_tracked", TenantAttribute, DimensionAttribute);
    public static readonly MetricDefinition AttributionPending = Gauge("perfotel.collector.attribution.pending", "long", "{record}",
        "Stored records held back from the derived values until their invoke_agent ancestor (or the root of their trace) arrives, at most Ingest:AttributionHorizon.",
        "perfotel_collector_attribution_pending");
    public static readonly MetricDefinition AttributionResolved = Counter("perfotel.collector.attribution.resolved", "{record}",
        "Stored provider calls, tool calls and evaluations attributed to their agent by a later request (an ancestor or a span in between arrived apart): counted by the derivations then, once.",
        "perfotel_collector_attribution_resolved_total");
    public static readonly MetricDefinition AttributionExpired = Counter("perfotel.collector.attribution.expired", "{record}",
        "Records whose ancestry stayed incomplete for the whole Ingest:AttributionHorizon: counted by the derivations without an agent.",
        "perfotel_collector_attribution_expired_total");
    public static readonly MetricDefinition AttributionLate = Counter("perfotel.collector.attribution.late", "{span}",
        "Spans whose invoke_agent ancestor became known only after their horizon: their records stay counted without an agent.",
        "perfotel_collector_attribution_late_total");
    public static readonly MetricDefinition AttributionLinks = Gauge("perfotel.collector.attribution.links", "long", "{span}",
        "Span links (parent and agent of each span seen) kept to attribute later calls to their agent: those of the last two Ingest:AttributionHorizon, at most Ingest:AttributionMaxLinks.",
        "perfotel_collector_attribution_links");
    public static readonly MetricDefinition AttributionLinksEvicted = Counter("perfotel.collector.attribution.links_evicted", "{span}",
        "Span links evicted at Ingest:AttributionMaxLinks before their two horizons passed: a call arriving later under one of those spans waits its horizon and is counted without an agent.",
        "perfotel_collector_attribution_links_evicted_total");
    public static readonly MetricDefinition DerivationLeader = Gauge("perfotel.collector.derivation.leader", "long", "{replica}",
        "1 when this process derives and exposes the derived series (alone on its store, or the derivation leader of replicas sharing PostgreSQL), else 0.",
        "perfotel_collector_derivation_leader");
    public static readonly MetricDefinition DerivationLag = Gauge("perfotel.collector.derivation.lag", "double", "s",
        "On the derivation leader of replicas sharing PostgreSQL: age of the last completed reading of the other replicas' commits; the derived series include everything committed before it.",
        "perfotel_collector_derivation_lag_seconds");
    public static readonly MetricDefinition ReportDeliveries = Counter("perfotel.collector.report.deliveries", "{delivery}",
        "Scheduled reports delivered or failed (after the webhook's attempts ran out), by schedule, destination and result.",
        "perfotel_collector_report_deliveries_total", ScheduleAttribute, DestinationAttribute, ResultAttribute);

    /// <summary>Every self-metric, in the order of the self-metrics table (docs/collector/metrics.md).</summary>
    public static IReadOnlyList<MetricDefinition> All { get; } =
    [
        SpansReceived, SpansAccepted, SpansRejected, LogRecordsReceived, MetricPointsReceived, MetricPointsDropped, MetricSeries,
        Requests, GrpcRequests, MisdirectedConnections, QueueRecords, QueueBytes, StoreWriteDuration, StoreCommitDuration,
        StoreWalFlushDuration, StoreCheckpointDuration, StoreCheckpointPages, StoreWalFrames, StoreWalPages, StoreWritesRedone, IngestApplyDuration, IngestPhaseDuration, RecordsCommitted,
        RecordsDuplicate, CardinalityOverflow, AttributionPending, AttributionResolved, AttributionExpired, AttributionLate,
        AttributionLinks, AttributionLinksEvicted,
        CardinalityTracked, DerivationLeader, DerivationLag, ReportDeliveries,
    ];

    private static MetricDefinition Counter(string name, string unit, string description, string prometheusName, params string[] attributes) =>
        new(name, MetricInstrumentKind.Counter, "long", unit, description, prometheusName, attributes, null);

    private static MetricDefinition Gauge(
        string name, string valueType, string unit, string description, string prometheusName, params string[] attributes) =>
        new(name, MetricInstrumentKind.Gauge, valueType, unit, description, prometheusName, attributes, null);
}

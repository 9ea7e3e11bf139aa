using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Receiving.Mapping;

namespace PerfOtel.Collector.Receiving.Http;

/// <summary>What differs between /v1/traces, /v1/metrics and /v1/logs: the messages, the mapping and the counters.</summary>
internal abstract class OtlpSignal
{
    public abstract string Name { get; }

    public abstract string Path { get; }

    /// <param name="body">The decompressed request body.</param>
    /// <param name="encoding">Protobuf or JSON.</param>
    /// <param name="forcedTenant">When set, every record is stored under this tenant (the API key's), not the payload's.</param>
    public abstract MappingResult Decode(ReadOnlyMemory<byte> body, OtlpEncoding encoding, string? forcedTenant = null);

    public abstract IMessage Response(long rejected, string? errorMessage);

    public virtual void CountReceived(CollectorMetrics metrics, long items)
    {
    }

    public virtual void CountAccepted(CollectorMetrics metrics, long items)
    {
    }

    public virtual void CountRejected(CollectorMetrics metrics, long items, string reason)
    {
    }

    protected static T Parse<T>(ReadOnlySpan<byte> body, OtlpEncoding encoding, MessageParser<T> parser)
        where T : IMessage<T>, new()
    {
        if (encoding == OtlpEncoding.Json)
        {
            return OtlpJson.Parse<T>(body);
        }

        try
        {
            return parser.ParseFrom(body);
        }
        catch (InvalidProtocolBufferException error)
        {
            throw new OtlpDecodeException("request body is not a valid protobuf " + typeof(T).Name + ": " + error.Message, error);
        }
    }
}

internal sealed class TracesSignal(SpanMapper mapper) : OtlpSignal
{
    public override string Name => "traces";

    public override string Path => "/v1/traces";

    /// <summary>
    /// Protobuf is read from the body's bytes by <see cref="OtlpTraceWireReader"/> (no Google.Protobuf objects, #21);
    /// OTLP/JSON is parsed by Google.Protobuf and reaches the same mapping through <see cref="TraceRequestInput"/>.
    /// </summary>
    public override MappingResult Decode(ReadOnlyMemory<byte> body, OtlpEncoding encoding, string? forcedTenant = null)
    {
        if (encoding == OtlpEncoding.Json)
        {
            return mapper.Map(OtlpJson.Parse<ExportTraceServiceRequest>(body.Span), forcedTenant);
        }

        using var request = ReadProtobuf(body, "request body is not a valid protobuf ExportTraceServiceRequest: ");
        return mapper.Map(request, forcedTenant);
    }

    /// <summary>A request already read from its bytes (OTLP/gRPC's marshaller).</summary>
    public MappingResult Map(TraceRequestInput request, string? forcedTenant) => mapper.Map(request, forcedTenant);

    /// <summary>Reads a protobuf ExportTraceServiceRequest, or throws <see cref="OtlpDecodeException"/> saying what is wrong after <paramref name="prefix"/>.</summary>
    public static TraceRequestInput ReadProtobuf(ReadOnlyMemory<byte> body, string prefix)
    {
        try
        {
            return OtlpTraceWireReader.Read(body);
        }
        catch (OtlpWireFormatException error)
        {
            throw new OtlpDecodeException(prefix + error.Message, error);
        }
    }

    public override IMessage Response(long rejected, string? errorMessage) => rejected == 0 && errorMessage is null
        ? new ExportTraceServiceResponse()
        : new ExportTraceServiceResponse { PartialSuccess = new ExportTracePartialSuccess { RejectedSpans = rejected, ErrorMessage = errorMessage ?? string.Empty } };

    public override void CountReceived(CollectorMetrics metrics, long items) => metrics.SpansReceived(items);

    public override void CountAccepted(CollectorMetrics metrics, long items) => metrics.SpansAccepted(items);

    public override void CountRejected(CollectorMetrics metrics, long items, string reason) => metrics.SpansRejected(items, reason);
}

internal sealed class LogsSignal(TimeProvider time) : OtlpSignal
{
    public override string Name => "logs";

    public override string Path => "/v1/logs";

    public override MappingResult Decode(ReadOnlyMemory<byte> body, OtlpEncoding encoding, string? forcedTenant = null) =>
        Map(Parse(body.Span, encoding, ExportLogsServiceRequest.Parser), forcedTenant);

    /// <summary>An already decoded request (OTLP/gRPC).</summary>
    public MappingResult Map(ExportLogsServiceRequest request, string? forcedTenant) => LogMapper.Map(request, time, forcedTenant);

    public override IMessage Response(long rejected, string? errorMessage) => rejected == 0 && errorMessage is null
        ? new ExportLogsServiceResponse()
        : new ExportLogsServiceResponse { PartialSuccess = new ExportLogsPartialSuccess { RejectedLogRecords = rejected, ErrorMessage = errorMessage ?? string.Empty } };

    public override void CountReceived(CollectorMetrics metrics, long items) => metrics.LogRecordsReceived(items);
}

/// <summary>/v1/metrics: the GenAI and perfotel.* metrics are re-exposed on /metrics (<see cref="Metrics.OtlpMetricsMapper"/>), nothing is stored.</summary>
internal sealed class MetricsSignal(Metrics.OtlpMetricsMapper mapper) : OtlpSignal
{
    public override string Name => "metrics";

    public override string Path => "/v1/metrics";

    public override MappingResult Decode(ReadOnlyMemory<byte> body, OtlpEncoding encoding, string? forcedTenant = null) =>
        Map(Parse(body.Span, encoding, ExportMetricsServiceRequest.Parser), forcedTenant);

    /// <summary>An already decoded request (OTLP/gRPC).</summary>
    public MappingResult Map(ExportMetricsServiceRequest request, string? forcedTenant) => mapper.Map(request, forcedTenant);

    public override IMessage Response(long rejected, string? errorMessage) => rejected == 0 && errorMessage is null
        ? new ExportMetricsServiceResponse()
        : new ExportMetricsServiceResponse { PartialSuccess = new ExportMetricsPartialSuccess { RejectedDataPoints = rejected, ErrorMessage = errorMessage ?? string.Empty } };

    public override void CountReceived(CollectorMetrics metrics, long items) => metrics.DataPointsReceived(items);
}

using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;

namespace PerfOtel.Collector.Tests.Otlp.Support;

/// <summary>
/// A real Grpc.Net.Client caller of the collector's OTLP/gRPC services, with method descriptors written from the
/// service definitions (the collector only generates server stubs), plus one that sends raw bytes as the message.
/// </summary>
public sealed class OtlpGrpcClient : IDisposable
{
    public const string TraceService = "opentelemetry.proto.collector.trace.v1.TraceService";
    public const string MetricsService = "opentelemetry.proto.collector.metrics.v1.MetricsService";
    public const string LogsService = "opentelemetry.proto.collector.logs.v1.LogsService";

    private static readonly Method<ExportTraceServiceRequest, ExportTraceServiceResponse> TraceExport =
        Unary<ExportTraceServiceRequest, ExportTraceServiceResponse>(TraceService, ExportTraceServiceResponse.Parser);

    private static readonly Method<ExportMetricsServiceRequest, ExportMetricsServiceResponse> MetricsExport =
        Unary<ExportMetricsServiceRequest, ExportMetricsServiceResponse>(MetricsService, ExportMetricsServiceResponse.Parser);

    private static readonly Method<ExportLogsServiceRequest, ExportLogsServiceResponse> LogsExport =
        Unary<ExportLogsServiceRequest, ExportLogsServiceResponse>(LogsService, ExportLogsServiceResponse.Parser);

    private static readonly Method<byte[], byte[]> RawTraceExport = new(MethodType.Unary, TraceService, "Export",
        Marshallers.Create(b => b, b => b), Marshallers.Create(b => b, b => b));

    private readonly GrpcChannel _channel;
    private readonly CallInvoker _invoker;

    private OtlpGrpcClient(GrpcChannel channel)
    {
        _channel = channel;
        _invoker = channel.CreateCallInvoker();
    }

    /// <summary>Over the in-process test server (the collector's real pipeline, no sockets).</summary>
    public static OtlpGrpcClient InProcess(CollectorFactory collector) => InProcess(collector.Server);

    /// <summary>Over an in-process test server.</summary>
    public static OtlpGrpcClient InProcess(Microsoft.AspNetCore.TestHost.TestServer server) =>
        new(GrpcChannel.ForAddress(server.BaseAddress, new GrpcChannelOptions
        {
            HttpHandler = server.CreateHandler(),
            MaxReceiveMessageSize = null,
            MaxSendMessageSize = null,
        }));

    /// <summary>Over loopback to a collector's gRPC listener (h2c).</summary>
    public static OtlpGrpcClient Loopback(Uri address) => new(GrpcChannel.ForAddress(address));

    public Task<ExportTraceServiceResponse> ExportAsync(ExportTraceServiceRequest request, string? apiKey = null, bool gzip = false) =>
        _invoker.AsyncUnaryCall(TraceExport, null, Options(apiKey, gzip), request).ResponseAsync;

    public Task<ExportMetricsServiceResponse> ExportAsync(ExportMetricsServiceRequest request, string? apiKey = null) =>
        _invoker.AsyncUnaryCall(MetricsExport, null, Options(apiKey, false), request).ResponseAsync;

    public Task<ExportLogsServiceResponse> ExportAsync(ExportLogsServiceRequest request, string? apiKey = null) =>
        _invoker.AsyncUnaryCall(LogsExport, null, Options(apiKey, false), request).ResponseAsync;

    /// <summary>Sends <paramref name="message"/> as the TraceService/Export request message, whatever it holds.</summary>
    public Task<byte[]> ExportRawAsync(byte[] message, bool gzip = false, string? apiKey = null) =>
        _invoker.AsyncUnaryCall(RawTraceExport, null, Options(apiKey, gzip), message).ResponseAsync;

    /// <summary>The google.rpc.Status of a failed call, from its grpc-status-details-bin trailer.</summary>
    public static Google.Rpc.Status? Details(RpcException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var bytes = error.Trailers.GetValueBytes("grpc-status-details-bin");
        return bytes is null ? null : Google.Rpc.Status.Parser.ParseFrom(bytes);
    }

    /// <summary>The RetryInfo delay a failed call carries, or null.</summary>
    public static TimeSpan? RetryDelay(RpcException error) =>
        Details(error)?.Details.Where(a => a.Is(Google.Rpc.RetryInfo.Descriptor)).Select(a => a.Unpack<Google.Rpc.RetryInfo>().RetryDelay.ToTimeSpan())
            .Cast<TimeSpan?>().SingleOrDefault();

    public void Dispose() => _channel.Dispose();

    private static CallOptions Options(string? apiKey, bool gzip)
    {
        var headers = new Metadata();
        if (apiKey is not null)
        {
            headers.Add("authorization", "Bearer " + apiKey);
        }

        if (gzip)
        {
            // Grpc.Net.Client's switch for compressing the request message (sent as grpc-encoding: gzip).
            headers.Add("grpc-internal-encoding-request", "gzip");
        }

        return new CallOptions(headers, deadline: DateTime.UtcNow.AddSeconds(60));
    }

    private static Method<TRequest, TResponse> Unary<TRequest, TResponse>(string service, MessageParser<TResponse> parser)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse> =>
        new(MethodType.Unary, service, "Export", Marshallers.Create<TRequest>(m => m.ToByteArray(), _ => throw new NotSupportedException()),
            Marshallers.Create(m => m.ToByteArray(), parser.ParseFrom));
}

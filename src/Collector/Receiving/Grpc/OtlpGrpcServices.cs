using System.Buffers;
using Google.Protobuf;
using Grpc.Core;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using PerfOtel.Collector.Receiving.Http;
using PerfOtel.Collector.Receiving.Mapping;

namespace PerfOtel.Collector.Receiving.Grpc;

// The three OTLP/gRPC services (opentelemetry.proto.collector.{trace,metrics,logs}.v1.*Service/Export). Each derives
// from the stub generated from the project's own protos and is bound by OtlpGrpcMethods, whose request marshaller turns
// an undecodable message into INVALID_ARGUMENT. Everything after decoding is the shared OtlpConsumer. Bind takes the
// generated base type, as the generated BindService does: Grpc.AspNetCore finds the handler as its override.

/// <summary>
/// opentelemetry.proto.collector.trace.v1.TraceService/Export, the generated service's names, with a request read from
/// its bytes by the wire reader instead of Google.Protobuf's ExportTraceServiceRequest (#21). Grpc.AspNetCore binds
/// the handler that overrides the virtual method of the type carrying the bind attribute: this one.
/// </summary>
[BindServiceMethod(typeof(OtlpGrpcTraceServiceBase), nameof(Bind))]
internal abstract class OtlpGrpcTraceServiceBase
{
    public static void Bind(ServiceBinderBase binder, OtlpGrpcTraceServiceBase? service) =>
        OtlpGrpcMethods.BindTraces(binder, service is null ? null : service.Export);

    public abstract Task<ExportTraceServiceResponse> Export(OtlpGrpcTraceRequest request, ServerCallContext context);
}

internal sealed class OtlpGrpcTraceService(OtlpConsumer consumer, IEnumerable<OtlpSignal> signals) : OtlpGrpcTraceServiceBase
{
    private readonly TracesSignal _signal = signals.OfType<TracesSignal>().Single();

    // Not async: the request's bytes go back to the pool once mapped, before the commit is awaited (OtlpGrpcCall).
    public override Task<ExportTraceServiceResponse> Export(OtlpGrpcTraceRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        try
        {
            return OtlpGrpcCall.ExportAsync<ExportTraceServiceResponse>(consumer, _signal, context, tenant => _signal.Map(request.Input, tenant));
        }
        finally
        {
            // The mapping copied what it keeps (its records hold strings, not the request's bytes).
            request.Dispose();
        }
    }
}

/// <summary>
/// An OTLP/gRPC trace request as the marshaller read it: the payload copied into a pooled buffer (gRPC reuses its own
/// once the marshaller returns) and the wire reader's view of it, valid until <see cref="Dispose"/>.
/// </summary>
internal sealed class OtlpGrpcTraceRequest(TraceRequestInput input, byte[] rented) : IDisposable
{
    private byte[]? _rented = rented;

    public TraceRequestInput Input { get; } = input;

    /// <summary>Copies and reads a payload; throws <see cref="OtlpWireFormatException"/> when it is not a valid request.</summary>
    public static OtlpGrpcTraceRequest Read(in ReadOnlySequence<byte> payload)
    {
        var length = checked((int)payload.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(length);
        payload.CopyTo(buffer.AsSpan());
        try
        {
            return new OtlpGrpcTraceRequest(OtlpTraceWireReader.Read(buffer.AsMemory(0, length)), buffer);
        }
        catch (OtlpWireFormatException)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _rented, null) is { } buffer)
        {
            Input.Dispose();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

[BindServiceMethod(typeof(OtlpGrpcMetricsService), nameof(Bind))]
internal sealed class OtlpGrpcMetricsService(OtlpConsumer consumer, IEnumerable<OtlpSignal> signals) : MetricsService.MetricsServiceBase
{
    private readonly MetricsSignal _signal = signals.OfType<MetricsSignal>().Single();

    public static void Bind(ServiceBinderBase binder, MetricsService.MetricsServiceBase? service) =>
        OtlpGrpcMethods.Bind<ExportMetricsServiceRequest, ExportMetricsServiceResponse>(binder, MetricsService.Descriptor, ExportMetricsServiceRequest.Parser, service is null ? null : service.Export);

    // Not async: the decoded request must not outlive its mapping (OtlpGrpcCall).
    public override Task<ExportMetricsServiceResponse> Export(ExportMetricsServiceRequest request, ServerCallContext context) =>
        OtlpGrpcCall.ExportAsync<ExportMetricsServiceResponse>(consumer, _signal, context, tenant => _signal.Map(request, tenant));
}

[BindServiceMethod(typeof(OtlpGrpcLogsService), nameof(Bind))]
internal sealed class OtlpGrpcLogsService(OtlpConsumer consumer, IEnumerable<OtlpSignal> signals) : LogsService.LogsServiceBase
{
    private readonly LogsSignal _signal = signals.OfType<LogsSignal>().Single();

    public static void Bind(ServiceBinderBase binder, LogsService.LogsServiceBase? service) =>
        OtlpGrpcMethods.Bind<ExportLogsServiceRequest, ExportLogsServiceResponse>(binder, LogsService.Descriptor, ExportLogsServiceRequest.Parser, service is null ? null : service.Export);

    // Not async: the decoded request must not outlive its mapping (OtlpGrpcCall).
    public override Task<ExportLogsServiceResponse> Export(ExportLogsServiceRequest request, ServerCallContext context) =>
        OtlpGrpcCall.ExportAsync<ExportLogsServiceResponse>(consumer, _signal, context, tenant => _signal.Map(request, tenant));
}

/// <summary>One export call over gRPC: the caller's tenant, the shared consumer, and the outcome as a gRPC status.</summary>
/// <remarks>
/// The decoded request is mapped and dropped before anything is awaited, as on OTLP/HTTP: nothing that waits for the
/// commit (an async method's state machine keeps its arguments until it completes) refers to it or to the closure
/// holding it. A request kept alive across the commit wait is promoted out of gen 0 with every collection during that
/// wait, which made gRPC ingest pay for several times OTLP/HTTP's gen-2 collections per span.
/// </remarks>
internal static class OtlpGrpcCall
{
    public static Task<TResponse> ExportAsync<TResponse>(OtlpConsumer consumer, OtlpSignal signal, ServerCallContext context, Func<string?, MappingResult> map)
        where TResponse : class, IMessage
    {
        // With authentication on, a tenant key's data is its tenant's, whatever the payload claims (as over HTTP).
        var tenant = Security.ApiCaller.Of(context.GetHttpContext())?.IngestTenant;
        Task<ExportOutcome> committed;
        try
        {
            committed = consumer.ExportAsync(signal, () => map(tenant));
        }
        catch
        {
            consumer.Metrics.GrpcRequestAnswered(signal.Name, (int)StatusCode.Internal);
            throw;
        }

        return AnswerAsync<TResponse>(consumer, signal, committed);
    }

    private static async Task<TResponse> AnswerAsync<TResponse>(OtlpConsumer consumer, OtlpSignal signal, Task<ExportOutcome> committed)
        where TResponse : class, IMessage
    {
        ExportOutcome outcome;
        try
        {
            outcome = await committed.ConfigureAwait(false);
        }
        catch
        {
            consumer.Metrics.GrpcRequestAnswered(signal.Name, (int)StatusCode.Internal);
            throw;
        }

        if (outcome.Status == ExportStatus.Accepted)
        {
            consumer.Metrics.GrpcRequestAnswered(signal.Name, (int)StatusCode.OK);
            return (TResponse)signal.Response(outcome.Rejected, outcome.ErrorMessage);
        }

        // Retryable per the OTLP specification: UNAVAILABLE always, RESOURCE_EXHAUSTED because RetryInfo says when.
        var code = outcome.Status is ExportStatus.Busy or ExportStatus.QueueFull ? StatusCode.ResourceExhausted : StatusCode.Unavailable;
        consumer.Metrics.GrpcRequestAnswered(signal.Name, (int)code);
        throw OtlpGrpcStatus.Retryable(code, outcome.Message, TimeSpan.FromSeconds(consumer.RetryAfterSeconds));
    }
}

/// <summary>
/// Method descriptors with the generated names (package, service, <c>Export</c>) and marshallers of our own: a request
/// that is not a valid protobuf message is the sender's bad data (INVALID_ARGUMENT), not a server fault.
/// </summary>
internal static class OtlpGrpcMethods
{
    public static void Bind<TRequest, TResponse>(ServiceBinderBase binder, Google.Protobuf.Reflection.ServiceDescriptor service,
        MessageParser<TRequest> parser, UnaryServerMethod<TRequest, TResponse>? handler)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>
    {
        var method = service.Methods.Single(m => m.Name == "Export");
        binder.AddMethod(new Method<TRequest, TResponse>(MethodType.Unary, service.FullName, method.Name, Request(parser), Response<TResponse>()), handler);
    }

    /// <summary>TraceService/Export with the wire reader's request (<see cref="OtlpGrpcTraceRequest"/>).</summary>
    public static void BindTraces(ServiceBinderBase binder, UnaryServerMethod<OtlpGrpcTraceRequest, ExportTraceServiceResponse>? handler)
    {
        var method = TraceService.Descriptor.Methods.Single(m => m.Name == "Export");
        binder.AddMethod(new Method<OtlpGrpcTraceRequest, ExportTraceServiceResponse>(MethodType.Unary, TraceService.Descriptor.FullName, method.Name,
            TraceRequest(), Response<ExportTraceServiceResponse>()), handler);
    }

    private static Marshaller<OtlpGrpcTraceRequest> TraceRequest() =>
        Marshallers.Create<OtlpGrpcTraceRequest>(
            (OtlpGrpcTraceRequest _, SerializationContext _) => throw new NotSupportedException("the server never writes requests"),
            (DeserializationContext context) =>
            {
                try
                {
                    return OtlpGrpcTraceRequest.Read(context.PayloadAsReadOnlySequence());
                }
                catch (OtlpWireFormatException error)
                {
                    throw new RpcException(new Status(StatusCode.InvalidArgument,
                        $"request is not a valid protobuf {nameof(ExportTraceServiceRequest)}: {error.Message}"));
                }
            });

    private static Marshaller<T> Request<T>(MessageParser<T> parser)
        where T : class, IMessage<T> =>
        Marshallers.Create<T>(
            (message, context) => Write(message, context),
            context =>
            {
                try
                {
                    return parser.ParseFrom(context.PayloadAsReadOnlySequence());
                }
                catch (InvalidProtocolBufferException error)
                {
                    throw new RpcException(new Status(StatusCode.InvalidArgument,
                        $"request is not a valid protobuf {typeof(T).Name}: {error.Message}"));
                }
            });

    private static Marshaller<T> Response<T>()
        where T : class, IMessage<T> =>
        Marshallers.Create<T>((message, context) => Write(message, context), _ => throw new NotSupportedException("the server never reads responses"));

    private static void Write<T>(T message, SerializationContext context)
        where T : IMessage<T>
    {
        context.SetPayloadLength(message.CalculateSize());
        message.WriteTo(context.GetBufferWriter());
        context.Complete();
    }
}

using Google.Protobuf;
using System.Runtime.CompilerServices;
using Grpc.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using PerfOtel.Collector.Ingest;
using PerfOtel.Collector.Receiving;
using PerfOtel.Collector.Receiving.Grpc;
using PerfOtel.Collector.Receiving.Http;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Otlp.Grpc;

/// <summary>
/// An OTLP/gRPC export lets go of its decoded request once it is mapped, before it waits for the commit, as OTLP/HTTP
/// does with its body. A request kept alive across the commit wait is promoted out of gen 0 by every collection during
/// that wait: that had made gRPC ingest pay several times OTLP/HTTP's gen-2 collections per span
/// (docs/collector/ingest-performance.md, "OTLP/gRPC against OTLP/HTTP").
/// </summary>
public sealed class OtlpGrpcRetentionTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task TraceExport_DropsTheDecodedRequest_WhileItsCommitIsPending()
    {
        await using var collector = new CollectorFactory();
        var writerGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        collector.Store.BeforeWrite = _ => writerGate.Task;
        var queue = collector.Services.GetRequiredService<IngestQueue>();
        var service = new OtlpGrpcTraceService(collector.Services.GetRequiredService<OtlpConsumer>(), collector.Services.GetServices<OtlpSignal>());

        var (export, decoded) = StartTraceExport(service, collector.Services);
        await Eventually.Until(() => queue.QueuedRecords == 3, "the export to be queued");

        try
        {
            Assert.False(export.IsCompleted, "the export was answered before its commit");
            Assert.False(StillReachable(decoded), "the decoded trace request is still reachable while the export waits for its commit");
        }
        finally
        {
            writerGate.TrySetResult();
        }

        var response = await export.WaitAsync(Patience);
        Assert.Null(response.PartialSuccess);
        Assert.Equal(3, collector.Store.Invocations.Count);
    }

    [Fact]
    public async Task LogExport_DropsTheDecodedRequest_WhileItsCommitIsPending()
    {
        await using var collector = new CollectorFactory();
        var writerGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        collector.Store.BeforeWrite = _ => writerGate.Task;
        var queue = collector.Services.GetRequiredService<IngestQueue>();
        var service = new OtlpGrpcLogsService(collector.Services.GetRequiredService<OtlpConsumer>(), collector.Services.GetServices<OtlpSignal>());

        var (export, decoded) = StartLogExport(service, collector.Services);
        await Eventually.Until(() => queue.QueuedRecords > 0, "the export to be queued");

        try
        {
            Assert.False(export.IsCompleted, "the export was answered before its commit");
            Assert.False(StillReachable(decoded), "the decoded ExportLogsServiceRequest is still reachable while the export waits for its commit");
        }
        finally
        {
            writerGate.TrySetResult();
        }

        var response = await export.WaitAsync(Patience);
        Assert.Null(response.PartialSuccess);
    }

    // The request is created and handed over in a frame of its own, so that nothing in the test keeps it alive.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (Task<ExportTraceServiceResponse> Export, WeakReference Decoded) StartTraceExport(OtlpGrpcTraceService service, IServiceProvider services)
    {
        var bytes = Traces(Enumerable.Range(0x5100, 3).Select(i => Span("invoke_agent retained", TraceId(i), SpanId(i),
            attributes: [(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent)]))).ToByteArray();
        // As the marshaller hands it over: the payload copied into a pooled buffer and read by the wire reader.
        var request = OtlpGrpcTraceRequest.Read(new System.Buffers.ReadOnlySequence<byte>(bytes));
        return (service.Export(request, new CallContext(services)), new WeakReference(request.Input));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (Task<ExportLogsServiceResponse> Export, WeakReference Decoded) StartLogExport(OtlpGrpcLogsService service, IServiceProvider services)
    {
        var request = new ExportLogsServiceRequest
        {
            ResourceLogs =
            {
                new OpenTelemetry.Proto.Logs.V1.ResourceLogs
                {
                    ScopeLogs =
                    {
                        new OpenTelemetry.Proto.Logs.V1.ScopeLogs
                        {
                            LogRecords =
                            {
                                new OpenTelemetry.Proto.Logs.V1.LogRecord
                                {
                                    TimeUnixNano = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000,
                                    EventName = GenAiEvents.EvaluationResult,
                                    TraceId = TraceId(0x5200),
                                    SpanId = SpanId(0x5200),
                                    Attributes = { Attr(GenAiAttributes.EvaluationName, "retained"), Attr(GenAiAttributes.EvaluationScoreValue, 1) },
                                },
                            },
                        },
                    },
                },
            },
        };
        return (service.Export(request, new CallContext(services)), new WeakReference(request));
    }

    private static bool StillReachable(WeakReference reference)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return reference.IsAlive;
    }

    /// <summary>
    /// The call context Grpc.AspNetCore passes a service, reduced to what the export reads: the request's HttpContext
    /// (for the caller's tenant; none here, authentication is off).
    /// </summary>
    private sealed class CallContext(IServiceProvider services) : ServerCallContext
    {
        private readonly Dictionary<object, object> _userState = new() { ["__HttpContext"] = new DefaultHttpContext { RequestServices = services } };

        protected override string MethodCore => "/opentelemetry.proto.collector.trace.v1.TraceService/Export";

        protected override string HostCore => "localhost";

        protected override string PeerCore => "ipv4:127.0.0.1:1";

        protected override DateTime DeadlineCore => DateTime.MaxValue;

        protected override Metadata RequestHeadersCore { get; } = [];

        protected override CancellationToken CancellationTokenCore => CancellationToken.None;

        protected override Metadata ResponseTrailersCore { get; } = [];

        protected override Status StatusCore { get; set; }

        protected override WriteOptions? WriteOptionsCore { get; set; }

        protected override AuthContext AuthContextCore { get; } = new(null, []);

        protected override IDictionary<object, object> UserStateCore => _userState;

        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
            throw new NotSupportedException("exports propagate nothing");

        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) => Task.CompletedTask;
    }
}

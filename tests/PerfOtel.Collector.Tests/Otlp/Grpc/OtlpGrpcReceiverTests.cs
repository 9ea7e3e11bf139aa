using System.IO.Compression;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Logs.V1;
using OpenTelemetry.Proto.Metrics.V1;
using PerfOtel.Collector.Ingest;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Collector.Tests.Security;
using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Otlp.Grpc;

/// <summary>
/// OTLP/gRPC keeps OTLP/HTTP's promises, through the same consumer: each status and its google.rpc details are read
/// by a real Grpc.Net.Client.
/// </summary>
public sealed class OtlpGrpcReceiverTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private static OpenTelemetry.Proto.Collector.Trace.V1.ExportTraceServiceRequest Invocations(int first, int count, string agent = "worker",
        params (string Key, object Value)[] resource) =>
        Traces(Enumerable.Range(first, count).Select(i => Span($"invoke_agent {agent}", TraceId(i), SpanId(i),
            attributes: [(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent), (GenAiAttributes.AgentName, agent)])), resource);

    [Fact]
    public async Task Export_IsAnsweredOnlyOnceTheRecordsAreCommitted()
    {
        await using var collector = new CollectorFactory();
        var writerGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        collector.Store.BeforeWrite = _ => writerGate.Task;
        using var client = OtlpGrpcClient.InProcess(collector);
        var queue = collector.Services.GetRequiredService<IngestQueue>();

        var call = client.ExportAsync(Invocations(1, 2, resource: (PerfOtelAttributes.Tenant, "acme")));
        await Eventually.Until(() => queue.QueuedRecords == 2, "the export to be queued");
        Assert.False(call.IsCompleted, "OK was answered before the commit");

        writerGate.SetResult();
        var response = await call.WaitAsync(Patience);

        Assert.Null(response.PartialSuccess);
        Assert.Equal(2, collector.Store.Invocations.Count);
        Assert.All(collector.Store.Invocations, i => Assert.Equal("acme", i.Tenant));
        Assert.Equal(["worker"], collector.Store.Invocations.Select(i => i.AgentName).Distinct());
    }

    [Fact]
    public async Task InvalidSpans_AreReportedInPartialSuccess_AndTheValidOnesStored()
    {
        await using var collector = new CollectorFactory();
        using var client = OtlpGrpcClient.InProcess(collector);
        var request = Invocations(1, 2);
        request.ResourceSpans[0].ScopeSpans[0].Spans[1].TraceId = ByteString.CopyFrom(1, 2, 3);

        var response = await client.ExportAsync(request);

        Assert.Equal(1, response.PartialSuccess.RejectedSpans);
        Assert.False(string.IsNullOrEmpty(response.PartialSuccess.ErrorMessage));
        Assert.Single(collector.Store.Invocations);
    }

    [Fact]
    public async Task FullQueue_IsResourceExhaustedWithRetryInfo_AndEveryAcknowledgedSpanIsStored()
    {
        await using var collector = new CollectorFactory(new()
        {
            ["Ingest:QueueCapacityRecords"] = "4",
            ["Ingest:RetryAfterSeconds"] = "7",
        });
        var writerGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        collector.Store.BeforeWrite = _ => writerGate.Task;
        using var client = OtlpGrpcClient.InProcess(collector);
        var queue = collector.Services.GetRequiredService<IngestQueue>();

        var accepted = new List<Task>();
        RpcException? refused = null;
        for (var n = 0; n < 10 && refused is null; n++)
        {
            var queuedBefore = queue.QueuedRecords;
            var call = client.ExportAsync(Invocations(n * 2 + 1, 2));
            await Eventually.Until(() => call.IsCompleted || queue.QueuedRecords > queuedBefore, "the export to be queued or answered");
            if (call.IsCompleted)
            {
                refused = await Assert.ThrowsAsync<RpcException>(() => call);
            }
            else
            {
                accepted.Add(call);
            }
        }

        Assert.NotNull(refused);
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("Ingest:QueueCapacityRecords", refused.Status.Detail, StringComparison.Ordinal);
        var details = OtlpGrpcClient.Details(refused);
        Assert.NotNull(details);
        Assert.Equal((int)StatusCode.ResourceExhausted, details.Code);
        Assert.Equal(TimeSpan.FromSeconds(7), OtlpGrpcClient.RetryDelay(refused));

        writerGate.SetResult();
        await Task.WhenAll(accepted).WaitAsync(Patience);
        Assert.Equal(accepted.Count * 2, collector.Store.Invocations.Count);
    }

    [Fact]
    public async Task Shutdown_IsUnavailableWithRetryInfo_AndWhatWasAcceptedIsCommitted()
    {
        await using var collector = new CollectorFactory(new() { ["Ingest:RetryAfterSeconds"] = "3" });
        var writerGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        collector.Store.BeforeWrite = _ => writerGate.Task;
        using var client = OtlpGrpcClient.InProcess(collector);
        var queue = collector.Services.GetRequiredService<IngestQueue>();

        var pending = client.ExportAsync(Invocations(1, 2));
        await Eventually.Until(() => queue.QueuedRecords == 2, "the first export to queue");
        collector.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        var writer = collector.Services.GetServices<IHostedService>().OfType<IngestWriter>().Single();
        var writerStopped = writer.StopAsync(CancellationToken.None);

        var late = await Assert.ThrowsAsync<RpcException>(() => client.ExportAsync(Invocations(3, 1)));
        Assert.Equal(StatusCode.Unavailable, late.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), OtlpGrpcClient.RetryDelay(late));

        writerGate.SetResult();
        await writerStopped.WaitAsync(Patience);
        await pending.WaitAsync(Patience);
        Assert.Equal(2, collector.Store.Invocations.Count);
    }

    [Fact]
    public async Task StoreFailure_IsUnavailableWithRetryInfo()
    {
        await using var collector = new CollectorFactory();
        collector.Store.BeforeWrite = _ => throw new InvalidOperationException("disk full");
        using var client = OtlpGrpcClient.InProcess(collector);

        var failed = await Assert.ThrowsAsync<RpcException>(() => client.ExportAsync(Invocations(1, 1)));

        Assert.Equal(StatusCode.Unavailable, failed.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(2), OtlpGrpcClient.RetryDelay(failed));
        Assert.Empty(collector.Store.Invocations);
    }

    [Fact]
    public async Task UndecodableMessage_IsInvalidArgument()
    {
        await using var collector = new CollectorFactory();
        using var client = OtlpGrpcClient.InProcess(collector);

        var error = await Assert.ThrowsAsync<RpcException>(() => client.ExportRawAsync([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Contains("ExportTraceServiceRequest", error.Status.Detail, StringComparison.Ordinal);
        Assert.Null(OtlpGrpcClient.RetryDelay(error));
        Assert.Empty(collector.Store.Invocations);
    }

    [Theory]
    [InlineData("truncated varint", "truncated varint")]
    [InlineData("wrong wire type", "resource_spans (field 1) has wire type 0 (varint)")]
    [InlineData("invalid UTF-8", "Span.name at byte")]
    [InlineData("nested too deep", "nested more than 100 levels")]
    public async Task MalformedTraceRequests_AreInvalidArgument_SayingWhatIsWrong_AndNothingIsStored(string what, string message)
    {
        await using var collector = new CollectorFactory();
        using var client = OtlpGrpcClient.InProcess(collector);
        // Valid spans first: nothing of a request that fails to decode is stored.
        var valid = Invocations(1, 2).ToByteArray();
        var badName = Invocations(3, 1).ToByteArray();
        badName[badName.AsSpan().IndexOf("worker"u8)] = 0xFF;
        var deep = new OpenTelemetry.Proto.Common.V1.AnyValue { IntValue = 1 };
        for (var i = 0; i < 60; i++)
        {
            deep = new OpenTelemetry.Proto.Common.V1.AnyValue { ArrayValue = new OpenTelemetry.Proto.Common.V1.ArrayValue { Values = { deep } } };
        }

        var nested = Invocations(4, 1);
        nested.ResourceSpans[0].ScopeSpans[0].Spans[0].Attributes.Add(new OpenTelemetry.Proto.Common.V1.KeyValue { Key = "deep", Value = deep });
        byte[] body = what switch
        {
            "truncated varint" => [.. valid, 0x0A, 0x80],
            "wrong wire type" => [.. valid, 0x08, 0x01],
            "invalid UTF-8" => [.. valid, .. badName],
            _ => [.. valid, .. nested.ToByteArray()],
        };

        var error = await Assert.ThrowsAsync<RpcException>(() => client.ExportRawAsync(body));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.StartsWith("request is not a valid protobuf ExportTraceServiceRequest: ", error.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(message, error.Status.Detail, StringComparison.Ordinal);
        Assert.Null(OtlpGrpcClient.RetryDelay(error));
        Assert.Empty(collector.Store.Invocations);
    }

    [Fact]
    public async Task GzipMessages_AreInflatedAndStored()
    {
        await using var collector = new CollectorFactory();
        using var client = OtlpGrpcClient.InProcess(collector);

        var response = await client.ExportAsync(Invocations(1, 3), gzip: true);

        Assert.Null(response.PartialSuccess);
        Assert.Equal(3, collector.Store.Invocations.Count);
    }

    [Fact]
    public async Task MessagesOverTheHttpBodyLimit_AreResourceExhausted_CompressedOrNot()
    {
        await using var collector = new CollectorFactory(new() { ["Otlp:MaxRequestBytes"] = "4096" });
        using var client = OtlpGrpcClient.InProcess(collector);
        var large = Invocations(1, 100);
        Assert.True(large.CalculateSize() > 4096);

        var plain = await Assert.ThrowsAsync<RpcException>(() => client.ExportAsync(large));
        Assert.Equal(StatusCode.ResourceExhausted, plain.StatusCode);
        Assert.Null(OtlpGrpcClient.RetryDelay(plain));

        // A gzip bomb: a few hundred bytes on the wire that inflate far past the limit.
        var bomb = new byte[64 * 1024 * 1024];
        bomb[0] = 0x0a;
        var inflated = await Assert.ThrowsAsync<RpcException>(() => client.ExportRawAsync(bomb[..(8 * 1024 * 1024)], gzip: true));
        Assert.Equal(StatusCode.ResourceExhausted, inflated.StatusCode);
        Assert.Empty(collector.Store.Invocations);
    }

    [Fact]
    public async Task ApiKeys_ComeFromTheAuthorizationMetadata_AndATenantKeyDecidesTheTenant()
    {
        await using var collector = new CollectorFactory(TestKeys.Settings());
        using var client = OtlpGrpcClient.InProcess(collector);
        var claimsBravo = Invocations(1, 1, resource: (PerfOtelAttributes.Tenant, TestKeys.TenantB));

        var missing = await Assert.ThrowsAsync<RpcException>(() => client.ExportAsync(claimsBravo));
        Assert.Equal(StatusCode.Unauthenticated, missing.StatusCode);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => client.ExportAsync(claimsBravo, TestKeys.Unknown));
        Assert.Equal(StatusCode.Unauthenticated, unknown.StatusCode);
        var readOnly = await Assert.ThrowsAsync<RpcException>(() => client.ExportAsync(claimsBravo, TestKeys.ReadA));
        Assert.Equal(StatusCode.PermissionDenied, readOnly.StatusCode);
        Assert.Empty(collector.Store.Invocations);

        await client.ExportAsync(claimsBravo, TestKeys.IngestA);
        var stored = Assert.Single(collector.Store.Invocations);
        Assert.Equal(TestKeys.TenantA, stored.Tenant);

        // An admin key forwards for several tenants (a gateway): the payload's tenant stands, as over HTTP.
        await client.ExportAsync(Invocations(2, 1, resource: (PerfOtelAttributes.Tenant, TestKeys.TenantB)), TestKeys.Admin);
        Assert.Contains(collector.Store.Invocations, i => i.Tenant == TestKeys.TenantB);
    }

    [Fact]
    public async Task MetricsAndLogsServices_AcceptTheirSignals()
    {
        await using var collector = new CollectorFactory();
        using var client = OtlpGrpcClient.InProcess(collector);
        var metrics = new ExportMetricsServiceRequest
        {
            ResourceMetrics =
            {
                new ResourceMetrics
                {
                    ScopeMetrics =
                    {
                        new ScopeMetrics
                        {
                            Metrics =
                            {
                                new Metric { Name = "queue.depth", Gauge = new Gauge { DataPoints = { new NumberDataPoint { AsDouble = 3, TimeUnixNano = BaseTimeNanos } } } },
                                new Metric { Name = string.Empty, Gauge = new Gauge { DataPoints = { new NumberDataPoint { AsDouble = 1, TimeUnixNano = BaseTimeNanos } } } },
                            },
                        },
                    },
                },
            },
        };
        var logs = new ExportLogsServiceRequest
        {
            ResourceLogs = { new ResourceLogs { ScopeLogs = { new ScopeLogs { LogRecords = { new LogRecord { TimeUnixNano = BaseTimeNanos, Body = new OpenTelemetry.Proto.Common.V1.AnyValue { StringValue = "hello" } } } } } } },
        };

        var metricsResponse = await client.ExportAsync(metrics);
        var logsResponse = await client.ExportAsync(logs);

        Assert.Equal(1, metricsResponse.PartialSuccess.RejectedDataPoints);
        Assert.Null(logsResponse.PartialSuccess);
    }
}

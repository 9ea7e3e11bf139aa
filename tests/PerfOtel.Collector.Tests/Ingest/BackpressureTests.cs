using System.Net;
using Google.Protobuf;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;
using PerfOtel.Collector.Derived;
using PerfOtel.Collector.Ingest;
using PerfOtel.Collector.Records;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Ingest;

/// <summary>The ingest queue under pressure, store failures and shutdown: nothing acknowledged is ever lost.</summary>
public sealed class BackpressureTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    /// <summary>One request carrying <paramref name="invocations"/> invocation spans, all named after <paramref name="agent"/>.</summary>
    private static ByteArrayContent Request(int first, int invocations, string agent = "worker") => (ByteArrayContent)Protobuf(Traces(
        Enumerable.Range(first, invocations).Select(i => Span($"invoke_agent {agent}", TraceId(i), SpanId(i),
            attributes: [(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent)]))));

    [Fact]
    public async Task FullQueue_Gets429WithRetryAfter_AndEveryAcknowledgedSpanIsStored()
    {
        await using var collector = new CollectorFactory(new()
        {
            ["Ingest:QueueCapacityRecords"] = "10",
            ["Ingest:RetryAfterSeconds"] = "7",
        });
        var writerGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        collector.Store.BeforeWrite = _ => writerGate.Task;
        using var client = collector.CreateClient();
        var queue = collector.Services.GetRequiredService<IngestQueue>();

        // Offer requests one by one until the queue refuses; each accepted one stays pending behind the held writer.
        var accepted = new List<(int First, Task<HttpResponseMessage> Response)>();
        HttpResponseMessage? refused = null;
        for (var n = 0; n < 20 && refused is null; n++)
        {
            var first = n * 3 + 1;
            var queuedBefore = queue.QueuedRecords;
            var response = client.PostAsync("/v1/traces", Request(first, 3));
            await Eventually.Until(() => response.IsCompleted || queue.QueuedRecords > queuedBefore, "the request to be queued or answered");
            if (response.IsCompleted)
            {
                refused = await response;
            }
            else
            {
                accepted.Add((first, response));
            }
        }

        Assert.NotNull(refused);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), refused.Headers.RetryAfter?.Delta);
        var status = Google.Rpc.Status.Parser.ParseFrom(await refused.Content.ReadAsByteArrayAsync());
        Assert.Contains("Ingest:QueueCapacityRecords", status.Message);
        Assert.InRange(queue.QueuedRecords, 1, 10);
        Assert.Empty(collector.Store.Invocations);

        writerGate.SetResult();
        foreach (var (_, response) in accepted)
        {
            Assert.Equal(HttpStatusCode.OK, (await response).StatusCode);
        }

        var stored = collector.Store.Invocations.Select(i => i.SpanId).ToHashSet();
        var acknowledged = accepted.SelectMany(a => Enumerable.Range(a.First, 3)).Select(i => Hex(SpanId(i))).ToHashSet();
        Assert.Equal(acknowledged, stored);
        Assert.Equal(0, queue.QueuedRecords);
        Assert.Equal(0, queue.QueuedBytes);
    }

    [Fact]
    public async Task StoreFailure_Gets503WithRetryAfter_AndDoesNotFailTheRequestsItWasCoalescedWith()
    {
        await using var collector = new CollectorFactory();
        var writerGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = 0;
        collector.Store.BeforeWrite = async batch =>
        {
            if (Interlocked.Increment(ref held) == 1)
            {
                await writerGate.Task;
            }

            if (batch.Invocations.Any(i => i.AgentName == "poison"))
            {
                throw new InvalidOperationException("constraint violated");
            }
        };
        using var client = collector.CreateClient();
        var queue = collector.Services.GetRequiredService<IngestQueue>();

        // The first request occupies the writer; the next two queue up behind it and are committed together.
        var first = client.PostAsync("/v1/traces", Request(1, 1));
        await Eventually.Until(() => held == 1, "the writer to hold the first batch");
        var good = client.PostAsync("/v1/traces", Request(10, 2));
        await Eventually.Until(() => queue.QueuedRecords == 3, "the second request to queue");
        var poison = client.PostAsync("/v1/traces", Request(20, 2, "poison"));
        await Eventually.Until(() => queue.QueuedRecords == 5, "the third request to queue");
        writerGate.SetResult();

        Assert.Equal(HttpStatusCode.OK, (await first).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await good).StatusCode);
        var failed = await poison;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.NotNull(failed.Headers.RetryAfter);
        Assert.Equal(14, Google.Rpc.Status.Parser.ParseFrom(await failed.Content.ReadAsByteArrayAsync()).Code);
        Assert.Equal(["worker"], collector.Store.Invocations.Select(i => i.AgentName).Distinct());
        Assert.Equal(3, collector.Store.Invocations.Count);
        Assert.Equal(0, queue.QueuedRecords);
    }

    [Fact]
    public async Task Shutdown_RefusesNewRequestsWith503_AndCommitsWhatWasAcceptedBeforeStopping()
    {
        await using var collector = new CollectorFactory();
        var writerGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        collector.Store.BeforeWrite = _ => writerGate.Task;
        using var client = collector.CreateClient();
        var queue = collector.Services.GetRequiredService<IngestQueue>();

        var pendingA = client.PostAsync("/v1/traces", Request(1, 2));
        await Eventually.Until(() => queue.QueuedRecords == 2, "the first request to queue");
        var pendingB = client.PostAsync("/v1/traces", Request(3, 2));
        await Eventually.Until(() => queue.QueuedRecords == 4, "the second request to queue");

        // What SIGTERM does: the host signals ApplicationStopping, then stops its hosted services.
        collector.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        var writer = collector.Services.GetServices<IHostedService>().OfType<IngestWriter>().Single();
        var writerStopped = writer.StopAsync(CancellationToken.None);

        using var late = await client.PostAsync("/v1/traces", Request(5, 1));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, late.StatusCode);
        Assert.NotNull(late.Headers.RetryAfter);
        Assert.False(writerStopped.IsCompleted, "the writer stopped with accepted batches uncommitted");

        writerGate.SetResult();
        await writerStopped.WaitAsync(Patience);
        Assert.Equal(HttpStatusCode.OK, (await pendingA).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await pendingB).StatusCode);
        Assert.Equal(4, collector.Store.Invocations.Count);
    }

    [Fact]
    public async Task Observers_HearOfCommittedBatches_AndAThrowingObserverChangesNothing()
    {
        var seen = new RecordingObserver();
        await using var collector = new CollectorFactory(services: services =>
        {
            services.AddExtraDerivations(new ThrowingObserver(), seen);
        });
        collector.Store.BeforeWrite = _ =>
        {
            Assert.Empty(seen.Batches);
            return Task.CompletedTask;
        };
        using var client = collector.CreateClient();

        using var response = await client.PostAsync("/v1/traces", Request(1, 2));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Eventually.Until(() => seen.Batches.Count == 1, "the observer to be told");
        Assert.Equal(2, seen.Batches.Single().Invocations.Count);
        Assert.Equal(2, collector.Store.Invocations.Count);
    }

    [Fact]
    public async Task QueueBytesBound_RefusesLargeBatchesBeforeTheRecordBound()
    {
        using var provider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new Collector.Telemetry.CollectorMetrics(provider.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        var queue = new IngestQueue(Microsoft.Extensions.Options.Options.Create(new IngestOptions
        {
            QueueCapacityRecords = 1000,
            QueueCapacityBytes = 1024 * 1024,
        }), metrics);

        static IngestBatch Large(int n)
        {
            var batch = new IngestBatch();
            batch.Invocations.Add(new AgentInvocation
            {
                Tenant = "t", TraceId = "t" + n, SpanId = "s" + n, AgentName = new string('a', 200_000),
                StartTime = DateTimeOffset.UnixEpoch, DurationSeconds = 1, Outcome = Outcomes.Success,
            });
            return batch;
        }

        Assert.Equal(EnqueueOutcome.Accepted, queue.TryEnqueue(Large(1), out _));
        Assert.Equal(EnqueueOutcome.Accepted, queue.TryEnqueue(Large(2), out _));
        Assert.Equal(EnqueueOutcome.Full, queue.TryEnqueue(Large(3), out var refused));
        Assert.Null(refused);
        Assert.Equal(2, queue.QueuedRecords);
        Assert.InRange(queue.QueuedBytes, 800_000, 1024 * 1024);

        queue.StopAccepting();
        Assert.Equal(EnqueueOutcome.ShuttingDown, queue.TryEnqueue(Large(4), out _));
        await Task.CompletedTask;
    }

    private sealed class RecordingObserver : IDerivation
    {
        public List<IngestBatch> Batches { get; } = [];

        public string Name => "test-recorder";

        public void Apply(IngestBatch batch)
        {
            lock (Batches)
            {
                Batches.Add(batch);
            }
        }
    }

    private sealed class ThrowingObserver : IDerivation
    {
        public string Name => "test-throwing";

        public void Apply(IngestBatch batch) => throw new InvalidOperationException("observer bug");
    }
}

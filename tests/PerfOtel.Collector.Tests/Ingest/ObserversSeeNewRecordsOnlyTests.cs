using System.Net;
using Microsoft.Extensions.DependencyInjection;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;
using PerfOtel.Collector.Derived;
using PerfOtel.Collector.Ingest;
using PerfOtel.Collector.Records;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Ingest;

/// <summary>The ingest writer hands observers what the store reports as new, including across coalesced requests.</summary>
public sealed class ObserversSeeNewRecordsOnlyTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task CoalescedResendsReachObserversOnceAndAnAllDuplicateRequestNotAtAll()
    {
        var observer = new RecordingObserver();
        await using var collector = new CollectorFactory(services: services => services.AddExtraDerivations(observer));
        var writerGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writerHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        collector.Store.BeforeWrite = _ =>
        {
            writerHeld.TrySetResult();
            return writerGate.Task;
        };
        using var client = collector.CreateClient();
        var queue = collector.Services.GetRequiredService<IngestQueue>();

        // The writer takes the first request and is held inside the store; the two copies of the overlapping request
        // queue behind it and are committed together as one merged batch that carries every span of theirs twice.
        var first = client.PostAsync("/v1/traces", Request(1, 3));
        await writerHeld.Task.WaitAsync(Patience);
        var overlapping = client.PostAsync("/v1/traces", Request(2, 4));
        var again = client.PostAsync("/v1/traces", Request(2, 4));
        await Eventually.Until(() => queue.QueuedRecords == 11, "both overlapping requests to be queued");
        writerGate.SetResult();
        foreach (var response in await Task.WhenAll(first, overlapping, again))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }

        Assert.Equal(2, collector.Store.WriteCalls);
        Assert.Equal(Enumerable.Range(1, 5).Select(i => Hex(SpanId(i))), observer.InvocationSpanIds.Order(StringComparer.Ordinal));
        Assert.Equal(2, observer.Commits);

        using (var duplicate = await client.PostAsync("/v1/traces", Request(1, 5)))
        {
            Assert.Equal(HttpStatusCode.OK, duplicate.StatusCode);
        }

        Assert.Equal(3, collector.Store.WriteCalls);
        Assert.Equal(2, observer.Commits);
        Assert.Equal(5, observer.InvocationSpanIds.Count);
    }

    private static ByteArrayContent Request(int first, int invocations) => (ByteArrayContent)Protobuf(Traces(
        Enumerable.Range(first, invocations).Select(i => Span("invoke_agent worker", TraceId(i), SpanId(i),
            attributes: [(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent)]))));

    private sealed class RecordingObserver : IDerivation
    {
        private readonly Lock _gate = new();
        private readonly List<string> _invocationSpanIds = [];
        private int _commits;

        public int Commits { get { lock (_gate) { return _commits; } } }

        public List<string> InvocationSpanIds { get { lock (_gate) { return [.. _invocationSpanIds]; } } }

        public string Name => "test-recorder";

        public void Apply(IngestBatch batch)
        {
            lock (_gate)
            {
                _commits++;
                _invocationSpanIds.AddRange(batch.Invocations.Select(i => i.SpanId));
            }
        }
    }
}

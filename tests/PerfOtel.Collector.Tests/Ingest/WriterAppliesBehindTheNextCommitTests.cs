using System.Net;
using PerfOtel.Collector.Derived;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;

namespace PerfOtel.Collector.Tests.Ingest;

/// <summary>
/// Alone on its store, the writer commits the next batch while the previous one is still being applied to the
/// derivations; the derivations still see every batch once, in commit order, and each sender is answered only after its
/// own batch was applied (read-your-writes).
/// </summary>
public sealed class WriterAppliesBehindTheNextCommitTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task TheNextCommitDoesNotWaitForTheDerivationsAndTheirOrderAndTheAnswersStay()
    {
        var derivation = new HeldDerivation();
        await using var collector = new CollectorFactory(services: services => services.AddExtraDerivations(derivation));
        using var client = collector.CreateClient();

        var first = client.PostAsync("/v1/traces", Request(1, 3));
        await derivation.Entered.Task.WaitAsync(Patience);

        // The first batch is committed and held inside the derivations: the second is committed all the same.
        var second = client.PostAsync("/v1/traces", Request(4, 2));
        await Eventually(() => collector.Store.WriteCalls == 2, "the second batch to be committed while the first is being applied");

        // Neither sender is answered before its batch is applied, and the second's comes after the first's.
        await Task.Delay(100);
        Assert.False(first.IsCompleted, "the first sender was answered before its batch reached the derivations");
        Assert.False(second.IsCompleted, "the second sender was answered before its batch reached the derivations");

        derivation.Release.Set();
        foreach (var response in await Task.WhenAll(first, second).WaitAsync(Patience))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }

        Assert.Equal([Ids(1, 3), Ids(4, 2)], derivation.Batches);
    }

    private static ByteArrayContent Request(int first, int invocations) => (ByteArrayContent)Protobuf(Traces(
        Enumerable.Range(first, invocations).Select(i => Span("invoke_agent worker", TraceId(i), SpanId(i),
            attributes: [(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent)]))));

    private static string[] Ids(int first, int count) =>
        [.. Enumerable.Range(first, count).Select(i => Hex(SpanId(i))).Order(StringComparer.Ordinal)];

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"gave up waiting for {what}");
            }
            await Task.Delay(10);
        }
    }

    /// <summary>Records each applied batch's invocation span ids; holds the first batch until released.</summary>
    private sealed class HeldDerivation : IDerivation
    {
        private readonly Lock _gate = new();
        private readonly List<string[]> _batches = [];

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ManualResetEventSlim Release { get; } = new();

        public List<string[]> Batches { get { lock (_gate) { return [.. _batches]; } } }

        public string Name => "test-held";

        public void Apply(IngestBatch committed)
        {
            if (committed.Invocations.Count == 0)
            {
                return;
            }
            lock (_gate)
            {
                _batches.Add([.. committed.Invocations.Select(i => i.SpanId).Order(StringComparer.Ordinal)]);
            }
            Entered.TrySetResult();
            Release.Wait(Patience);
        }
    }
}

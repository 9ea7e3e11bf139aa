using PerfOtel.Collector.Derived;
using PerfOtel.Collector.Records;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Testing;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;

namespace PerfOtel.Collector.Tests.Ingest;

/// <summary>
/// What the tests of the writer's order (<see cref="WriterAppliesBehindTheNextCommitTests"/>,
/// <see cref="WriterCommitsWhileTheLastCommitIsFlushedTests"/>) share: requests of numbered <c>invoke_agent</c> spans and
/// the span ids a derivation should see for them.
/// </summary>
internal static class WriterOrderSupport
{
    /// <summary>An OTLP/HTTP protobuf request of <paramref name="invocations"/> invoke_agent spans numbered from <paramref name="first"/>.</summary>
    public static ByteArrayContent Request(int first, int invocations) => (ByteArrayContent)Protobuf(Traces(
        Enumerable.Range(first, invocations).Select(i => Span("invoke_agent worker", TraceId(i), SpanId(i),
            attributes: [(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent)]))));

    /// <summary>The span ids of <see cref="Request"/>'s spans, in the order <see cref="RecordingDerivation"/> keeps them.</summary>
    public static string[] Ids(int first, int count) =>
        [.. Enumerable.Range(first, count).Select(i => Hex(SpanId(i))).Order(StringComparer.Ordinal)];
}

/// <summary>
/// Records each applied batch's invocation span ids (batches without invocations left out); with
/// <c>holdFirst</c>, holds the derivations inside the first batch until <see cref="Release"/> is set.
/// </summary>
internal sealed class RecordingDerivation(bool holdFirst = false) : IDerivation
{
    private readonly Lock _gate = new();
    private readonly List<string[]> _batches = [];

    /// <summary>Completed when the first batch is being applied.</summary>
    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Lets the held first batch go on.</summary>
    public ManualResetEventSlim Release { get; } = new();

    public List<string[]> Batches { get { lock (_gate) { return [.. _batches]; } } }

    public string Name => "test-recording";

    public void Apply(IngestBatch committed)
    {
        if (committed.Invocations.Count == 0)
        {
            return;
        }
        bool first;
        lock (_gate)
        {
            _batches.Add([.. committed.Invocations.Select(i => i.SpanId).Order(StringComparer.Ordinal)]);
            first = _batches.Count == 1;
        }
        Entered.TrySetResult();
        if (holdFirst && first)
        {
            Release.Wait(Eventually.Patience);
        }
    }
}

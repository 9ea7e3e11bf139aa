using System.Runtime.CompilerServices;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Tests.Ingest.TestDoubles;

/// <summary>
/// An execution store in memory, idempotent on (tenant, trace id, span id) like the real ones, with hooks to hold or fail
/// writes so tests can fill the ingest queue or break the store on purpose.
/// </summary>
public sealed class InMemoryExecutionStore : IExecutionStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(string, string, string), AgentInvocation> _invocations = [];
    private readonly Dictionary<(string, string, string), ProviderCall> _providerCalls = [];
    private readonly Dictionary<(string, string, string), ToolCall> _toolCalls = [];
    private readonly Dictionary<(string, string, string, int), EvaluationRecord> _evaluations = [];

    /// <summary>Runs before each write commits; a test awaits a signal here to hold the writer, or throws to fail it.</summary>
    public Func<IngestBatch, Task>? BeforeWrite { get; set; }

    public int WriteCalls { get; private set; }

    /// <summary>
    /// The flush after each commit of <see cref="WriteCommittedAsync"/>, as a store that flushes beside its writer has
    /// (SQLite at durability <c>full</c>); a test returns a task it holds, or a failed one. None: durable at commit.
    /// </summary>
    public Func<IngestBatch, Task>? Flush { get; set; }

    public async Task<CommittedWrite> WriteCommittedAsync(IngestBatch batch, CancellationToken cancellationToken)
    {
        var stored = await WriteAsync(batch, cancellationToken);
        return new CommittedWrite(stored, Flush?.Invoke(batch) ?? Task.CompletedTask);
    }

    public List<AgentInvocation> Invocations { get { lock (_gate) { return [.. _invocations.Values]; } } }

    public List<ProviderCall> ProviderCalls { get { lock (_gate) { return [.. _providerCalls.Values]; } } }

    public List<ToolCall> ToolCalls { get { lock (_gate) { return [.. _toolCalls.Values]; } } }

    public List<EvaluationRecord> Evaluations { get { lock (_gate) { return [.. _evaluations.Values]; } } }

    public int RecordCount { get { lock (_gate) { return _invocations.Count + _providerCalls.Count + _toolCalls.Count + _evaluations.Count; } } }

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<IngestBatch> WriteAsync(IngestBatch batch, CancellationToken cancellationToken)
    {
        if (BeforeWrite is { } hook)
        {
            await hook(batch);
        }

        lock (_gate)
        {
            WriteCalls++;
            var stored = new IngestBatch();
            foreach (var r in batch.Invocations) { if (_invocations.TryAdd((r.Tenant, r.TraceId, r.SpanId), r)) { stored.Invocations.Add(r); } }
            foreach (var r in batch.ProviderCalls) { if (_providerCalls.TryAdd((r.Tenant, r.TraceId, r.SpanId), r)) { stored.ProviderCalls.Add(r); } }
            foreach (var r in batch.ToolCalls) { if (_toolCalls.TryAdd((r.Tenant, r.TraceId, r.SpanId), r)) { stored.ToolCalls.Add(r); } }
            foreach (var r in batch.Evaluations) { if (_evaluations.TryAdd((r.Tenant, r.TraceId, r.SpanId, r.Sequence), r)) { stored.Evaluations.Add(r); } }
            return stored;
        }
    }

    public Task<FeedbackResult> AddFeedbackAsync(FeedbackRecord feedback, CancellationToken cancellationToken) =>
        throw new NotSupportedException("The ingest tests post no feedback.");

    public async IAsyncEnumerable<StoredInvocation> ReadInvocationsAsync(InvocationQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        foreach (var invocation in Invocations.Where(i => query.Tenant is null || i.Tenant == query.Tenant).OrderBy(i => i.StartTime))
        {
            yield return new StoredInvocation(invocation, invocation.Tokens, invocation.CostUsd, 0, null);
        }
    }

    public async IAsyncEnumerable<ProviderCall> ReadProviderCallsAsync(InvocationQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        foreach (var call in ProviderCalls.Where(c => query.Tenant is null || c.Tenant == query.Tenant).OrderBy(c => c.StartTime))
        {
            yield return call;
        }
    }

    public async IAsyncEnumerable<EvaluationRecord> ReadEvaluationsAsync(InvocationQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        foreach (var evaluation in Evaluations.Where(e => query.Tenant is null || e.Tenant == query.Tenant).OrderBy(e => e.Time))
        {
            yield return evaluation;
        }
    }

    public async IAsyncEnumerable<ToolCall> ReadToolCallsAsync(InvocationQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.Yield();
        foreach (var call in ToolCalls.Where(c => query.Tenant is null || c.Tenant == query.Tenant).OrderBy(c => c.StartTime))
        {
            yield return call;
        }
    }

    public async IAsyncEnumerable<SpanLink> ReadSpanLinksAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await Task.CompletedTask;
        yield break;
    }

    public Task<long> DeleteOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken) => Task.FromResult(0L);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

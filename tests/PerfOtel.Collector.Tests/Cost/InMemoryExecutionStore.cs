using System.Runtime.CompilerServices;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Tests.Cost;

/// <summary>
/// A store test double for the rebuilds and the API tests: keeps what is written in lists and reads it back in start-time order with the
/// store's roll-up rule (an invocation's cost is the sum of its calls', or its own when it has none).
/// </summary>
public sealed class InMemoryExecutionStore : IExecutionStore
{
    private readonly List<AgentInvocation> invocations = [];
    private readonly List<ProviderCall> calls = [];
    private readonly List<ToolCall> toolCalls = [];
    private readonly List<EvaluationRecord> evaluations = [];
    private readonly Dictionary<(string, string, string), FeedbackRecord> feedback = [];

    public List<InvocationQuery> Queries { get; } = [];

    public Task InitializeAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<IngestBatch> WriteAsync(IngestBatch batch, CancellationToken cancellationToken)
    {
        invocations.AddRange(batch.Invocations);
        calls.AddRange(batch.ProviderCalls);
        toolCalls.AddRange(batch.ToolCalls);
        evaluations.AddRange(batch.Evaluations);
        return Task.FromResult(batch);
    }

    public Task<FeedbackResult> AddFeedbackAsync(FeedbackRecord record, CancellationToken cancellationToken)
    {
        var invocation = invocations.FirstOrDefault(i => i.Tenant == record.Tenant && i.TraceId == record.TraceId && i.SpanId == record.SpanId);
        if (invocation is not null)
        {
            feedback[(invocation.Tenant, invocation.TraceId, invocation.SpanId)] = record;
        }
        return Task.FromResult(new FeedbackResult(invocation is not null, invocation));
    }

    public async IAsyncEnumerable<StoredInvocation> ReadInvocationsAsync(InvocationQuery query,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Queries.Add(query);
        foreach (var invocation in invocations.Where(i => Matches(query, i.Tenant, i.StartTime)).OrderBy(i => i.StartTime))
        {
            await Task.Yield();
            var children = calls.Where(c => c.Tenant == invocation.Tenant && c.TraceId == invocation.TraceId && c.InvocationSpanId == invocation.SpanId).ToList();
            feedback.TryGetValue((invocation.Tenant, invocation.TraceId, invocation.SpanId), out var joined);
            yield return children.Count == 0
                ? new StoredInvocation(invocation, invocation.Tokens, invocation.CostUsd, 0, joined)
                : new StoredInvocation(invocation, children.Aggregate(default(TokenCounts), (t, c) => t + c.Tokens),
                    children.Any(c => c.CostUsd is not null) ? children.Sum(c => c.CostUsd ?? 0) : null,
                    children.Sum(c => c.UnpricedTokens), joined);
        }
    }

    public async IAsyncEnumerable<ProviderCall> ReadProviderCallsAsync(InvocationQuery query,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Queries.Add(query);
        foreach (var call in calls.Where(c => Matches(query, c.Tenant, c.StartTime)).OrderBy(c => c.StartTime))
        {
            await Task.Yield();
            yield return call;
        }
    }

    public async IAsyncEnumerable<EvaluationRecord> ReadEvaluationsAsync(InvocationQuery query,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Queries.Add(query);
        foreach (var evaluation in evaluations.Where(e => Matches(query, e.Tenant, e.Time)).OrderBy(e => e.Time))
        {
            await Task.Yield();
            yield return evaluation;
        }
    }

    public async IAsyncEnumerable<ToolCall> ReadToolCallsAsync(InvocationQuery query,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var call in toolCalls.Where(t => Matches(query, t.Tenant, t.StartTime)).OrderBy(t => t.StartTime))
        {
            await Task.Yield();
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

    private static bool Matches(InvocationQuery query, string tenant, DateTimeOffset time) =>
        (query.Tenant is null || query.Tenant == tenant) &&
        (query.Since is null || time >= query.Since) &&
        (query.Until is null || time < query.Until);
}

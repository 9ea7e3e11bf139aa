using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Analytics;
using PerfOtel.Collector.Analytics.Windows;
using PerfOtel.Collector.Model;
using PerfOtel.Collector.Thresholds;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Tests.Analytics;

/// <summary>A clock the test moves by hand.</summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset now = start;

    public override DateTimeOffset GetUtcNow() => now;

    public void Advance(TimeSpan by) => now += by;

    public void Set(DateTimeOffset to) => now = to;
}

/// <summary>An in-memory IExecutionStore for analytics unit tests: keeps what it is given, reads it back in order.</summary>
public sealed class InMemoryExecutionStore : IExecutionStore
{
    private readonly List<AgentInvocation> invocations = [];
    private readonly List<ProviderCall> calls = [];
    private readonly List<ToolCall> toolCalls = [];
    private readonly List<EvaluationRecord> evaluations = [];
    private readonly Dictionary<(string, string), FeedbackRecord> feedback = [];

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
        var invocation = invocations.FirstOrDefault(i => i.TraceId == record.TraceId && i.SpanId == record.SpanId);
        if (invocation is not null)
        {
            feedback[(invocation.TraceId, invocation.SpanId)] = record;
        }
        return Task.FromResult(new FeedbackResult(invocation is not null, invocation));
    }

    public async IAsyncEnumerable<StoredInvocation> ReadInvocationsAsync(InvocationQuery query,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var invocation in invocations.Where(i => query.Since is null || i.StartTime >= query.Since).OrderBy(i => i.StartTime))
        {
            await Task.Yield();
            yield return new StoredInvocation(invocation, invocation.Tokens, invocation.CostUsd, 0,
                feedback.GetValueOrDefault((invocation.TraceId, invocation.SpanId)));
        }
    }

    public async IAsyncEnumerable<ProviderCall> ReadProviderCallsAsync(InvocationQuery query,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var call in calls.Where(c => query.Since is null || c.StartTime >= query.Since).OrderBy(c => c.StartTime))
        {
            await Task.Yield();
            yield return call;
        }
    }

    public async IAsyncEnumerable<EvaluationRecord> ReadEvaluationsAsync(InvocationQuery query,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var evaluation in evaluations.Where(e => query.Since is null || e.Time >= query.Since).OrderBy(e => e.Time))
        {
            await Task.Yield();
            yield return evaluation;
        }
    }

    public async IAsyncEnumerable<ToolCall> ReadToolCallsAsync(InvocationQuery query,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var call in toolCalls.Where(t => query.Since is null || t.StartTime >= query.Since).OrderBy(t => t.StartTime))
        {
            await Task.Yield();
            yield return call;
        }
    }

    public Task<long> DeleteOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken) => Task.FromResult(0L);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>Records for tests, with unique ids.</summary>
public static class Records
{
    private static int next;

    public static readonly DateTimeOffset Noon = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    public static AgentInvocation Invocation(string agent, DateTimeOffset start, string outcome = Outcomes.Success,
        double duration = 1.0, double? confidence = null, string? taskType = null, string tenant = "default")
    {
        var id = Interlocked.Increment(ref next);
        return new AgentInvocation
        {
            Tenant = tenant,
            TraceId = id.ToString("x32"),
            SpanId = id.ToString("x16"),
            AgentName = agent,
            StartTime = start,
            DurationSeconds = duration,
            Outcome = outcome,
            Confidence = confidence,
            TaskType = taskType,
        };
    }

    public static ProviderCall Call(AgentInvocation invocation, long inputTokens, long outputTokens, double? cost) => new()
    {
        Tenant = invocation.Tenant,
        TraceId = invocation.TraceId,
        SpanId = (Interlocked.Increment(ref next) + 1_000_000).ToString("x16"),
        ParentSpanId = invocation.SpanId,
        InvocationSpanId = invocation.SpanId,
        AgentName = invocation.AgentName,
        Operation = GenAiOperations.Chat,
        Provider = "openai",
        RequestModel = "gpt-4o-mini",
        StartTime = invocation.StartTime,
        DurationSeconds = invocation.DurationSeconds / 2,
        Tokens = new TokenCounts(inputTokens, outputTokens, 0, 0, 0),
        CostUsd = cost,
    };

    public static EvaluationRecord Evaluation(AgentInvocation invocation, string name, double score, bool withAgent = true) => new()
    {
        Tenant = invocation.Tenant,
        TraceId = invocation.TraceId,
        SpanId = invocation.SpanId,
        Sequence = 0,
        AgentName = withAgent ? invocation.AgentName : null,
        Name = name,
        Score = score,
        Time = invocation.StartTime.AddSeconds(invocation.DurationSeconds),
    };

    public static FeedbackRecord FeedbackOn(AgentInvocation invocation, bool? success = null, double? score = null,
        double? accuracy = null) => new()
    {
        Tenant = invocation.Tenant,
        FeedbackId = Guid.NewGuid().ToString("n"),
        TraceId = invocation.TraceId,
        SpanId = invocation.SpanId,
        Success = success,
        Score = score,
        Accuracy = accuracy,
        ReceivedAt = invocation.StartTime.AddMinutes(5),
    };

    public static IngestBatch Batch(params AgentInvocation[] invocations)
    {
        var batch = new IngestBatch();
        batch.Invocations.AddRange(invocations);
        return batch;
    }
}

/// <summary>Builds the analytics parts without a host.</summary>
public static class Analytics
{
    internal static RollingWindows Windows(TimeProvider clock, AnalyticsOptions? options = null, ThresholdOptions? thresholds = null) =>
        new(Options.Create(options ?? new AnalyticsOptions()), Options.Create(thresholds ?? new ThresholdOptions()), clock);
}

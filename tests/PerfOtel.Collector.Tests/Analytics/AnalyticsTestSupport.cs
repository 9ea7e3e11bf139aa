using Microsoft.Extensions.Options;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Derived.Analytics;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Derived.Thresholds;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Tests.Analytics;

/// <summary>A clock the test moves by hand.</summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset now = start;

    public override DateTimeOffset GetUtcNow() => now;

    public void Advance(TimeSpan by) => now += by;

    public void Set(DateTimeOffset to) => now = to;
}

/// <summary>Records for tests, with unique ids.</summary>
public static class Records
{
    private static int next;

    public static readonly DateTimeOffset Noon = new(2026, 11, 20, 12, 0, 0, TimeSpan.Zero);

    public static AgentInvocation Invocation(string agent, DateTimeOffset start, string outcome = Outcomes.Success,
        double duration = 1.0, double? confidence = null, string? taskType = null, string tenant = "default",
        double? quality = null)
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
            Quality = quality,
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

    /// <summary>A committed batch of feedback joins only, as the writer applies a feedback post.</summary>
    public static IngestBatch Joined(params FeedbackJoin[] joins)
    {
        var batch = new IngestBatch();
        batch.JoinedFeedback.AddRange(joins);
        return batch;
    }
}

/// <summary>Builds the analytics parts without a host.</summary>
public static class Analytics
{
    internal static RollingWindows Windows(TimeProvider clock, AnalyticsOptions? options = null, ThresholdOptions? thresholds = null) =>
        new(Options.Create(options ?? new AnalyticsOptions()), Options.Create(thresholds ?? new ThresholdOptions()), clock);
}

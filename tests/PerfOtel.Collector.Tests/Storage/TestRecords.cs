using System.Security.Cryptography;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Tests.Storage;

/// <summary>Records with every field set, at millisecond times (both stores keep microseconds).</summary>
internal static class TestRecords
{
    public static readonly DateTimeOffset Start = new(2026, 3, 14, 9, 26, 53, 589, TimeSpan.Zero);

    public static string TraceId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public static string SpanId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    public static AgentInvocation Invocation(string? traceId = null, string? spanId = null, string? taskId = null,
        DateTimeOffset? start = null, string tenant = "default", string agent = "planner") => new()
    {
        Tenant = tenant,
        TraceId = traceId ?? TraceId(),
        SpanId = spanId ?? SpanId(),
        ParentSpanId = SpanId(),
        ServiceName = "fleet",
        AgentName = agent,
        AgentId = "agent-7",
        AgentType = "react",
        TaskId = taskId,
        TaskType = "refund",
        JobId = "job-1",
        ConversationId = "conv-9",
        Experiment = "prompt-v2",
        Variant = "B",
        StartTime = start ?? Start,
        DurationSeconds = 1.25,
        Outcome = "partial",
        ErrorType = "timeout",
        Confidence = 0.8,
        Quality = 0.6,
        Tokens = new TokenCounts(10, 20, 3, 4, 5),
        CostUsd = 0.5,
        AttributesJson = """{"region":"eu"}""",
    };

    public static ProviderCall ProviderCall(string traceId, string? parentSpanId, string? invocationSpanId,
        TokenCounts tokens, double? cost, long unpriced = 0, DateTimeOffset? start = null) => new()
    {
        Tenant = "default",
        TraceId = traceId,
        SpanId = SpanId(),
        ParentSpanId = parentSpanId,
        InvocationSpanId = invocationSpanId,
        AgentName = "planner",
        Operation = GenAiOperations.Chat,
        Provider = "openai",
        RequestModel = "gpt-4o",
        ResponseModel = "gpt-4o-2024-08-06",
        StartTime = start ?? Start.AddMilliseconds(5),
        DurationSeconds = 0.75,
        Tokens = tokens,
        CostUsd = cost,
        UnpricedTokens = unpriced,
        Attempt = 2,
        FallbackFrom = "claude-3",
        FallbackReason = "rate_limited",
        ErrorType = null,
    };

    public static ToolCall ToolCall(string traceId, DateTimeOffset? start = null) => new()
    {
        Tenant = "default",
        TraceId = traceId,
        SpanId = SpanId(),
        ParentSpanId = SpanId(),
        InvocationSpanId = SpanId(),
        AgentName = "planner",
        ToolName = "lookup_order",
        ToolCallId = "call_1",
        StartTime = start ?? Start.AddMilliseconds(7),
        DurationSeconds = 0.1,
        ErrorType = "not_found",
    };

    public static EvaluationRecord Evaluation(string traceId, string spanId, int sequence = 0, DateTimeOffset? time = null) => new()
    {
        Tenant = "default",
        TraceId = traceId,
        SpanId = spanId,
        Sequence = sequence,
        AgentName = "planner",
        Name = "relevance",
        Score = 0.9,
        Label = "relevant",
        Time = time ?? Start.AddMilliseconds(9),
    };

    public static FeedbackRecord Feedback(string? taskId = null, string? traceId = null, string? spanId = null,
        DateTimeOffset? receivedAt = null) => new()
    {
        Tenant = "default",
        FeedbackId = Guid.NewGuid().ToString("N"),
        TaskId = taskId,
        TraceId = traceId,
        SpanId = spanId,
        Success = true,
        Score = 0.75,
        PredictedJson = """{"amount":100}""",
        ActualJson = """{"amount":80}""",
        Accuracy = 0.875,
        ReceivedAt = receivedAt ?? Start.AddMinutes(1),
    };

    public static IngestBatch Batch(params object[] records)
    {
        var batch = new IngestBatch();
        foreach (var record in records)
        {
            switch (record)
            {
                case AgentInvocation i: batch.Invocations.Add(i); break;
                case ProviderCall p: batch.ProviderCalls.Add(p); break;
                case ToolCall t: batch.ToolCalls.Add(t); break;
                case EvaluationRecord e: batch.Evaluations.Add(e); break;
                default: throw new ArgumentException($"not a record: {record}");
            }
        }

        return batch;
    }
}

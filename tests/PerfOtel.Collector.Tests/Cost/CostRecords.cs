using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Tests.Cost;

/// <summary>Records as the OTLP receiver produces them, with only what a test cares about to fill in.</summary>
public static class CostRecords
{
    private static int nextSpan;

    public static string NewSpanId() => Interlocked.Increment(ref nextSpan).ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    public static ProviderCall Call(DateTimeOffset start, double? costUsd, string model = "gpt-4o", string provider = "openai",
        string tenant = "default", string? agent = "planner", string traceId = "0af7651916cd43dd8448eb211c80319c",
        string? invocationSpanId = null, long input = 100, long output = 50, long unpricedTokens = 0,
        double durationSeconds = 1.0, string? errorType = null) => new()
    {
        Tenant = tenant,
        TraceId = traceId,
        SpanId = NewSpanId(),
        InvocationSpanId = invocationSpanId,
        ParentSpanId = invocationSpanId,
        AgentName = agent,
        Operation = GenAiOperations.Chat,
        Provider = provider,
        RequestModel = model,
        StartTime = start,
        DurationSeconds = durationSeconds,
        Tokens = new TokenCounts(input, output, 0, 0, 0),
        CostUsd = costUsd,
        UnpricedTokens = unpricedTokens,
        ErrorType = errorType,
    };

    public static AgentInvocation Invocation(DateTimeOffset start, string outcome = Outcomes.Success, string tenant = "default",
        string agent = "planner", string traceId = "0af7651916cd43dd8448eb211c80319c", string? spanId = null,
        string? experiment = null, string? variant = null, double durationSeconds = 2.0, double? quality = null,
        double? costUsd = null) => new()
    {
        Tenant = tenant,
        TraceId = traceId,
        SpanId = spanId ?? NewSpanId(),
        AgentName = agent,
        StartTime = start,
        DurationSeconds = durationSeconds,
        Outcome = outcome,
        Experiment = experiment,
        Variant = variant,
        Quality = quality,
        CostUsd = costUsd,
    };

    public static FeedbackRecord Feedback(AgentInvocation invocation, double accuracy, DateTimeOffset at) => new()
    {
        Tenant = invocation.Tenant,
        FeedbackId = NewSpanId(),
        TraceId = invocation.TraceId,
        SpanId = invocation.SpanId,
        Accuracy = accuracy,
        ReceivedAt = at,
    };

    public static IngestBatch Batch(params object[] records)
    {
        var batch = new IngestBatch();
        foreach (var record in records)
        {
            switch (record)
            {
                case ProviderCall call: batch.ProviderCalls.Add(call); break;
                case AgentInvocation invocation: batch.Invocations.Add(invocation); break;
                case EvaluationRecord evaluation: batch.Evaluations.Add(evaluation); break;
                case FeedbackJoin join: batch.JoinedFeedback.Add(join); break;
                default: throw new ArgumentException($"Not a record: {record}");
            }
        }
        return batch;
    }
}

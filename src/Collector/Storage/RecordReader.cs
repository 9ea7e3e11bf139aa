using System.Data.Common;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Storage;

/// <summary>
/// Builds records from rows whose columns follow the shared column order (see the providers' column lists). Both
/// providers read through it; they differ only in how a timestamp is stored, hence the time reader.
/// </summary>
internal static class RecordReader
{
    public static AgentInvocation Invocation(DbDataReader r, int o, Func<DbDataReader, int, DateTimeOffset> time) => new()
    {
        Tenant = r.GetString(o),
        TraceId = r.GetString(o + 1),
        SpanId = r.GetString(o + 2),
        ParentSpanId = Text(r, o + 3),
        ServiceName = Text(r, o + 4),
        AgentName = r.GetString(o + 5),
        AgentId = Text(r, o + 6),
        AgentType = Text(r, o + 7),
        TaskId = Text(r, o + 8),
        TaskType = Text(r, o + 9),
        JobId = Text(r, o + 10),
        ConversationId = Text(r, o + 11),
        Experiment = Text(r, o + 12),
        Variant = Text(r, o + 13),
        StartTime = time(r, o + 14),
        DurationSeconds = r.GetDouble(o + 15),
        Outcome = r.GetString(o + 16),
        ErrorType = Text(r, o + 17),
        Confidence = Real(r, o + 18),
        Quality = Real(r, o + 19),
        Tokens = Tokens(r, o + 20),
        CostUsd = Real(r, o + 25),
        AttributesJson = Text(r, o + 26),
        SampleWeight = r.GetDouble(o + 27),
    };

    public static ProviderCall ProviderCall(DbDataReader r, int o, Func<DbDataReader, int, DateTimeOffset> time) => new()
    {
        Tenant = r.GetString(o),
        TraceId = r.GetString(o + 1),
        SpanId = r.GetString(o + 2),
        ParentSpanId = Text(r, o + 3),
        InvocationSpanId = Text(r, o + 4),
        AgentName = Text(r, o + 5),
        Operation = r.GetString(o + 6),
        Provider = r.GetString(o + 7),
        RequestModel = Text(r, o + 8),
        ResponseModel = Text(r, o + 9),
        StartTime = time(r, o + 10),
        DurationSeconds = r.GetDouble(o + 11),
        Tokens = Tokens(r, o + 12),
        CostUsd = Real(r, o + 17),
        UnpricedTokens = r.GetInt64(o + 18),
        Attempt = r.GetInt32(o + 19),
        FallbackFrom = Text(r, o + 20),
        FallbackReason = Text(r, o + 21),
        ErrorType = Text(r, o + 22),
        SampleWeight = r.GetDouble(o + 23),
    };

    public static ToolCall ToolCall(DbDataReader r, int o, Func<DbDataReader, int, DateTimeOffset> time) => new()
    {
        Tenant = r.GetString(o),
        TraceId = r.GetString(o + 1),
        SpanId = r.GetString(o + 2),
        ParentSpanId = Text(r, o + 3),
        InvocationSpanId = Text(r, o + 4),
        AgentName = Text(r, o + 5),
        ToolName = r.GetString(o + 6),
        ToolCallId = Text(r, o + 7),
        StartTime = time(r, o + 8),
        DurationSeconds = r.GetDouble(o + 9),
        ErrorType = Text(r, o + 10),
        SampleWeight = r.GetDouble(o + 11),
    };

    public static EvaluationRecord Evaluation(DbDataReader r, int o, Func<DbDataReader, int, DateTimeOffset> time) => new()
    {
        Tenant = r.GetString(o),
        TraceId = r.GetString(o + 1),
        SpanId = r.GetString(o + 2),
        Sequence = r.GetInt32(o + 3),
        AgentName = Text(r, o + 4),
        Name = r.GetString(o + 5),
        Score = Real(r, o + 6),
        Label = Text(r, o + 7),
        Time = time(r, o + 8),
        SampleWeight = r.GetDouble(o + 9),
    };

    public static FeedbackRecord Feedback(DbDataReader r, int o, Func<DbDataReader, int, DateTimeOffset> time) => new()
    {
        Tenant = r.GetString(o),
        FeedbackId = r.GetString(o + 1),
        TaskId = Text(r, o + 2),
        TraceId = Text(r, o + 3),
        SpanId = Text(r, o + 4),
        Success = r.IsDBNull(o + 5) ? null : r.GetBoolean(o + 5),
        Score = Real(r, o + 6),
        PredictedJson = Text(r, o + 7),
        ActualJson = Text(r, o + 8),
        Accuracy = Real(r, o + 9),
        ReceivedAt = time(r, o + 10),
    };

    /// <summary>
    /// An invocation's totals from its child provider calls. With no child calls it keeps the figures on its own span
    /// (agents that report usage only there); with children, the children are the truth, since adding a span total
    /// would double-count them.
    /// </summary>
    public static StoredInvocation RollUp(AgentInvocation invocation, long childCalls, TokenCounts childTokens,
        double? childCost, long childUnpricedTokens, FeedbackRecord? feedback) =>
        childCalls == 0
            ? new StoredInvocation(invocation, invocation.Tokens, invocation.CostUsd, 0, feedback)
            : new StoredInvocation(invocation, childTokens, childCost, childUnpricedTokens, feedback);

    public static string? Text(DbDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : r.GetString(ordinal);

    public static double? Real(DbDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : r.GetDouble(ordinal);

    private static TokenCounts Tokens(DbDataReader r, int o) =>
        new(r.GetInt64(o), r.GetInt64(o + 1), r.GetInt64(o + 2), r.GetInt64(o + 3), r.GetInt64(o + 4));
}

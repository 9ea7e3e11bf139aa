namespace PerfOtel.Collector.Storage;

/// <summary>Column lists of both providers, in the order <see cref="RecordReader"/> reads them.</summary>
internal static class Columns
{
    public const string Invocation =
        "tenant, trace_id, span_id, parent_span_id, service_name, agent_name, agent_id, agent_type, task_id, task_type, " +
        "job_id, conversation_id, experiment, variant, start_time, duration_seconds, outcome, error_type, confidence, " +
        "quality, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, reasoning_tokens, cost_usd, " +
        "attributes_json, sample_weight";

    public const int InvocationCount = 28;

    public const string ProviderCallInsert =
        "tenant, trace_id, span_id, parent_span_id, invocation_span_id, owner_span_id, agent_name, operation, provider, " +
        "request_model, response_model, start_time, duration_seconds, input_tokens, output_tokens, cache_read_tokens, " +
        "cache_creation_tokens, reasoning_tokens, cost_usd, unpriced_tokens, attempt, fallback_from, fallback_reason, " +
        "error_type, sample_weight";

    public const string ProviderCall =
        "tenant, trace_id, span_id, parent_span_id, invocation_span_id, agent_name, operation, provider, " +
        "request_model, response_model, start_time, duration_seconds, input_tokens, output_tokens, cache_read_tokens, " +
        "cache_creation_tokens, reasoning_tokens, cost_usd, unpriced_tokens, attempt, fallback_from, fallback_reason, " +
        "error_type, sample_weight";

    public const string ToolCall =
        "tenant, trace_id, span_id, parent_span_id, invocation_span_id, agent_name, tool_name, tool_call_id, " +
        "start_time, duration_seconds, error_type, sample_weight";

    public const string Evaluation = "tenant, trace_id, span_id, sequence, agent_name, name, score, label, time, sample_weight";

    public const string FeedbackInsert =
        "tenant, feedback_id, task_id, trace_id, span_id, success, score, predicted_json, actual_json, accuracy, " +
        "received_at";

    public const string Feedback = FeedbackInsert;

    public const int FeedbackCount = 11;

    public static string Prefixed(string columns, string alias) =>
        string.Join(", ", columns.Split(", ").Select(column => $"{alias}.{column}"));
}

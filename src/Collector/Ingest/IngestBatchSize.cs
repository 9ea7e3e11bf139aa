using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Ingest;

/// <summary>
/// Rough managed-memory size of a batch, for the queue's byte bound. Counts a fixed overhead per record (object
/// header, fields, boxed times) and two bytes per character of the strings that vary in length.
/// </summary>
internal static class IngestBatchSize
{
    private const long PerRecordOverhead = 320;
    private const long PerStringOverhead = 24;

    public static long Estimate(IngestBatch batch)
    {
        long bytes = 64;
        foreach (var r in batch.Invocations)
        {
            bytes += PerRecordOverhead + Text(r.Tenant) + Text(r.AgentName) + Text(r.ServiceName) + Text(r.AgentId) + Text(r.AgentType)
                + Text(r.TaskId) + Text(r.TaskType) + Text(r.JobId) + Text(r.ConversationId) + Text(r.Experiment) + Text(r.Variant)
                + Text(r.ErrorType) + Text(r.AttributesJson) + Ids;
        }

        foreach (var r in batch.ProviderCalls)
        {
            bytes += PerRecordOverhead + Text(r.Tenant) + Text(r.AgentName) + Text(r.Operation) + Text(r.Provider) + Text(r.RequestModel)
                + Text(r.ResponseModel) + Text(r.FallbackFrom) + Text(r.FallbackReason) + Text(r.ErrorType) + Ids + Text(r.InvocationSpanId);
        }

        foreach (var r in batch.ToolCalls)
        {
            bytes += PerRecordOverhead + Text(r.Tenant) + Text(r.AgentName) + Text(r.ToolName) + Text(r.ToolCallId) + Text(r.ErrorType)
                + Ids + Text(r.InvocationSpanId);
        }

        foreach (var r in batch.Evaluations)
        {
            bytes += PerRecordOverhead + Text(r.Tenant) + Text(r.AgentName) + Text(r.Name) + Text(r.Label) + Ids;
        }

        // Span links are small and one per span: the record overhead would overstate them.
        foreach (var r in batch.SpanLinks)
        {
            bytes += 64 + Text(r.Tenant) + Text(r.InvocationAgent) + Ids;
        }

        foreach (var r in batch.Feedback)
        {
            bytes += PerRecordOverhead + Text(r.Tenant) + Text(r.FeedbackId) + Text(r.TaskId) + Text(r.PredictedJson)
                + Text(r.ActualJson) + Ids;
        }

        return bytes;
    }

    // Trace id, span id and parent span id as hex strings.
    private const long Ids = 3 * PerStringOverhead + 2 * (32 + 16 + 16);

    private static long Text(string? value) => value is null ? 0 : PerStringOverhead + 2L * value.Length;
}

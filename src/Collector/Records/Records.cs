namespace PerfOtel.Collector.Records;

// The records the collector derives from OTLP and keeps in its store. Identity of every span-derived record is
// (Tenant, TraceId, SpanId): ingest is idempotent on it, and the same ids sent by two tenants are two records. Ids are lowercase hex (32 and 16 characters).

/// <summary>One agent invocation (an <c>invoke_agent</c> span).</summary>
public sealed record AgentInvocation
{
    public required string Tenant { get; init; }
    public required string TraceId { get; init; }
    public required string SpanId { get; init; }
    public string? ParentSpanId { get; init; }
    public string? ServiceName { get; init; }
    public required string AgentName { get; init; }
    public string? AgentId { get; init; }
    public string? AgentType { get; init; }
    public string? TaskId { get; init; }
    public string? TaskType { get; init; }
    public string? JobId { get; init; }
    public string? ConversationId { get; init; }
    public string? Experiment { get; init; }
    public string? Variant { get; init; }
    public required DateTimeOffset StartTime { get; init; }
    public required double DurationSeconds { get; init; }
    /// <summary><c>success</c>, <c>failure</c> or <c>partial</c>.</summary>
    public required string Outcome { get; init; }
    public string? ErrorType { get; init; }
    public double? Confidence { get; init; }
    public double? Quality { get; init; }
    /// <summary>Token and cost totals as reported on the span itself (roll-ups of child calls are the store's job).</summary>
    public TokenCounts Tokens { get; init; }
    public double? CostUsd { get; init; }
    /// <summary>Allowlisted extra attributes as a JSON object, or null.</summary>
    public string? AttributesJson { get; init; }
    /// <summary>
    /// How many spans this one stands for: the adjusted count its sampler recorded (1 when the producer does not
    /// sample, or recorded nothing usable). Counts and totals derived from spans add this, not 1.
    /// </summary>
    public double SampleWeight { get; init; } = 1;
}

/// <summary>
/// How a record's <c>SampleWeight</c> (its adjusted count) enters counts and totals: rounded to a whole number, so
/// counts stay counts. For the 1-in-N rates samplers are configured with this is N exactly (the threshold's precision
/// puts the adjusted count within 0.01 % of N); a fractional one (probability 0.3, 3.33) counts 3. Capped at 2^20
/// (sampling rarer than about one in a million counts as one in 2^20); 0 (a zero adjusted count) adds nothing.
/// </summary>
public static class SampleWeights
{
    /// <summary>Largest count one record adds.</summary>
    public const long MaxCount = 1L << 20;

    /// <summary>The whole number of records one record with adjusted count <paramref name="weight"/> counts as.</summary>
    public static int Count(double weight) =>
        double.IsFinite(weight) && weight >= 0 ? (int)Math.Min(Math.Round(weight, MidpointRounding.AwayFromZero), MaxCount) : 1;
}

/// <summary>Token counts by type.</summary>
public readonly record struct TokenCounts(long Input, long Output, long CacheRead, long CacheCreation, long Reasoning)
{
    public long Total => Input + Output;

    /// <summary>Each count multiplied by <paramref name="factor"/> (a record's sampling count).</summary>
    public TokenCounts Times(long factor) =>
        new(Input * factor, Output * factor, CacheRead * factor, CacheCreation * factor, Reasoning * factor);

    public static TokenCounts operator +(TokenCounts a, TokenCounts b) =>
        new(a.Input + b.Input, a.Output + b.Output, a.CacheRead + b.CacheRead,
            a.CacheCreation + b.CacheCreation, a.Reasoning + b.Reasoning);
}

/// <summary>One call to a model provider (chat, text_completion, generate_content, embeddings span).</summary>
public sealed record ProviderCall
{
    public required string Tenant { get; init; }
    public required string TraceId { get; init; }
    public required string SpanId { get; init; }
    public string? ParentSpanId { get; init; }
    /// <summary>Span id of the enclosing invoke_agent span when the mapper could resolve it, else null.</summary>
    public string? InvocationSpanId { get; init; }
    /// <summary>Agent of the enclosing invocation, or null when made outside any agent invocation.</summary>
    public string? AgentName { get; init; }
    public required string Operation { get; init; }
    public required string Provider { get; init; }
    public string? RequestModel { get; init; }
    public string? ResponseModel { get; init; }
    public required DateTimeOffset StartTime { get; init; }
    public required double DurationSeconds { get; init; }
    public TokenCounts Tokens { get; init; }
    /// <summary>Cost in USD (from the span, else priced from the catalog); null when the model has no price.</summary>
    public double? CostUsd { get; init; }
    /// <summary>Tokens of a model without a price: never silently cost 0.</summary>
    public long UnpricedTokens { get; init; }
    public int Attempt { get; init; } = 1;
    public string? FallbackFrom { get; init; }
    public string? FallbackReason { get; init; }
    public string? ErrorType { get; init; }
    /// <summary>
    /// How many spans this one stands for: the adjusted count its sampler recorded (1 when the producer does not
    /// sample, or recorded nothing usable). Counts and totals derived from spans add this, not 1.
    /// </summary>
    public double SampleWeight { get; init; } = 1;
}

/// <summary>One tool execution (an <c>execute_tool</c> span).</summary>
public sealed record ToolCall
{
    public required string Tenant { get; init; }
    public required string TraceId { get; init; }
    public required string SpanId { get; init; }
    public string? ParentSpanId { get; init; }
    public string? InvocationSpanId { get; init; }
    public string? AgentName { get; init; }
    public required string ToolName { get; init; }
    public string? ToolCallId { get; init; }
    public required DateTimeOffset StartTime { get; init; }
    public required double DurationSeconds { get; init; }
    public string? ErrorType { get; init; }
    /// <summary>
    /// How many spans this one stands for: the adjusted count its sampler recorded (1 when the producer does not
    /// sample, or recorded nothing usable). Counts and totals derived from spans add this, not 1.
    /// </summary>
    public double SampleWeight { get; init; } = 1;
}

/// <summary>One evaluation result (a <c>gen_ai.evaluation.result</c> span event or log record).</summary>
public sealed record EvaluationRecord
{
    public required string Tenant { get; init; }
    /// <summary>Trace and span the evaluation refers to (the span carrying the event, or the log's context).</summary>
    public required string TraceId { get; init; }
    public required string SpanId { get; init; }
    /// <summary>Position of the event on its span, or a hash for log records: keeps re-sent data idempotent.</summary>
    public required int Sequence { get; init; }
    public string? AgentName { get; init; }
    public required string Name { get; init; }
    public double? Score { get; init; }
    public string? Label { get; init; }
    public required DateTimeOffset Time { get; init; }
    /// <summary>
    /// How many spans this one stands for: the adjusted count its sampler recorded (1 when the producer does not
    /// sample, or recorded nothing usable). Stored for completeness; scores are
    /// averaged over the evaluations received (docs/collector/otlp-ingest.md, Sampled traces).
    /// </summary>
    public double SampleWeight { get; init; } = 1;
}

/// <summary>An actual outcome posted for an earlier (or later) invocation.</summary>
public sealed record FeedbackRecord
{
    public required string Tenant { get; init; }
    public required string FeedbackId { get; init; }
    public string? TaskId { get; init; }
    public string? TraceId { get; init; }
    public string? SpanId { get; init; }
    public bool? Success { get; init; }
    public double? Score { get; init; }
    public string? PredictedJson { get; init; }
    public string? ActualJson { get; init; }
    /// <summary>Accuracy scored from predicted and actual by the shared scorer, when both were given.</summary>
    public double? Accuracy { get; init; }
    public required DateTimeOffset ReceivedAt { get; init; }
}

/// <summary>What one OTLP request (or one feedback post) produced: written to the store by the ingest writer.</summary>
public sealed class IngestBatch
{
    public List<AgentInvocation> Invocations { get; } = [];
    public List<ProviderCall> ProviderCalls { get; } = [];
    public List<ToolCall> ToolCalls { get; } = [];
    public List<EvaluationRecord> Evaluations { get; } = [];

    /// <summary>
    /// Filled by the store in the batch WriteAsync returns: feedback that was waiting for an invocation of this batch
    /// and got joined to it. Observers read it after the commit.
    /// </summary>
    public List<FeedbackJoin> JoinedFeedback { get; } = [];

    /// <summary>
    /// Feedback posted through the API, committed by the ingest writer after the spans of the same write (so it goes the
    /// same way as traces: one writer, then the derivations). Not part of <see cref="Count"/>; the store's span write
    /// ignores it.
    /// </summary>
    public List<FeedbackRecord> Feedback { get; } = [];

    /// <summary>
    /// The parent link of every span of the request (GenAI or not, roots included), stamped with the time the writer
    /// saw it: what attribution follows across requests (docs/architecture.md, "Attribution"). Stored in the same
    /// transaction as the records; not part of <see cref="Count"/>.
    /// </summary>
    public List<SpanLink> SpanLinks { get; } = [];

    /// <summary>
    /// Records stored by earlier batches whose nearest invoke_agent ancestor this batch made known: the store updates
    /// their agent and invocation in the same transaction. Filled by the ingest writer.
    /// </summary>
    public List<AttributionUpdate> Attributions { get; } = [];

    /// <summary>
    /// Spans whose records waited a whole attribution horizon and were counted without an agent: the store marks their
    /// links expired in the same transaction, so that whoever derives from the store later (a restarted collector, a
    /// new derivation leader) counts them the same way, even if their ancestor has arrived since.
    /// </summary>
    public List<ExpiredSpan> ExpiredSpans { get; } = [];

    /// <summary>When set, the store deletes the span links seen before this time in the same transaction.</summary>
    public DateTimeOffset? PruneSpanLinksBefore { get; set; }

    /// <summary>
    /// Set by a shared store (<see cref="ISharedStore"/>) on the batch <c>WriteAsync</c> returns: the commit positions of
    /// the transactions that stored it (one, or one per part when PostgreSQL writes a large batch on several connections),
    /// so that the derivation leader does not read its own commits back from the store. Empty on a store that one
    /// process owns (SQLite).
    /// </summary>
    public IReadOnlyList<long> CommitPositions { get; set; } = [];

    /// <summary>Span-derived records (feedback excluded).</summary>
    public int Count => Invocations.Count + ProviderCalls.Count + ToolCalls.Count + Evaluations.Count;

    /// <summary>Whether the batch asks the store to write anything (records, links, attribution updates, a prune).</summary>
    public bool HasWork => Count > 0 || SpanLinks.Count > 0 || Attributions.Count > 0 || ExpiredSpans.Count > 0
        || PruneSpanLinksBefore is not null;
}

/// <summary>
/// One span's place in its trace: its parent, and its agent when it is an <c>invoke_agent</c> span. Identity
/// (Tenant, TraceId, SpanId), like the records.
/// </summary>
public sealed record SpanLink
{
    public required string Tenant { get; init; }
    public required string TraceId { get; init; }
    public required string SpanId { get; init; }
    public string? ParentSpanId { get; init; }
    /// <summary>The agent when the span is an invoke_agent span, else null.</summary>
    public string? InvocationAgent { get; init; }
    /// <summary>When the ingest writer first saw the span (the collector's clock): the horizon counts from here.</summary>
    public DateTimeOffset SeenAt { get; init; }
    /// <summary>Whether the span's records were counted without an agent because their horizon passed (stored decision).</summary>
    public bool Expired { get; init; }
}

/// <summary>
/// A span whose records were released without an agent at the end of their attribution horizon; <paramref name="SeenAt"/>
/// is when its link was first seen, so the stored decision goes with the link when old links are pruned.
/// </summary>
public sealed record ExpiredSpan(string Tenant, string TraceId, string SpanId, DateTimeOffset SeenAt);

/// <summary>The agent and invocation a stored record (provider call, tool call, evaluations of a span) turned out to have.</summary>
public sealed record AttributionUpdate(string Tenant, string TraceId, string SpanId, string InvocationSpanId, string AgentName);

/// <summary>Feedback joined to its invocation.</summary>
public sealed record FeedbackJoin(AgentInvocation Invocation, FeedbackRecord Feedback);

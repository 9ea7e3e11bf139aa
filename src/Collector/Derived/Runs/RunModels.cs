using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Runs;

/// <summary>One warning on a run: its name (see <see cref="RunWarnings"/>), why, and the figures compared.</summary>
public sealed record RunWarning(string Name, string Message, double? Value, double? Threshold);

/// <summary>One invocation as the run list and the run pages show it.</summary>
public sealed record RunSummary
{
    public required string Tenant { get; init; }
    public required string TraceId { get; init; }
    public required string SpanId { get; init; }
    public string? ParentSpanId { get; init; }
    public required string Agent { get; init; }
    public string? AgentType { get; init; }
    public string? ServiceName { get; init; }
    public string? TaskId { get; init; }
    public string? TaskType { get; init; }
    public string? JobId { get; init; }
    public string? ConversationId { get; init; }
    public string? Experiment { get; init; }
    public string? Variant { get; init; }
    public required DateTimeOffset StartTime { get; init; }
    public required double DurationSeconds { get; init; }
    public required string Outcome { get; init; }
    public string? ErrorType { get; init; }
    public double? Confidence { get; init; }
    public double? Quality { get; init; }
    /// <summary>Tokens of the run: its own provider calls' sum, else the figures on its span.</summary>
    public required TokenCounts Tokens { get; init; }
    public long TotalTokens => Tokens.Total;
    /// <summary>Cost of the run (same roll-up as the tokens); null when unknown.</summary>
    public double? CostUsd { get; init; }
    /// <summary>Tokens of calls to models without a price (their cost is missing from <see cref="CostUsd"/>).</summary>
    public long UnpricedTokens { get; init; }
    public long ProviderCalls { get; init; }
    /// <summary>Provider calls with an attempt number above 1.</summary>
    public long Retries { get; init; }
    /// <summary>Provider calls that were a fallback from another model.</summary>
    public long Fallbacks { get; init; }
    /// <summary>Accuracy from the run's feedback (accuracy, else score, else success as 1 or 0); null without one.</summary>
    public double? Accuracy { get; init; }
    public required IReadOnlyList<RunWarning> Warnings { get; init; }
}

/// <summary>One step of a run: a provider call, a tool call or a nested agent invocation.</summary>
public sealed record RunStep
{
    public const string ProviderCallKind = "provider_call";
    public const string ToolCallKind = "tool_call";
    public const string AgentInvocationKind = "agent_invocation";

    /// <summary><c>provider_call</c>, <c>tool_call</c> or <c>agent_invocation</c>.</summary>
    public required string Kind { get; init; }
    /// <summary>The GenAI operation: <c>chat</c>, <c>embeddings</c>, ..., <c>execute_tool</c>, <c>invoke_agent</c>.</summary>
    public required string Operation { get; init; }
    /// <summary>Tool name, agent name, or the provider call's model (request model, else response model).</summary>
    public required string Name { get; init; }
    public required string SpanId { get; init; }
    public string? ParentSpanId { get; init; }
    public required DateTimeOffset StartTime { get; init; }
    /// <summary>Seconds from the start of the run to the start of the step.</summary>
    public required double OffsetSeconds { get; init; }
    public required double DurationSeconds { get; init; }
    public string? Provider { get; init; }
    public string? RequestModel { get; init; }
    public string? ResponseModel { get; init; }
    public int? Attempt { get; init; }
    public string? FallbackFrom { get; init; }
    public string? FallbackReason { get; init; }
    public TokenCounts? Tokens { get; init; }
    public double? CostUsd { get; init; }
    public long? UnpricedTokens { get; init; }
    public string? ToolCallId { get; init; }
    /// <summary>Outcome of a nested agent invocation.</summary>
    public string? Outcome { get; init; }
    public string? ErrorType { get; init; }
    /// <summary>The error class of a failed step (see <see cref="ErrorClasses"/>); null when the step did not fail.</summary>
    public string? ErrorClass { get; init; }
}

/// <summary>Shares of a run's wall time: in provider calls, in tools (outside provider calls), and elsewhere.</summary>
public sealed record TimeShares(
    double ProviderSeconds, double ToolSeconds, double ElsewhereSeconds,
    double? ProviderShare, double? ToolShare, double? ElsewhereShare);

/// <summary>An evaluation of the run.</summary>
public sealed record RunEvaluation(string Name, double? Score, string? Label, DateTimeOffset Time);

/// <summary>The feedback joined to the run.</summary>
public sealed record RunFeedback(
    string FeedbackId, string? TaskId, bool? Success, double? Score, double? Accuracy, string? PredictedJson,
    string? ActualJson, DateTimeOffset ReceivedAt);

/// <summary>Everything known of one run.</summary>
public sealed record RunDetail
{
    public required RunSummary Run { get; init; }
    /// <summary>Span id of the agent invocation this one is nested in, when it is stored.</summary>
    public string? ParentInvocationSpanId { get; init; }
    public required IReadOnlyList<RunStep> Steps { get; init; }
    public int StepCount => Steps.Count;
    /// <summary>Steps that failed: provider and tool calls with an error.type, nested invocations that failed.</summary>
    public required int ErrorCount { get; init; }
    public double? TimeToFirstStepSeconds { get; init; }
    public required TimeShares TimeShares { get; init; }
    public required IReadOnlyList<string> ErrorClasses { get; init; }
    public required IReadOnlyList<RunEvaluation> Evaluations { get; init; }
    public RunFeedback? Feedback { get; init; }
}

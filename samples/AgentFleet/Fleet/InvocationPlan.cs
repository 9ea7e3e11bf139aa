using System.Text.Json.Nodes;
using PerfOtel.Instrumentation;
using PerfOtel.Instrumentation.Pricing;

namespace AgentFleet.Fleet;

/// <summary>One provider attempt of an invocation, decided in advance.</summary>
public sealed record AttemptPlan(ModelRoute Route, int Attempt, string? FallbackFrom, string? FailureType, double LatencySeconds, TokenUsage Usage);

/// <summary>One tool execution, decided in advance.</summary>
public sealed record ToolPlan(string Name, double LatencySeconds, string? FailureType);

/// <summary>
/// Everything random about one invocation, drawn up front from a generator seeded by (fleet seed, invocation index):
/// the same seed gives the same fleet whatever the timing and concurrency.
/// </summary>
public sealed record InvocationPlan
{
    public required AgentProfile Agent { get; init; }

    public required int Index { get; init; }

    public required string TaskId { get; init; }

    public required string TaskType { get; init; }

    public required IReadOnlyList<AttemptPlan> Attempts { get; init; }

    public required IReadOnlyList<ToolPlan> Tools { get; init; }

    public double? Confidence { get; init; }

    public required AgentOutcome Outcome { get; init; }

    public string? ErrorType { get; init; }

    public required JsonNode Predicted { get; init; }

    public required JsonNode Actual { get; init; }

    /// <summary>The experiment's variant of this task (none when its agent runs no experiment).</summary>
    public string? Variant { get; init; }

    public double? JudgeScore { get; init; }

    public double? Quality { get; init; }

    /// <summary>Whether the user sends feedback on this answer, and how long after the invocation (seconds).</summary>
    public double? FeedbackDelaySeconds { get; init; }

    public bool Succeeded => Outcome != AgentOutcome.Failure;
}

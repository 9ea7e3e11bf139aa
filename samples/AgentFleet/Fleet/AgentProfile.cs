namespace AgentFleet.Fleet;

/// <summary>How a simulated agent behaves. Probabilities are per invocation; latencies are log-normal medians in seconds.</summary>
public sealed record AgentProfile
{
    public required string Name { get; init; }

    public required string AgentType { get; init; }

    /// <summary>Relative share of the fleet's invocations.</summary>
    public required double Weight { get; init; }

    public required ModelRoute Primary { get; init; }

    /// <summary>Where the agent falls back when the primary fails twice; null: it gives up.</summary>
    public ModelRoute? Fallback { get; init; }

    /// <summary>Chance that one provider attempt fails (rate limits, timeouts).</summary>
    public double ProviderFailureRate { get; init; }

    public double ModelLatencyMedianSeconds { get; init; } = 0.4;

    public int InputTokensMedian { get; init; } = 800;

    public int OutputTokensMedian { get; init; } = 200;

    /// <summary>Share of input tokens served from the prompt cache.</summary>
    public double CachedInputShare { get; init; }

    /// <summary>Share of output tokens spent reasoning.</summary>
    public double ReasoningOutputShare { get; init; }

    /// <summary>Kinds of task the agent is given, in turn (its specialization compares them); empty: one kind, named after its answers.</summary>
    public IReadOnlyList<string> TaskTypes { get; init; } = [];

    /// <summary>Tools called per invocation, in order.</summary>
    public IReadOnlyList<string> Tools { get; init; } = [];

    public double ToolLatencyMedianSeconds { get; init; } = 0.08;

    /// <summary>Stated confidence for an invocation: calibrated agents state their real chance of success.</summary>
    public required ConfidenceModel Confidence { get; init; }

    /// <summary>Chance that a successful answer is only partly done.</summary>
    public double PartialRate { get; init; }

    /// <summary>What the agent's answers look like, for accuracy feedback.</summary>
    public required AnswerKind Answers { get; init; }

    /// <summary>A judge's named evaluation recorded on each invocation, if any.</summary>
    public string? JudgeName { get; init; }

    /// <summary>An experiment on part of this agent's traffic, or none.</summary>
    public FleetExperiment? Experiment { get; init; }
}

/// <summary>How stated confidence relates to the real chance of success.</summary>
public enum ConfidenceModel
{
    /// <summary>Confidence drawn from [0.95, 0.999]; success happens with exactly that probability.</summary>
    Calibrated,

    /// <summary>Confidence drawn from [0.85, 0.99]; success happens 60 % of the time.</summary>
    Overconfident,

    /// <summary>States no confidence; succeeds 98 % of the time.</summary>
    Silent,
}

/// <summary>The shape of an agent's answers: a category label, a number (a forecast), or a structured object.</summary>
public enum AnswerKind
{
    Label,
    Number,
    Structured,
}

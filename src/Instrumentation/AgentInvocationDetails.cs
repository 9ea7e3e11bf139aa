namespace PerfOtel.Instrumentation;

/// <summary>
/// What is known about an agent invocation when it starts. All optional. Tenant and agent type also label the metrics;
/// the identifiers go on the span only (they would make metrics unbounded).
/// </summary>
public readonly record struct AgentInvocationDetails
{
    /// <summary><c>gen_ai.agent.id</c>: the unique id of the agent.</summary>
    public string? AgentId { get; init; }

    /// <summary><c>perfotel.agent.type</c>: a kind of agent (e.g. <c>planner</c>, <c>support</c>); labels metrics.</summary>
    public string? AgentType { get; init; }

    /// <summary><c>perfotel.tenant</c>; labels metrics. Default: the configured default tenant.</summary>
    public string? Tenant { get; init; }

    /// <summary><c>perfotel.task.id</c>: the task this invocation works on; feedback joins on it.</summary>
    public string? TaskId { get; init; }

    /// <summary><c>perfotel.task.type</c>.</summary>
    public string? TaskType { get; init; }

    /// <summary><c>perfotel.job.id</c>.</summary>
    public string? JobId { get; init; }

    /// <summary><c>gen_ai.conversation.id</c>.</summary>
    public string? ConversationId { get; init; }

    /// <summary><c>perfotel.experiment</c>.</summary>
    public string? Experiment { get; init; }

    /// <summary><c>perfotel.variant</c>.</summary>
    public string? Variant { get; init; }
}

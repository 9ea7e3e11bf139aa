namespace PerfOtel.Instrumentation;

/// <summary>How an agent invocation ended (<c>perfotel.outcome</c>).</summary>
public enum AgentOutcome
{
    /// <summary>The agent did what it was asked: <c>success</c>.</summary>
    Success,

    /// <summary>The agent did not: <c>failure</c>. The span status is Error.</summary>
    Failure,

    /// <summary>The agent did part of it: <c>partial</c>.</summary>
    Partial,
}

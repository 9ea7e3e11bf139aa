using System.Diagnostics;
using System.Text.Json;
using PerfOtel.Instrumentation;

namespace AgentFleet.Fleet;

/// <summary>What an invocation left behind for feedback.</summary>
public sealed record InvocationResult(InvocationPlan Plan, ActivityTraceId? TraceId, ActivitySpanId? SpanId);

/// <summary>Plays one invocation plan through the PerfOtel recording API, and only through it.</summary>
public sealed class SimulatedAgent(string tenant, double latencyScale)
{
    public async Task<InvocationResult> RunAsync(InvocationPlan plan, CancellationToken cancellationToken)
    {
        var agent = plan.Agent;
        using var invocation = AgentTelemetry.StartInvocation(agent.Name, new AgentInvocationDetails
        {
            Tenant = tenant,
            AgentType = agent.AgentType,
            AgentId = agent.Name + "-v1",
            TaskId = plan.TaskId,
            TaskType = plan.TaskType,
            ConversationId = "conv-" + plan.TaskId,
            Experiment = plan.Variant is null ? null : agent.Experiment?.Name,
            Variant = plan.Variant,
        });

        foreach (var tool in plan.Tools)
        {
            using var execution = invocation.StartToolExecution(tool.Name, toolCallId: $"{plan.TaskId}-{tool.Name}", toolType: "function");
            await WaitAsync(tool.LatencySeconds, cancellationToken);
            if (tool.FailureType is not null)
            {
                execution.Fail(tool.FailureType);
            }
        }

        foreach (var attempt in plan.Attempts)
        {
            using var call = invocation.StartProviderCall(attempt.Route.Provider, attempt.Route.Model);
            call.SetAttempt(attempt.Attempt);
            if (attempt.FallbackFrom is not null)
            {
                call.SetFallback(attempt.FallbackFrom, "primary_unavailable");
            }
            await WaitAsync(attempt.LatencySeconds, cancellationToken);
            if (attempt.FailureType is not null)
            {
                call.Fail(attempt.FailureType);
                continue;
            }
            call.SetResponseModel(attempt.Route.ResponseModel)
                .SetResponse($"resp-{plan.TaskId}-{attempt.Attempt}", "stop")
                .SetUsage(attempt.Usage);
        }

        if (plan.Confidence is { } confidence)
        {
            invocation.SetConfidence(confidence);
        }
        // The simulation knows the truth, so the agent can score itself; real agents get it later through feedback.
        invocation.RecordAccuracy(ToElement(plan.Predicted), ToElement(plan.Actual));
        if (plan.JudgeScore is { } judged)
        {
            invocation.RecordEvaluation(agent.JudgeName!, judged);
        }
        if (plan.Quality is { } quality)
        {
            invocation.SetQuality(quality);
        }
        var span = invocation.Activity;
        invocation.Complete(plan.Outcome, plan.ErrorType);
        return new InvocationResult(plan, span?.TraceId, span?.SpanId);
    }

    private Task WaitAsync(double seconds, CancellationToken cancellationToken) =>
        Task.Delay(TimeSpan.FromSeconds(seconds * latencyScale), cancellationToken);

    private static JsonElement ToElement(System.Text.Json.Nodes.JsonNode node) =>
        JsonSerializer.SerializeToElement(node);
}

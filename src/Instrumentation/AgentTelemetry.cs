using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Instrumentation.Implementation;
using PerfOtel.Instrumentation.Pricing;

namespace PerfOtel.Instrumentation;

/// <summary>
/// The entry point of the recording API. Add the instrumentation to your providers with
/// <c>AddPerfOtelInstrumentation()</c>, then:
/// <code>
/// using var invocation = AgentTelemetry.StartInvocation("planner", new() { Tenant = "acme", TaskId = task.Id });
/// using (var call = invocation.StartProviderCall("openai", "gpt-4o"))
/// {
///     var reply = await client.CompleteAsync(...);
///     call.SetResponseModel(reply.Model).SetUsage(reply.Usage.InputTokens, reply.Usage.OutputTokens);
/// }
/// invocation.SetConfidence(0.8);
/// invocation.Succeed();
/// </code>
/// When nothing listens (no MeterProvider or TracerProvider with the instrumentation), every call returns a shared
/// inert scope and costs a few nanoseconds.
/// </summary>
public static class AgentTelemetry
{
    /// <summary>The name of the Meter and the ActivitySource: <c>PerfOtel.Agents</c>.</summary>
    public const string SourceName = MetricCatalog.SourceName;

    /// <summary>Starts an agent invocation; it becomes <see cref="AgentInvocation.Current"/> on this async flow.</summary>
    /// <param name="agentName"><c>gen_ai.agent.name</c>; empty names are recorded as <c>unknown</c>.</param>
    /// <param name="details">Optional identifiers and labels of the invocation.</param>
    public static AgentInvocation StartInvocation(string agentName, in AgentInvocationDetails details = default) =>
        AgentInvocation.Start(agentName, details);

    /// <summary>
    /// Runs <paramref name="body"/> as an agent invocation: success when it returns, failure (with the exception's
    /// type as <c>error.type</c>) when it throws, unless <paramref name="body"/> completed the invocation itself.
    /// The exception is rethrown.
    /// </summary>
    public static async Task<T> InvokeAsync<T>(string agentName, Func<AgentInvocation, Task<T>> body, AgentInvocationDetails details = default)
    {
        ArgumentNullException.ThrowIfNull(body);
        using var invocation = StartInvocation(agentName, details);
        try
        {
            var result = await body(invocation).ConfigureAwait(false);
            if (!invocation.IsEnded)
            {
                invocation.Succeed();
            }
            return result;
        }
        catch (Exception e) when (Fail(invocation, e))
        {
            throw;
        }
    }

    /// <summary>
    /// Starts a call to a model, attributed to <paramref name="invocation"/> or, when null, to
    /// <see cref="AgentInvocation.Current"/> (none outside any invocation).
    /// </summary>
    public static ProviderCall StartProviderCall(string providerName, string requestModel, string operation = GenAiOperations.Chat, AgentInvocation? invocation = null)
    {
        invocation ??= AgentInvocation.Current;
        if (invocation is not null)
        {
            return invocation.StartProviderCall(providerName, requestModel, operation);
        }
        return AgentInstruments.AnyListener ? new ProviderCall(null, providerName, requestModel, operation) : ProviderCall.Disabled;
    }

    /// <summary>
    /// Starts a tool execution, attributed to <paramref name="invocation"/> or, when null, to
    /// <see cref="AgentInvocation.Current"/> (none outside any invocation).
    /// </summary>
    public static ToolExecution StartToolExecution(string toolName, string? toolCallId = null, string? toolType = null, AgentInvocation? invocation = null)
    {
        invocation ??= AgentInvocation.Current;
        if (invocation is not null)
        {
            return invocation.StartToolExecution(toolName, toolCallId, toolType);
        }
        return AgentInstruments.AnyListener ? new ToolExecution(null, toolName, toolCallId, toolType) : ToolExecution.Disabled;
    }

    /// <summary>
    /// Records a finished provider call's metrics (duration, tokens, cost or unpriced tokens, retry, fallback) without
    /// a span and without allocating, attributed to <paramref name="invocation"/> or <see cref="AgentInvocation.Current"/>.
    /// </summary>
    /// <returns>The cost in USD, or null when the model has no price.</returns>
    public static double? RecordProviderCall(in ProviderCallRecord call, AgentInvocation? invocation = null)
    {
        try
        {
            invocation ??= AgentInvocation.Current;
            return IsClean(call)
                ? ProviderCallRecorder.Record(call, invocation)
                : ProviderCallRecorder.Record(Sanitize(call), invocation);
        }
        catch (Exception e)
        {
            InstrumentationEventSource.Log.RecordingFailed(nameof(RecordProviderCall), e);
            return null;
        }
    }

    // The common case needs no copy: everything is already in range.
    private static bool IsClean(in ProviderCallRecord call) =>
        !string.IsNullOrWhiteSpace(call.ProviderName) && call.ProviderName.Length <= InputGuard.MaxNameLength
        && !string.IsNullOrWhiteSpace(call.RequestModel) && call.RequestModel.Length <= InputGuard.MaxNameLength
        && !string.IsNullOrWhiteSpace(call.Operation) && call.Operation.Length <= InputGuard.MaxNameLength
        && (call.ResponseModel is null || (!string.IsNullOrWhiteSpace(call.ResponseModel) && call.ResponseModel.Length <= InputGuard.MaxNameLength))
        && call.Attempt >= 1
        && (call.CostUsd is not { } cost || (double.IsFinite(cost) && cost >= 0))
        && (call.Usage is not { } usage || (usage.InputTokens >= 0 && usage.OutputTokens >= 0 && usage.CacheReadInputTokens >= 0
            && usage.CacheCreationInputTokens >= 0 && usage.ReasoningOutputTokens >= 0));

    private static ProviderCallRecord Sanitize(in ProviderCallRecord call)
    {
        var clean = call with
        {
            ProviderName = InputGuard.Name(call.ProviderName, GenAiAttributes.ProviderName),
            RequestModel = InputGuard.Name(call.RequestModel, GenAiAttributes.RequestModel),
            Operation = InputGuard.Name(call.Operation, GenAiAttributes.OperationName),
            ResponseModel = InputGuard.OptionalName(call.ResponseModel),
            Attempt = Math.Max(1, call.Attempt),
            CostUsd = call.CostUsd is { } cost ? InputGuard.Cost(cost, PerfOtelAttributes.CostUsd) : null,
        };
        if (call.Usage is { } usage && (usage.InputTokens < 0 || usage.OutputTokens < 0 || usage.CacheReadInputTokens < 0
            || usage.CacheCreationInputTokens < 0 || usage.ReasoningOutputTokens < 0))
        {
            clean = clean with
            {
                Usage = new TokenUsage(
                    InputGuard.TokenCount(usage.InputTokens, GenAiAttributes.UsageInputTokens),
                    InputGuard.TokenCount(usage.OutputTokens, GenAiAttributes.UsageOutputTokens),
                    InputGuard.TokenCount(usage.CacheReadInputTokens, GenAiAttributes.UsageCacheReadInputTokens),
                    InputGuard.TokenCount(usage.CacheCreationInputTokens, GenAiAttributes.UsageCacheCreationInputTokens),
                    InputGuard.TokenCount(usage.ReasoningOutputTokens, GenAiAttributes.UsageReasoningOutputTokens)),
            };
        }
        return clean;
    }

    private static bool Fail(AgentInvocation invocation, Exception exception)
    {
        if (!invocation.IsEnded)
        {
            invocation.Fail(exception);
        }
        return false;
    }
}

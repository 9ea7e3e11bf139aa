using System.Diagnostics;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Instrumentation.Pricing;

namespace PerfOtel.Instrumentation.Implementation;

/// <summary>
/// The metrics path of a provider call, shared by <see cref="ProviderCall"/>, <see cref="AgentTelemetry.RecordProviderCall"/>,
/// the chat-client wrapper and the attribution of other libraries' spans. Allocation-free: tags live in
/// <see cref="TagList"/> (inline up to eight) and prices come from the catalog's lookup cache.
/// </summary>
internal static class ProviderCallRecorder
{
    private const string InputTokenType = "input";
    private const string OutputTokenType = "output";

    /// <summary>Records the call's metrics and adds its tokens and cost to the invocation.</summary>
    /// <returns>The cost in USD, or null when the model has no price (its tokens then count as unpriced).</returns>
    public static double? Record(in ProviderCallRecord call, AgentInvocation? invocation)
    {
        var tenant = invocation?.Tenant ?? InstrumentationSettings.Current.DefaultTenant;
        var agentName = invocation?.AgentName;

        var tags = new TagList
        {
            { GenAiAttributes.OperationName, call.Operation },
            { GenAiAttributes.ProviderName, call.ProviderName },
            { GenAiAttributes.RequestModel, call.RequestModel },
            { PerfOtelAttributes.Tenant, tenant },
        };
        if (call.ResponseModel is not null)
        {
            tags.Add(GenAiAttributes.ResponseModel, call.ResponseModel);
        }
        if (agentName is not null)
        {
            tags.Add(GenAiAttributes.AgentName, agentName);
        }

        if (AgentInstruments.OperationDuration.Enabled)
        {
            var durationTags = tags;
            if (call.ErrorType is not null)
            {
                durationTags.Add(GenAiAttributes.ErrorType, call.ErrorType);
            }
            var duration = double.IsFinite(call.DurationSeconds) && call.DurationSeconds >= 0 ? call.DurationSeconds : 0;
            AgentInstruments.OperationDuration.Record(duration, durationTags);
        }

        double? cost = null;
        long input = 0, output = 0;
        if (call.Usage is { } usage)
        {
            input = Math.Max(0, usage.InputTokens);
            output = Math.Max(0, usage.OutputTokens);
            if (AgentInstruments.TokenUsage.Enabled)
            {
                var inputTags = tags;
                inputTags.Add(GenAiAttributes.TokenType, InputTokenType);
                AgentInstruments.TokenUsage.Record(input, inputTags);
                var outputTags = tags;
                outputTags.Add(GenAiAttributes.TokenType, OutputTokenType);
                AgentInstruments.TokenUsage.Record(output, outputTags);
            }
            cost = call.CostUsd ?? Price(call, usage);
            if (cost is { } priced)
            {
                AgentInstruments.AgentCost.Add(priced, AgentModelTags(invocation, tenant, call));
            }
            else if (AgentInstruments.UnpricedTokens.Enabled)
            {
                var unpricedTags = AgentModelTags(invocation, tenant, call, withAgentType: false);
                var inputTags = unpricedTags;
                inputTags.Add(GenAiAttributes.TokenType, InputTokenType);
                AgentInstruments.UnpricedTokens.Add(input, inputTags);
                var outputTags = unpricedTags;
                outputTags.Add(GenAiAttributes.TokenType, OutputTokenType);
                AgentInstruments.UnpricedTokens.Add(output, outputTags);
            }
        }
        else if (call.CostUsd is { } billed)
        {
            cost = billed;
            AgentInstruments.AgentCost.Add(billed, AgentModelTags(invocation, tenant, call));
        }

        if (call.Attempt > 1)
        {
            AgentInstruments.ProviderRetries.Add(1, AgentModelTags(invocation, tenant, call, withAgentType: false));
        }
        if (call.FallbackFrom is not null)
        {
            AgentInstruments.ProviderFallbacks.Add(1, AgentModelTags(invocation, tenant, call, withAgentType: false));
        }

        invocation?.AddUsage(input, output, cost);
        return cost;
    }

    /// <summary>The span attributes of a finished provider call (the sampling-relevant ones were set at its start).</summary>
    public static void SetSpanAttributes(Activity activity, in ProviderCallRecord call, double? cost)
    {
        AgentInvocation.SetIfPresent(activity, GenAiAttributes.ResponseModel, call.ResponseModel);
        if (call.Usage is { } usage)
        {
            activity.SetTag(GenAiAttributes.UsageInputTokens, usage.InputTokens);
            activity.SetTag(GenAiAttributes.UsageOutputTokens, usage.OutputTokens);
            if (usage.CacheReadInputTokens > 0)
            {
                activity.SetTag(GenAiAttributes.UsageCacheReadInputTokens, usage.CacheReadInputTokens);
            }
            if (usage.CacheCreationInputTokens > 0)
            {
                activity.SetTag(GenAiAttributes.UsageCacheCreationInputTokens, usage.CacheCreationInputTokens);
            }
            if (usage.ReasoningOutputTokens > 0)
            {
                activity.SetTag(GenAiAttributes.UsageReasoningOutputTokens, usage.ReasoningOutputTokens);
            }
        }
        if (cost is { } usd)
        {
            activity.SetTag(PerfOtelAttributes.CostUsd, usd);
        }
        activity.SetTag(PerfOtelAttributes.RetryAttempt, call.Attempt);
        AgentInvocation.SetIfPresent(activity, PerfOtelAttributes.FallbackFrom, call.FallbackFrom);
        AgentInvocation.SetIfPresent(activity, PerfOtelAttributes.FallbackReason, call.FallbackReason);
        AgentInvocation.SetIfPresent(activity, GenAiAttributes.ErrorType, call.ErrorType);
    }

    private static double? Price(in ProviderCallRecord call, TokenUsage usage)
    {
        var catalog = InstrumentationSettings.Current.Pricing;
        try
        {
            if ((call.ResponseModel is not null && catalog.TryComputeCost(call.ProviderName, call.ResponseModel, usage, out var cost))
                || catalog.TryComputeCost(call.ProviderName, call.RequestModel, usage, out cost))
            {
                return cost;
            }
        }
        catch (ArgumentOutOfRangeException e)
        {
            InstrumentationEventSource.Log.RecordingFailed(PerfOtelAttributes.CostUsd, e);
            return null;
        }
        InstrumentationEventSource.Log.ModelUnpriced(call.ProviderName, call.ResponseModel ?? call.RequestModel);
        return null;
    }

    private static TagList AgentModelTags(AgentInvocation? invocation, string tenant, in ProviderCallRecord call, bool withAgentType = true)
    {
        var tags = new TagList { { PerfOtelAttributes.Tenant, tenant } };
        if (invocation is not null)
        {
            tags.Add(GenAiAttributes.AgentName, invocation.AgentName);
            if (withAgentType && invocation.AgentType is not null)
            {
                tags.Add(PerfOtelAttributes.AgentType, invocation.AgentType);
            }
        }
        tags.Add(GenAiAttributes.ProviderName, call.ProviderName);
        tags.Add(GenAiAttributes.RequestModel, call.RequestModel);
        return tags;
    }
}

using System.Diagnostics;
using System.Globalization;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Instrumentation.Pricing;

namespace PerfOtel.Instrumentation.Implementation;

/// <summary>
/// Attributes GenAI client spans of other libraries (the OpenAI .NET SDK's <c>OpenAI.*</c> sources) to the agent
/// invocation they end in: their tokens, duration and cost are recorded on PerfOtel's metrics with that agent's labels.
/// </summary>
/// <remarks>
/// The listener asks for all data but never for recording, so it makes those libraries fill in their attributes
/// without forcing their spans into any exporter. A span that ends inside a PerfOtel provider call (an OpenAI client
/// wrapped by PerfOtel's chat client) is skipped: that call already counts the same tokens.
/// </remarks>
internal static class GenAiSpanAttribution
{
    private static readonly Lock StartLock = new();
    private static ActivityListener? listener;

    /// <summary>Whether spans of other libraries are being attributed now.</summary>
    public static bool IsActive => Volatile.Read(ref listener) is not null && InstrumentationSettings.Current.AttributeGenAiClientSpans;

    public static void EnsureListening()
    {
        lock (StartLock)
        {
            if (listener is not null)
            {
                return;
            }
            listener = new ActivityListener
            {
                ShouldListenTo = IsAttributedSource,
                Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
                ActivityStopped = OnStopped,
            };
            ActivitySource.AddActivityListener(listener);
        }
    }

    private static bool IsAttributedSource(ActivitySource source)
    {
        foreach (var prefix in InstrumentationSettings.Current.AttributedSourcePrefixes)
        {
            if (source.Name.StartsWith(prefix, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    private static void OnStopped(Activity activity)
    {
        try
        {
            if (!InstrumentationSettings.Current.AttributeGenAiClientSpans
                || ProviderCall.Current is not null
                || !IsAttributedSource(activity.Source))
            {
                return;
            }
            var operation = activity.GetTagItem(GenAiAttributes.OperationName) as string;
            if (!GenAiOperations.IsInference(operation))
            {
                return;
            }
            var provider = (activity.GetTagItem(GenAiAttributes.ProviderName) ?? activity.GetTagItem(GenAiAttributes.SystemDeprecated)) as string;
            var requestModel = activity.GetTagItem(GenAiAttributes.RequestModel) as string;
            var responseModel = activity.GetTagItem(GenAiAttributes.ResponseModel) as string;
            var input = ReadCount(activity, GenAiAttributes.UsageInputTokens, GenAiAttributes.UsagePromptTokensDeprecated);
            var output = ReadCount(activity, GenAiAttributes.UsageOutputTokens, GenAiAttributes.UsageCompletionTokensDeprecated);
            var errorType = activity.GetTagItem(GenAiAttributes.ErrorType) as string
                ?? (activity.Status == ActivityStatusCode.Error ? AgentInvocation.OtherErrorType : null);

            TokenUsage? usage = input is null && output is null
                ? null
                : new TokenUsage(
                    input ?? 0,
                    output ?? 0,
                    ReadCount(activity, GenAiAttributes.UsageCacheReadInputTokens) ?? 0,
                    ReadCount(activity, GenAiAttributes.UsageCacheCreationInputTokens) ?? 0,
                    ReadCount(activity, GenAiAttributes.UsageReasoningOutputTokens) ?? 0);

            var record = new ProviderCallRecord(
                InputGuard.Name(provider, GenAiAttributes.ProviderName),
                InputGuard.Name(requestModel ?? responseModel, GenAiAttributes.RequestModel),
                activity.Duration.TotalSeconds)
            {
                Operation = operation!,
                ResponseModel = InputGuard.OptionalName(responseModel),
                Usage = usage,
                ErrorType = errorType,
            };
            ProviderCallRecorder.Record(record, AgentInvocation.Current);
        }
        catch (Exception e)
        {
            InstrumentationEventSource.Log.AttributionFailed(activity.DisplayName, activity.Source.Name, e.Message);
        }
    }

    private static long? ReadCount(Activity activity, string key, string? deprecatedKey = null)
    {
        var value = activity.GetTagItem(key) ?? (deprecatedKey is null ? null : activity.GetTagItem(deprecatedKey));
        var count = value switch
        {
            null => (long?)null,
            int i => i,
            long l => l,
            double d => InputGuard.TokenCount(d, key),
            string s when long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => null,
        };
        if (count is < 0)
        {
            InstrumentationEventSource.Log.ValueClamped(key, count.Value, 0, long.MaxValue);
            return 0;
        }
        return count;
    }
}

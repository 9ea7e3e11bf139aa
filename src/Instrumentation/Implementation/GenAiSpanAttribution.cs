using System.Diagnostics;
using System.Globalization;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Instrumentation.Pricing;

namespace PerfOtel.Instrumentation.Implementation;

/// <summary>
/// Attributes GenAI client spans of other libraries (the OpenAI .NET SDK, Microsoft.Extensions.AI, Agent Framework,
/// Semantic Kernel: <see cref="InstrumentationSettings.AttributedSourcePrefixes"/>) to the agent invocation they end in:
/// their tokens, duration and cost are recorded on PerfOtel's metrics with that agent's labels.
/// </summary>
/// <remarks>
/// The listener asks for all data but never for recording, so it makes those libraries fill in their attributes
/// without forcing their spans into any exporter. One model call is often reported by several layers: Microsoft.Extensions.AI's
/// or Agent Framework's chat span around the OpenAI SDK's, Semantic Kernel's around the OpenAI SDK's, PerfOtel's chat
/// client around or inside any of them. The call is counted once (docs/collector/foreign-conventions.md, "One call per
/// model request"):
/// <list type="bullet">
/// <item>a PerfOtel provider call counts it: library spans that end inside it are skipped, and library spans around
/// it are marked counted when it ends;</item>
/// <item>otherwise a library span whose parent is a running attributed inference span hands its figures to that
/// parent instead of recording them; the outermost layer records once, with each figure taken from the innermost layer
/// that reported it (the OpenAI SDK's span has no cached-token count, Microsoft.Extensions.AI's has);</item>
/// <item>a layer around several calls (a retry loop under one span) records each inner call as it was reported.</item>
/// </list>
/// </remarks>
internal static class GenAiSpanAttribution
{
    private const string CountedProperty = "PerfOtel.Attribution.Counted";
    private const string InnerLayersProperty = "PerfOtel.Attribution.InnerLayers";

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

    /// <summary>
    /// A PerfOtel provider call ended inside <paramref name="enclosing"/>: the library layers around it that report the
    /// same model call must not count it again.
    /// </summary>
    public static void MarkLayersCounted(Activity? enclosing)
    {
        for (var current = enclosing; current is not null && IsRunningLayer(current); current = current.Parent)
        {
            current.SetCustomProperty(CountedProperty, true);
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

    private static bool IsRunningLayer(Activity activity) =>
        !activity.IsStopped && IsAttributedSource(activity.Source)
        && GenAiOperations.IsInference(activity.GetTagItem(GenAiAttributes.OperationName) as string);

    private static void OnStopped(Activity activity)
    {
        try
        {
            if (!InstrumentationSettings.Current.AttributeGenAiClientSpans
                || ProviderCall.Current is not null
                || !IsAttributedSource(activity.Source)
                || activity.GetCustomProperty(CountedProperty) is not null)
            {
                return;
            }
            var operation = activity.GetTagItem(GenAiAttributes.OperationName) as string;
            if (!GenAiOperations.IsInference(operation))
            {
                return;
            }

            var own = LayerFigures.Read(activity, operation!);
            var inner = activity.GetCustomProperty(InnerLayersProperty) as List<LayerFigures>;
            if (inner is { Count: > 1 })
            {
                // This span wrapped several calls: each counts as its layer reported it, this one lends them nothing.
                foreach (var call in inner)
                {
                    Record(call);
                }
                return;
            }

            var figures = inner is [var only] ? only.FillGapsFrom(own) : own;
            if (activity.Parent is { } parent && IsRunningLayer(parent))
            {
                if (parent.GetCustomProperty(InnerLayersProperty) is not List<LayerFigures> siblings)
                {
                    parent.SetCustomProperty(InnerLayersProperty, siblings = []);
                }
                siblings.Add(figures);
                return;
            }

            Record(figures);
        }
        catch (Exception e)
        {
            InstrumentationEventSource.Log.AttributionFailed(activity.DisplayName, activity.Source.Name, e.Message);
        }
    }

    private static void Record(LayerFigures figures)
    {
        TokenUsage? usage = figures.Input is null && figures.Output is null
            ? null
            : new TokenUsage(figures.Input ?? 0, figures.Output ?? 0, figures.CacheRead ?? 0, figures.CacheCreation ?? 0, figures.Reasoning ?? 0);
        var record = new ProviderCallRecord(
            InputGuard.Name(figures.Provider, GenAiAttributes.ProviderName),
            InputGuard.Name(figures.RequestModel ?? figures.ResponseModel, GenAiAttributes.RequestModel),
            figures.DurationSeconds)
        {
            Operation = figures.Operation,
            ResponseModel = InputGuard.OptionalName(figures.ResponseModel),
            Usage = usage,
            ErrorType = figures.ErrorType,
        };
        ProviderCallRecorder.Record(record, AgentInvocation.Current);
    }

    /// <summary>What one layer reported of a model call; null where it did not say.</summary>
    private sealed record LayerFigures(
        string Operation, string? Provider, string? RequestModel, string? ResponseModel, double DurationSeconds,
        long? Input, long? Output, long? CacheRead, long? CacheCreation, long? Reasoning, string? ErrorType)
    {
        public static LayerFigures Read(Activity activity, string operation) => new(
            operation,
            (activity.GetTagItem(GenAiAttributes.ProviderName) ?? activity.GetTagItem(GenAiAttributes.SystemDeprecated)) as string,
            activity.GetTagItem(GenAiAttributes.RequestModel) as string,
            activity.GetTagItem(GenAiAttributes.ResponseModel) as string,
            activity.Duration.TotalSeconds,
            ReadCount(activity, GenAiAttributes.UsageInputTokens, GenAiAttributes.UsagePromptTokensDeprecated),
            ReadCount(activity, GenAiAttributes.UsageOutputTokens, GenAiAttributes.UsageCompletionTokensDeprecated),
            ReadCount(activity, GenAiAttributes.UsageCacheReadInputTokens),
            ReadCount(activity, GenAiAttributes.UsageCacheCreationInputTokens),
            ReadCount(activity, GenAiAttributes.UsageReasoningOutputTokens),
            activity.GetTagItem(GenAiAttributes.ErrorType) as string
                ?? (activity.Status == ActivityStatusCode.Error ? AgentInvocation.OtherErrorType : null));

        /// <summary>This (inner) layer's figures, with what it did not report taken from <paramref name="outer"/>.</summary>
        public LayerFigures FillGapsFrom(LayerFigures outer) => this with
        {
            Provider = Provider ?? outer.Provider,
            RequestModel = RequestModel ?? outer.RequestModel,
            ResponseModel = ResponseModel ?? outer.ResponseModel,
            Input = Positive(Input) ?? outer.Input,
            Output = Positive(Output) ?? outer.Output,
            CacheRead = Positive(CacheRead) ?? outer.CacheRead,
            CacheCreation = Positive(CacheCreation) ?? outer.CacheCreation,
            Reasoning = Positive(Reasoning) ?? outer.Reasoning,
            ErrorType = ErrorType ?? outer.ErrorType,
        };

        private static long? Positive(long? count) => count is > 0 ? count : null;
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

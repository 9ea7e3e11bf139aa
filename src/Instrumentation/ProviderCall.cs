using System.Diagnostics;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Instrumentation.Implementation;
using PerfOtel.Instrumentation.Pricing;

namespace PerfOtel.Instrumentation;

/// <summary>
/// One call to a model (an inference): the span <c>{operation} {model}</c> (kind Client) and, when disposed, the
/// provider metrics: duration, tokens, cost (or unpriced tokens), retries and fallbacks. Start it with
/// <see cref="AgentInvocation.StartProviderCall"/> or <see cref="AgentTelemetry.StartProviderCall"/>.
/// </summary>
/// <remarks>Thread-safe; bad values are clamped or dropped and reported, never thrown.</remarks>
public sealed class ProviderCall : IDisposable
{
    private static readonly AsyncLocal<ProviderCall?> Ambient = new();

    private readonly AgentInvocation? invocation;
    private readonly ProviderCall? previous;
    private readonly Activity? enclosingActivity;
    private readonly string operation;
    private readonly string providerName;
    private readonly string requestModel;
    private readonly long startTimestamp;
    private readonly object gate = new();
    private string? responseModel;
    private string? responseId;
    private string? finishReason;
    private TokenUsage usage;
    private bool hasUsage;
    private double? explicitCost;
    private int attempt = 1;
    private string? fallbackFrom;
    private string? fallbackReason;
    private string? errorType;
    private int ended;

    private ProviderCall()
    {
        operation = GenAiOperations.Chat;
        providerName = requestModel = InputGuard.UnknownName;
        ended = 1;
    }

    internal ProviderCall(AgentInvocation? invocation, string providerName, string requestModel, string operation)
    {
        this.invocation = invocation;
        this.operation = InputGuard.Name(operation, GenAiAttributes.OperationName);
        this.providerName = InputGuard.Name(providerName, GenAiAttributes.ProviderName);
        this.requestModel = InputGuard.Name(requestModel, GenAiAttributes.RequestModel);

        // A library span this call runs inside (Microsoft.Extensions.AI's around PerfOtel's chat client) reports the
        // same model call: it is told, when this call ends, not to count it again.
        enclosingActivity = GenAiSpanAttribution.IsActive ? System.Diagnostics.Activity.Current : null;

        var source = AgentInstruments.ActivitySource;
        if (source.HasListeners())
        {
            // An invocation passed explicitly may live on another async flow: parent the span on it, not on Activity.Current.
            var parent = invocation?.Activity?.Context ?? default;
            Activity = source.StartActivity(
                ActivityKind.Client,
                parent,
                tags:
                [
                    new(GenAiAttributes.OperationName, this.operation),
                    new(GenAiAttributes.ProviderName, this.providerName),
                    new(GenAiAttributes.RequestModel, this.requestModel),
                ],
                name: this.operation + " " + this.requestModel);
        }

        // Being ambient costs an ExecutionContext allocation; only the attribution of other libraries' spans needs it.
        if (GenAiSpanAttribution.IsActive)
        {
            previous = Ambient.Value;
            Ambient.Value = this;
        }
        startTimestamp = Stopwatch.GetTimestamp();
    }

    /// <summary>The span, or null when no one samples it.</summary>
    public Activity? Activity { get; }

    /// <summary>The invocation this call is attributed to, if any.</summary>
    public AgentInvocation? Invocation => invocation;

    /// <summary>Whether the call was disposed (or records nothing because nothing listens).</summary>
    public bool IsEnded => Volatile.Read(ref ended) != 0;

    /// <summary>The call in progress on this async flow: GenAI spans of other libraries inside it are not counted twice.</summary>
    internal static ProviderCall? Current => Ambient.Value;

    internal static ProviderCall Disabled { get; } = new();

    /// <summary>
    /// Makes this call ambient (and its span current) until the returned scope is disposed, for code that runs the
    /// call's work from a flow that did not start it, such as a streaming iterator's later steps.
    /// </summary>
    internal AmbientScope MakeAmbient()
    {
        var scope = new AmbientScope(Ambient.Value, Activity.Current);
        if (!IsEnded)
        {
            Ambient.Value = this;
            if (Activity is not null)
            {
                Activity.Current = Activity;
            }
        }
        return scope;
    }

    /// <summary><c>gen_ai.response.model</c>: the model that answered (often a dated snapshot of the requested one).</summary>
    public ProviderCall SetResponseModel(string? model)
    {
        lock (gate)
        {
            responseModel = InputGuard.OptionalName(model);
        }
        return this;
    }

    /// <summary><c>gen_ai.response.id</c> and the first of <c>gen_ai.response.finish_reasons</c>; span only.</summary>
    public ProviderCall SetResponse(string? id, string? finishReason = null)
    {
        lock (gate)
        {
            responseId = InputGuard.OptionalName(id);
            this.finishReason = InputGuard.OptionalName(finishReason);
        }
        return this;
    }

    /// <summary>
    /// The tokens of the call, counted as the GenAI conventions count them (cached tokens are part of the input,
    /// reasoning tokens part of the output). Negative counts are clamped to 0 and reported.
    /// </summary>
    public ProviderCall SetUsage(TokenUsage usage)
    {
        var checkedUsage = new TokenUsage(
            InputGuard.TokenCount(usage.InputTokens, GenAiAttributes.UsageInputTokens),
            InputGuard.TokenCount(usage.OutputTokens, GenAiAttributes.UsageOutputTokens),
            InputGuard.TokenCount(usage.CacheReadInputTokens, GenAiAttributes.UsageCacheReadInputTokens),
            InputGuard.TokenCount(usage.CacheCreationInputTokens, GenAiAttributes.UsageCacheCreationInputTokens),
            InputGuard.TokenCount(usage.ReasoningOutputTokens, GenAiAttributes.UsageReasoningOutputTokens));
        lock (gate)
        {
            this.usage = checkedUsage;
            hasUsage = true;
        }
        return this;
    }

    /// <summary>Same as <see cref="SetUsage(TokenUsage)"/>.</summary>
    public ProviderCall SetUsage(long inputTokens, long outputTokens) => SetUsage(new TokenUsage(inputTokens, outputTokens));

    /// <summary>
    /// The cost in USD as the provider billed it, used instead of the pricing catalog. NaN, infinite and negative values
    /// are ignored (and reported); the catalog price then applies.
    /// </summary>
    public ProviderCall SetCost(double costUsd)
    {
        if (InputGuard.Cost(costUsd, PerfOtelAttributes.CostUsd) is { } checkedCost)
        {
            lock (gate)
            {
                explicitCost = checkedCost;
            }
        }
        return this;
    }

    /// <summary>
    /// <c>perfotel.retry.attempt</c>: 1 for the first try, 2 for the first retry... An attempt above 1 counts on
    /// <c>perfotel.provider.retries</c>. Values below 1 are taken as 1.
    /// </summary>
    public ProviderCall SetAttempt(int attemptNumber)
    {
        if (attemptNumber < 1)
        {
            InstrumentationEventSource.Log.ValueClamped(PerfOtelAttributes.RetryAttempt, attemptNumber, 1, int.MaxValue);
            attemptNumber = 1;
        }
        lock (gate)
        {
            attempt = attemptNumber;
        }
        return this;
    }

    /// <summary>
    /// Marks this call as a fallback from another provider or model (<c>perfotel.fallback.from</c>, e.g.
    /// <c>openai/gpt-4o</c>) for a reason (<c>perfotel.fallback.reason</c>, e.g. <c>rate_limited</c>); counts on
    /// <c>perfotel.provider.fallbacks</c>.
    /// </summary>
    public ProviderCall SetFallback(string from, string? reason = null)
    {
        lock (gate)
        {
            fallbackFrom = InputGuard.Name(from, PerfOtelAttributes.FallbackFrom);
            fallbackReason = InputGuard.OptionalName(reason);
        }
        return this;
    }

    /// <summary>Marks the call as failed with <c>error.type</c> (default <c>_OTHER</c>); the span status becomes Error.</summary>
    public ProviderCall Fail(string? errorType = null)
    {
        lock (gate)
        {
            this.errorType = InputGuard.OptionalName(errorType) ?? AgentInvocation.OtherErrorType;
        }
        return this;
    }

    /// <summary>Marks the call as failed by <paramref name="exception"/>; <c>error.type</c> is its type's full name.</summary>
    public ProviderCall Fail(Exception exception) => Fail(exception?.GetType().FullName);

    /// <summary>Restores the ambient call and current span that <see cref="MakeAmbient"/> replaced.</summary>
    internal readonly struct AmbientScope(ProviderCall? previousCall, Activity? previousActivity) : IDisposable
    {
        public void Dispose()
        {
            Ambient.Value = previousCall;
            Activity.Current = previousActivity;
        }
    }

    /// <summary>Ends the call: records its metrics, completes its span and restores the previous ambient call.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref ended, 1) != 0)
        {
            return;
        }
        try
        {
            var duration = Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds;
            ProviderCallRecord record;
            string? id, finish;
            lock (gate)
            {
                record = new ProviderCallRecord(providerName, requestModel, duration)
                {
                    Operation = operation,
                    ResponseModel = responseModel,
                    Usage = hasUsage ? usage : null,
                    CostUsd = explicitCost,
                    Attempt = attempt,
                    FallbackFrom = fallbackFrom,
                    FallbackReason = fallbackReason,
                    ErrorType = errorType,
                };
                id = responseId;
                finish = finishReason;
            }
            double? cost;
            using (Implementation.MeasuredSpan.Enter(Activity))
            {
                cost = ProviderCallRecorder.Record(record, invocation);
            }
            GenAiSpanAttribution.MarkLayersCounted(enclosingActivity);

            if (Activity is { } activity)
            {
                if (activity.IsAllDataRequested)
                {
                    ProviderCallRecorder.SetSpanAttributes(activity, record, cost);
                    AgentInvocation.SetIfPresent(activity, GenAiAttributes.ResponseId, id);
                    if (finish is not null)
                    {
                        activity.SetTag(GenAiAttributes.ResponseFinishReasons, new[] { finish });
                    }
                }
                if (record.ErrorType is not null)
                {
                    activity.SetStatus(ActivityStatusCode.Error, record.ErrorType);
                }
                activity.Stop();
            }
        }
        catch (Exception e)
        {
            InstrumentationEventSource.Log.RecordingFailed(operation, e);
        }
        finally
        {
            if (Ambient.Value == this)
            {
                Ambient.Value = previous;
            }
        }
    }
}

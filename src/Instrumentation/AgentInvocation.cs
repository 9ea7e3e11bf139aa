using System.Diagnostics;
using System.Text.Json;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Instrumentation.Evaluation;
using PerfOtel.Instrumentation.Implementation;
using PerfOtel.Instrumentation.Pricing;

namespace PerfOtel.Instrumentation;

/// <summary>
/// One invocation of an agent: the span <c>invoke_agent {agent}</c> and, when it ends, the invocation metrics
/// (duration, outcome, confidence). Start it with <see cref="AgentTelemetry.StartInvocation"/>, end it with
/// <see cref="Succeed"/>, <see cref="Fail(string?)"/> or <see cref="Complete"/>, then dispose it. Disposed without an
/// outcome (an exception left the <c>using</c> block) it ends as a failure with <c>error.type</c> <c>_OTHER</c>.
/// </summary>
/// <remarks>
/// It is the ambient invocation (<see cref="Current"/>) for the async flow that started it, so provider calls, tool
/// executions and GenAI spans of other libraries made inside it are attributed to it. It may be passed to and used from
/// other threads; every member is thread-safe, and none throws on bad input.
/// </remarks>
public sealed class AgentInvocation : IDisposable
{
    internal const string OtherErrorType = "_OTHER";
    private static readonly AsyncLocal<AgentInvocation?> Ambient = new();

    private readonly AgentInvocation? previous;
    private readonly long startTimestamp;
    private readonly object gate = new();
    private AgentOutcome? outcome;
    private string? errorType;
    private double? confidence;
    private double? quality;
    private long inputTokens;
    private long outputTokens;
    private double costUsd;
    private bool hasCost;
    private int ended;

    private AgentInvocation()
    {
        AgentName = InputGuard.UnknownName;
        Tenant = InstrumentationSettings.Current.DefaultTenant;
        ended = 1;
    }

    private AgentInvocation(string agentName, in AgentInvocationDetails details)
    {
        var settings = InstrumentationSettings.Current;
        AgentName = InputGuard.Name(agentName, GenAiAttributes.AgentName);
        AgentType = InputGuard.OptionalName(details.AgentType);
        Tenant = InputGuard.OptionalName(details.Tenant) ?? settings.DefaultTenant;

        var source = AgentInstruments.ActivitySource;
        if (source.HasListeners())
        {
            Activity = source.StartActivity(
                ActivityKind.Internal,
                tags: [new(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent), new(GenAiAttributes.AgentName, AgentName)],
                name: GenAiOperations.InvokeAgent + " " + AgentName);
            if (Activity is { IsAllDataRequested: true } activity)
            {
                activity.SetTag(PerfOtelAttributes.Tenant, Tenant);
                SetIfPresent(activity, GenAiAttributes.AgentId, details.AgentId);
                SetIfPresent(activity, PerfOtelAttributes.AgentType, AgentType);
                SetIfPresent(activity, GenAiAttributes.ConversationId, details.ConversationId);
                SetIfPresent(activity, PerfOtelAttributes.TaskId, details.TaskId);
                SetIfPresent(activity, PerfOtelAttributes.TaskType, details.TaskType);
                SetIfPresent(activity, PerfOtelAttributes.JobId, details.JobId);
                SetIfPresent(activity, PerfOtelAttributes.Experiment, details.Experiment);
                SetIfPresent(activity, PerfOtelAttributes.Variant, details.Variant);
            }
        }

        previous = Ambient.Value;
        Ambient.Value = this;
        startTimestamp = Stopwatch.GetTimestamp();
    }

    /// <summary>The invocation in progress on this async flow, or null.</summary>
    public static AgentInvocation? Current => Ambient.Value;

    /// <summary><c>gen_ai.agent.name</c>.</summary>
    public string AgentName { get; }

    /// <summary><c>perfotel.agent.type</c>, if given.</summary>
    public string? AgentType { get; }

    /// <summary><c>perfotel.tenant</c>: the given tenant or the configured default.</summary>
    public string Tenant { get; }

    /// <summary>The <c>invoke_agent</c> span, or null when no one samples it.</summary>
    public Activity? Activity { get; }

    /// <summary>Whether the invocation has ended (or records nothing because nothing listens).</summary>
    public bool IsEnded => Volatile.Read(ref ended) != 0;

    /// <summary>Tokens of the provider calls made in this invocation so far.</summary>
    public TokenUsage Usage => new(Interlocked.Read(ref inputTokens), Interlocked.Read(ref outputTokens));

    /// <summary>Cost in USD of the priced provider calls made in this invocation so far.</summary>
    public double CostUsd => Volatile.Read(ref costUsd);

    internal static AgentInvocation Disabled { get; } = new();

    internal static AgentInvocation Start(string agentName, in AgentInvocationDetails details) =>
        AgentInstruments.AnyListener ? new AgentInvocation(agentName, details) : Disabled;

    /// <summary>The confidence the agent states in its answer, in [0, 1] (<c>perfotel.confidence</c>); out-of-range values are clamped, NaN is ignored.</summary>
    public void SetConfidence(double value)
    {
        if (IsEnded || InputGuard.UnitInterval(value, PerfOtelAttributes.Confidence) is not { } checkedValue)
        {
            return;
        }
        lock (gate)
        {
            confidence = checkedValue;
        }
    }

    /// <summary>
    /// A quality score of the answer in [0, 1] (<c>perfotel.quality</c>), also recorded as the evaluation <c>quality</c>.
    /// </summary>
    public void SetQuality(double value)
    {
        if (IsEnded || InputGuard.UnitInterval(value, PerfOtelAttributes.Quality) is not { } checkedValue)
        {
            return;
        }
        lock (gate)
        {
            quality = checkedValue;
        }
        RecordEvaluation(EvaluationNames.Quality, checkedValue);
    }

    /// <summary>
    /// Records a named evaluation score in [0, 1]: a <c>gen_ai.evaluation.result</c> event on the span and a point on
    /// <c>perfotel.evaluation.score</c>. Out-of-range scores are clamped; NaN and empty names are ignored.
    /// </summary>
    public void RecordEvaluation(string name, double score, string? label = null, string? explanation = null)
    {
        if (Disabled == this)
        {
            return;
        }
        if (string.IsNullOrWhiteSpace(name))
        {
            InstrumentationEventSource.Log.ValueDropped(GenAiAttributes.EvaluationName, "(empty)");
            return;
        }
        if (InputGuard.UnitInterval(score, GenAiAttributes.EvaluationScoreValue) is not { } checkedScore)
        {
            return;
        }
        try
        {
            if (Activity is { IsAllDataRequested: true } activity)
            {
                var tags = new ActivityTagsCollection
                {
                    { GenAiAttributes.EvaluationName, name },
                    { GenAiAttributes.EvaluationScoreValue, checkedScore },
                };
                if (!string.IsNullOrEmpty(label))
                {
                    tags.Add(GenAiAttributes.EvaluationScoreLabel, label);
                }
                if (!string.IsNullOrEmpty(explanation))
                {
                    tags.Add(GenAiAttributes.EvaluationExplanation, explanation);
                }
                activity.AddEvent(new ActivityEvent(GenAiEvents.EvaluationResult, tags: tags));
            }
            if (AgentInstruments.EvaluationScore.Enabled)
            {
                var metricTags = AgentTags();
                metricTags.Add(GenAiAttributes.EvaluationName, InstrumentationSettings.Current.MetricEvaluationName(name));
                AgentInstruments.EvaluationScore.Record(checkedScore, metricTags);
            }
        }
        catch (Exception e)
        {
            InstrumentationEventSource.Log.RecordingFailed(nameof(RecordEvaluation), e);
        }
    }

    /// <summary>
    /// Scores the predicted against the actual outcome with <see cref="AccuracyScorer"/> and records it as the
    /// evaluation <c>accuracy</c>.
    /// </summary>
    /// <returns>The score, or null when a value was undefined (reported through the self-diagnostics EventSource).</returns>
    public double? RecordAccuracy(JsonElement predicted, JsonElement actual)
    {
        double score;
        try
        {
            score = AccuracyScorer.Score(predicted, actual);
        }
        catch (ArgumentException e)
        {
            InstrumentationEventSource.Log.ValueDropped(EvaluationNames.Accuracy, e.Message);
            return null;
        }
        RecordEvaluation(EvaluationNames.Accuracy, score);
        return score;
    }

    /// <summary>Starts a call to a model made by this agent (span <c>{operation} {model}</c>, kind Client).</summary>
    public ProviderCall StartProviderCall(string providerName, string requestModel, string operation = GenAiOperations.Chat) =>
        Disabled == this ? ProviderCall.Disabled : new ProviderCall(this, providerName, requestModel, operation);

    /// <summary>Starts the execution of a tool by this agent (span <c>execute_tool {tool}</c>).</summary>
    public ToolExecution StartToolExecution(string toolName, string? toolCallId = null, string? toolType = null) =>
        Disabled == this ? ToolExecution.Disabled : new ToolExecution(this, toolName, toolCallId, toolType);

    /// <summary>Ends the invocation as a success.</summary>
    public void Succeed() => Complete(AgentOutcome.Success);

    /// <summary>Ends the invocation as a failure with <c>error.type</c> (default <c>_OTHER</c>).</summary>
    public void Fail(string? errorType = null) => Complete(AgentOutcome.Failure, errorType);

    /// <summary>Ends the invocation as a failure caused by <paramref name="exception"/>; <c>error.type</c> is its type's full name.</summary>
    public void Fail(Exception exception) => Complete(AgentOutcome.Failure, exception?.GetType().FullName);

    /// <summary>
    /// Ends the invocation with <paramref name="outcome"/>. Only the first call counts; later ones (and later scores)
    /// are ignored and reported through the self-diagnostics EventSource.
    /// </summary>
    public void Complete(AgentOutcome outcome, string? errorType = null)
    {
        if (Interlocked.Exchange(ref ended, 1) != 0)
        {
            if (Disabled != this)
            {
                InstrumentationEventSource.Log.ScopeAlreadyEnded(GenAiOperations.InvokeAgent, nameof(Complete));
            }
            return;
        }
        lock (gate)
        {
            this.outcome = outcome;
            this.errorType = outcome == AgentOutcome.Failure ? InputGuard.OptionalName(errorType) ?? OtherErrorType : InputGuard.OptionalName(errorType);
        }
        End();
    }

    /// <summary>Ends the invocation (as a failure if no outcome was given) and restores the previous ambient invocation.</summary>
    public void Dispose()
    {
        if (Disabled == this)
        {
            return;
        }
        if (Interlocked.Exchange(ref ended, 1) == 0)
        {
            lock (gate)
            {
                outcome = AgentOutcome.Failure;
                errorType = OtherErrorType;
            }
            End();
        }
        if (Ambient.Value == this)
        {
            Ambient.Value = previous;
        }
    }

    internal void AddUsage(long input, long output, double? cost)
    {
        Interlocked.Add(ref inputTokens, input);
        Interlocked.Add(ref outputTokens, output);
        if (cost is { } value)
        {
            // Lock-free: provider calls of one invocation may end on several threads at once.
            double seen, sum;
            do
            {
                seen = Volatile.Read(ref costUsd);
                sum = seen + value;
            }
            while (Interlocked.CompareExchange(ref costUsd, sum, seen) != seen);
            Volatile.Write(ref hasCost, true);
        }
    }

    /// <summary>Tenant, agent name and (if any) agent type: the labels every agent metric starts with.</summary>
    internal TagList AgentTags()
    {
        var tags = new TagList
        {
            { PerfOtelAttributes.Tenant, Tenant },
            { GenAiAttributes.AgentName, AgentName },
        };
        if (AgentType is not null)
        {
            tags.Add(PerfOtelAttributes.AgentType, AgentType);
        }
        return tags;
    }

    private void End()
    {
        try
        {
            var duration = Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds;
            AgentOutcome finalOutcome;
            string? finalError;
            double? finalConfidence, finalQuality, finalCost;
            lock (gate)
            {
                finalOutcome = outcome ?? AgentOutcome.Failure;
                finalError = errorType;
                finalConfidence = confidence;
                finalQuality = quality;
                finalCost = Volatile.Read(ref hasCost) ? Volatile.Read(ref costUsd) : null;
            }
            var outcomeValue = OutcomeValue(finalOutcome);

            var tags = AgentTags();
            tags.Add(PerfOtelAttributes.Outcome, outcomeValue);
            if (AgentInstruments.AgentConfidence.Enabled && finalConfidence is { } stated)
            {
                AgentInstruments.AgentConfidence.Record(stated, tags);
            }
            if (finalError is not null)
            {
                tags.Add(GenAiAttributes.ErrorType, finalError);
            }
            AgentInstruments.AgentInvocations.Add(1, tags);
            tags.Add(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent);
            using (Implementation.MeasuredSpan.Enter(Activity))
            {
                AgentInstruments.InvokeAgentDuration.Record(duration, tags);
            }

            if (Activity is { } activity)
            {
                if (activity.IsAllDataRequested)
                {
                    activity.SetTag(PerfOtelAttributes.Outcome, outcomeValue);
                    SetIfPresent(activity, GenAiAttributes.ErrorType, finalError);
                    if (finalConfidence is { } c)
                    {
                        activity.SetTag(PerfOtelAttributes.Confidence, c);
                    }
                    if (finalQuality is { } q)
                    {
                        activity.SetTag(PerfOtelAttributes.Quality, q);
                    }
                    var usage = Usage;
                    if (usage.InputTokens > 0 || usage.OutputTokens > 0)
                    {
                        activity.SetTag(GenAiAttributes.UsageInputTokens, usage.InputTokens);
                        activity.SetTag(GenAiAttributes.UsageOutputTokens, usage.OutputTokens);
                    }
                    if (finalCost is { } cost)
                    {
                        activity.SetTag(PerfOtelAttributes.CostUsd, cost);
                    }
                }
                if (finalOutcome == AgentOutcome.Failure)
                {
                    activity.SetStatus(ActivityStatusCode.Error, finalError);
                }
                activity.Stop();
            }
        }
        catch (Exception e)
        {
            InstrumentationEventSource.Log.RecordingFailed(GenAiOperations.InvokeAgent, e);
        }
    }

    internal static string OutcomeValue(AgentOutcome outcome) => outcome switch
    {
        AgentOutcome.Success => Outcomes.Success,
        AgentOutcome.Partial => Outcomes.Partial,
        _ => Outcomes.Failure,
    };

    internal static void SetIfPresent(Activity activity, string key, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            activity.SetTag(key, value);
        }
    }
}

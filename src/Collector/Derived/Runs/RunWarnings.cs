using System.Globalization;
using PerfOtel.Collector.Derived.Thresholds;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Runs;

/// <summary>
/// The warnings of one run, against the thresholds of its tenant (<c>Thresholds</c>, docs/collector/rest-api.md,
/// "Warnings"). The run list and the run page both derive them here, from the same figures, so they always agree.
/// </summary>
public static class RunWarnings
{
    public const string LowConfidence = "low_confidence";
    public const string HighTokenUsage = "high_token_usage";
    public const string SlowExecution = "slow_execution";
    public const string QualityConcern = "quality_concern";
    public const string ManyRetries = "many_retries";
    public const string FallbackUsed = "fallback_used";
    public const string UnpricedModel = "unpriced_model";

    /// <summary>Every warning name, in the documented order.</summary>
    public static IReadOnlyList<string> All { get; } =
        [LowConfidence, HighTokenUsage, SlowExecution, QualityConcern, ManyRetries, FallbackUsed, UnpricedModel];

    /// <param name="stored">The run with its roll-ups and feedback.</param>
    /// <param name="calls">Its own provider calls, summed.</param>
    /// <param name="thresholds">Its tenant's thresholds.</param>
    /// <param name="agentP95Seconds">Its agent's p95 latency over the longest analytics window; null when unknown.</param>
    public static IReadOnlyList<RunWarning> Of(StoredInvocation stored, CallSummary calls, ThresholdSet thresholds,
        double? agentP95Seconds)
    {
        ArgumentNullException.ThrowIfNull(stored);
        ArgumentNullException.ThrowIfNull(thresholds);
        var run = stored.Invocation;
        var warnings = new List<RunWarning>();
        void Add(string name, double? value, double? threshold, FormattableString message) =>
            warnings.Add(new RunWarning(name, message.ToString(CultureInfo.InvariantCulture), value, threshold));

        if (run.Confidence is { } confidence && confidence < thresholds.MinRunConfidence)
        {
            Add(LowConfidence, confidence, thresholds.MinRunConfidence,
                $"Confidence {confidence:0.###} is below {thresholds.MinRunConfidence:0.###}");
        }
        var tokens = stored.RolledUpTokens.Total;
        if (tokens > thresholds.MaxTokensPerInvocation)
        {
            Add(HighTokenUsage, tokens, thresholds.MaxTokensPerInvocation,
                $"{tokens} tokens is above {thresholds.MaxTokensPerInvocation:0.###} per invocation");
        }
        if (agentP95Seconds is { } p95 && p95 > 0 && run.DurationSeconds > p95 * thresholds.SlowRunFactor)
        {
            var limit = p95 * thresholds.SlowRunFactor;
            Add(SlowExecution, run.DurationSeconds, limit,
                $"Took {run.DurationSeconds:0.###} s, above {thresholds.SlowRunFactor:0.##} x the agent's p95 of {p95:0.###} s");
        }
        if (run.Quality is { } quality && quality < thresholds.MinRunQuality)
        {
            Add(QualityConcern, quality, thresholds.MinRunQuality,
                $"Quality {quality:0.###} is below {thresholds.MinRunQuality:0.###}");
        }
        else if (AccuracyOf(stored.Feedback) is { } accuracy && accuracy < thresholds.MinAccuracy)
        {
            Add(QualityConcern, accuracy, thresholds.MinAccuracy,
                $"Accuracy {accuracy:0.###} from feedback is below {thresholds.MinAccuracy:0.###}");
        }
        if (calls.Retries > thresholds.MaxRunRetries)
        {
            Add(ManyRetries, calls.Retries, thresholds.MaxRunRetries,
                $"{calls.Retries} retried provider calls, more than {thresholds.MaxRunRetries:0.###}");
        }
        if (calls.Fallbacks > 0)
        {
            Add(FallbackUsed, calls.Fallbacks, null, $"{calls.Fallbacks} provider calls fell back to another model");
        }
        if (stored.UnpricedTokens > 0)
        {
            Add(UnpricedModel, stored.UnpricedTokens, null,
                $"{stored.UnpricedTokens} tokens went to a model without a price: the cost is incomplete");
        }
        return warnings;
    }

    /// <summary>
    /// The same rule as <see cref="Of"/> for one warning, handed to the store to evaluate in SQL over the invocations'
    /// own columns, the summary of their calls that the store's writer keeps (migration 11) and their latest feedback:
    /// the run list's <c>warning=</c> selects exactly the runs this class warns about (the equivalence test,
    /// <c>RunList_WarningFilter_SelectsExactlyTheRunsTheRulesWarnAbout</c>, holds the two together).
    /// </summary>
    /// <param name="warning">One of <see cref="All"/>.</param>
    /// <param name="thresholds">The tenant's thresholds now.</param>
    /// <param name="agentP95Seconds">Each agent's p95 now (agents without one are never slow).</param>
    public static RunWarningFilter StoreFilter(string warning, ThresholdSet thresholds,
        IEnumerable<KeyValuePair<string, double?>> agentP95Seconds)
    {
        ArgumentNullException.ThrowIfNull(thresholds);
        ArgumentNullException.ThrowIfNull(agentP95Seconds);
        if (!All.Contains(warning))
        {
            throw new ArgumentOutOfRangeException(nameof(warning), warning, "not a warning name");
        }
        return new RunWarningFilter
        {
            Warning = warning,
            Threshold = warning switch
            {
                LowConfidence => thresholds.MinRunConfidence,
                HighTokenUsage => thresholds.MaxTokensPerInvocation,
                QualityConcern => thresholds.MinRunQuality,
                ManyRetries => thresholds.MaxRunRetries,
                _ => 0,
            },
            AccuracyThreshold = thresholds.MinAccuracy,
            // The limit exactly as Of computes it: p95 * factor, for an agent with a positive p95.
            SlowAboveSeconds = warning == SlowExecution
                ? agentP95Seconds.Where(p => p.Value is > 0)
                    .ToDictionary(p => p.Key, p => p.Value!.Value * thresholds.SlowRunFactor, StringComparer.Ordinal)
                : new Dictionary<string, double>(StringComparer.Ordinal),
        };
    }

    /// <summary>
    /// The accuracy a run's feedback gives: its accuracy, else its score, else its success as 1 or 0 (the rule of the
    /// analytics accuracy samples).
    /// </summary>
    public static double? AccuracyOf(FeedbackRecord? feedback) =>
        feedback is null ? null
        : feedback.Accuracy ?? feedback.Score ?? (feedback.Success is { } ok ? (ok ? 1.0 : 0.0) : null);

    /// <summary>The list row of a run.</summary>
    public static RunSummary Summarize(StoredInvocation stored, CallSummary calls, ThresholdSet thresholds,
        double? agentP95Seconds)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var run = stored.Invocation;
        return new RunSummary
        {
            Tenant = run.Tenant,
            TraceId = run.TraceId,
            SpanId = run.SpanId,
            ParentSpanId = run.ParentSpanId,
            Agent = run.AgentName,
            AgentType = run.AgentType,
            ServiceName = run.ServiceName,
            TaskId = run.TaskId,
            TaskType = run.TaskType,
            JobId = run.JobId,
            ConversationId = run.ConversationId,
            Experiment = run.Experiment,
            Variant = run.Variant,
            StartTime = run.StartTime,
            DurationSeconds = run.DurationSeconds,
            Outcome = run.Outcome,
            ErrorType = run.ErrorType,
            Confidence = run.Confidence,
            Quality = run.Quality,
            Tokens = stored.RolledUpTokens,
            CostUsd = stored.RolledUpCostUsd,
            UnpricedTokens = stored.UnpricedTokens,
            ProviderCalls = calls.Calls,
            Retries = calls.Retries,
            Fallbacks = calls.Fallbacks,
            Accuracy = AccuracyOf(stored.Feedback),
            Warnings = Of(stored, calls, thresholds, agentP95Seconds),
        };
    }
}

using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Kernel;

/// <summary>
/// Which data is an accuracy sample, by the analytics' rule so that a model's or variant's accuracy means what an
/// agent's does: feedback gives its scored Accuracy, else its Score, else Success as 1 or 0; an evaluation named
/// <c>accuracy</c> gives its score.
/// </summary>
public static class AccuracySamples
{
    /// <summary>The evaluation name whose scores are accuracy samples.</summary>
    public const string EvaluationName = "accuracy";

    /// <summary>The accuracy sample of a feedback, or null.</summary>
    public static double? Of(FeedbackRecord feedback)
    {
        ArgumentNullException.ThrowIfNull(feedback);
        var value = feedback.Accuracy ?? feedback.Score ?? (feedback.Success is { } ok ? (ok ? 1.0 : 0.0) : null);
        return value is { } v && double.IsFinite(v) ? v : null;
    }

    /// <summary>The accuracy sample of an evaluation, or null.</summary>
    public static double? Of(EvaluationRecord evaluation)
    {
        ArgumentNullException.ThrowIfNull(evaluation);
        return evaluation.Name == EvaluationName && evaluation.Score is { } s && double.IsFinite(s) ? s : null;
    }
}

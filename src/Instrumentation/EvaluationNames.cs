namespace PerfOtel.Instrumentation;

/// <summary>The evaluation names PerfOtel records itself (<c>gen_ai.evaluation.name</c>); judges add their own.</summary>
public static class EvaluationNames
{
    /// <summary><c>accuracy</c>: predicted against actual outcome, scored by <see cref="Evaluation.AccuracyScorer"/>.</summary>
    public const string Accuracy = "accuracy";

    /// <summary><c>quality</c>: the quality score of an invocation.</summary>
    public const string Quality = "quality";
}

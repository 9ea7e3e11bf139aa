using PerfOtel.Collector.Derived.Kernel;
namespace PerfOtel.Collector.Derived.Analytics.Formulas;

/// <summary>A success prediction: the Beta posterior of the success probability.</summary>
/// <param name="Successes">Observed successes.</param>
/// <param name="Failures">Observed invocations that were not successes (failures and partials).</param>
/// <param name="Alpha">Posterior alpha = 1 + successes.</param>
/// <param name="Beta">Posterior beta = 1 + non-successes.</param>
/// <param name="Mean">Posterior mean alpha / (alpha + beta).</param>
/// <param name="Lower">5 % quantile of the posterior.</param>
/// <param name="Upper">95 % quantile of the posterior.</param>
public sealed record SuccessPredictionResult(
    long Successes, long Failures, double Alpha, double Beta, double Mean, double Lower, double Upper);

/// <summary>
/// Success prediction per (agent, task type): with a uniform Beta(1, 1) prior and s successes in n invocations, the
/// posterior is Beta(1 + s, 1 + n - s); the prediction is its mean (1 + s) / (2 + n) (Laplace's rule of succession)
/// with the central 90 % credible interval [I^-1(0.05), I^-1(0.95)] of that posterior. With no data it is the prior:
/// mean 0.5, interval [0.05, 0.95].
/// </summary>
public static class SuccessPrediction
{
    /// <summary>Posterior of the success probability after <paramref name="successes"/> of <paramref name="invocations"/>.</summary>
    public static SuccessPredictionResult Predict(long successes, long invocations)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(successes);
        ArgumentOutOfRangeException.ThrowIfLessThan(invocations, successes);
        var failures = invocations - successes;
        var alpha = 1.0 + successes;
        var beta = 1.0 + failures;
        return new SuccessPredictionResult(successes, failures, alpha, beta, alpha / (alpha + beta),
            IncompleteBeta.Inverse(0.05, alpha, beta), IncompleteBeta.Inverse(0.95, alpha, beta));
    }
}

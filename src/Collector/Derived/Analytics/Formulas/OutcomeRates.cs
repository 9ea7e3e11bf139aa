using PerfOtel.Collector.Derived.Kernel;
namespace PerfOtel.Collector.Derived.Analytics.Formulas;

/// <summary>
/// Outcome rates (docs/architecture.md, Derivations): success rate = successes / invocations, error rate = failures /
/// invocations. A partial outcome counts as neither, so the two rates need not add up to 1.
/// </summary>
public static class OutcomeRates
{
    /// <summary>successes / invocations; null when there was no invocation.</summary>
    public static double? SuccessRate(long successes, long invocations) =>
        invocations <= 0 ? null : (double)successes / invocations;

    /// <summary>failures / invocations; null when there was no invocation.</summary>
    public static double? ErrorRate(long failures, long invocations) =>
        invocations <= 0 ? null : (double)failures / invocations;

    /// <summary>A sum spread over invocations (tokens or cost per invocation); null when there was no invocation.</summary>
    public static double? PerInvocation(double total, long invocations) =>
        invocations <= 0 ? null : total / invocations;
}

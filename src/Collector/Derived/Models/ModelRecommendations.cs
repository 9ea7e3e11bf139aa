using PerfOtel.Collector.Derived.Experiments.Statistics;

namespace PerfOtel.Collector.Derived.Models;

/// <summary>
/// A cheaper model that did the same work as well as the one in use: the same agent on the same task type, over the
/// recommendation window, with the sample sizes and 95 % intervals the advice rests on.
/// </summary>
/// <param name="Window">The window the figures are from.</param>
/// <param name="Agent">The agent that used both models.</param>
/// <param name="TaskType">The task type both served (<c>perfotel.task.type</c>; <c>(none)</c> when the invocations carry none).</param>
/// <param name="CurrentProvider">Provider of the model in use.</param>
/// <param name="CurrentModel">The model in use.</param>
/// <param name="RecommendedProvider">Provider of the cheaper model.</param>
/// <param name="RecommendedModel">The cheaper model.</param>
/// <param name="CurrentCostPerInvocationUsd">Mean cost of an invocation of this agent and task type served by the model in use.</param>
/// <param name="RecommendedCostPerInvocationUsd">... by the cheaper model.</param>
/// <param name="SavingsRatio">1 - recommended / current cost per invocation.</param>
/// <param name="CurrentInvocations">Invocations (sample size) behind the current model's figures.</param>
/// <param name="RecommendedInvocations">... behind the cheaper model's.</param>
/// <param name="CurrentSuccessRate">Success rate of the model in use with its 95 % Wilson interval.</param>
/// <param name="RecommendedSuccessRate">... of the cheaper model.</param>
/// <param name="SuccessRateDifference">Recommended minus current success rate with its 95 % Newcombe interval.</param>
/// <param name="NonInferiorityMargin">The margin the difference's lower limit had to stay above (minus this).</param>
/// <param name="CurrentAccuracy">Mean accuracy of the model in use, or null when it has too few samples to compare.</param>
/// <param name="RecommendedAccuracy">... of the cheaper model.</param>
/// <param name="Reason">One sentence for a report.</param>
public sealed record ModelRecommendation(
    string Window,
    string Agent,
    string TaskType,
    string CurrentProvider,
    string CurrentModel,
    string RecommendedProvider,
    string RecommendedModel,
    double CurrentCostPerInvocationUsd,
    double RecommendedCostPerInvocationUsd,
    double SavingsRatio,
    long CurrentInvocations,
    long RecommendedInvocations,
    Interval CurrentSuccessRate,
    Interval RecommendedSuccessRate,
    Interval SuccessRateDifference,
    double NonInferiorityMargin,
    double? CurrentAccuracy,
    double? RecommendedAccuracy,
    string Reason);

/// <summary>Recommendations of cheaper models for the same work, for reports (the analytics report calls this).</summary>
public interface IModelRecommendations
{
    /// <summary>For each (agent, task type, model in use) that has a cheaper model doing as well, the cheapest such model.</summary>
    IReadOnlyList<ModelRecommendation> GetRecommendations(string tenant);
}

/// <summary>
/// Like-for-like advice (docs/collector/cost-and-budgets.md, Recommendations): two models are compared only on the
/// invocations of one agent on one task type (<see cref="ModelComparison.Cohorts"/>), over the recommendation window.
/// A cheaper model is recommended in place of the one in use when both served at least
/// <see cref="ModelComparisonOptions.MinInvocations"/> priced invocations of that agent and task type; it costs at
/// least <see cref="ModelComparisonOptions.MinSavingsRatio"/> less per invocation; the lower limit of the 95 % Newcombe
/// interval of (its success rate - the current one's) is at least -<see cref="ModelComparisonOptions.SuccessRateTolerance"/>
/// (non-inferiority with the uncertainty, not on point estimates: small samples get no advice); and, when the model in
/// use has at least <see cref="ModelComparisonOptions.MinAccuracySamples"/> accuracy samples there, the cheaper one has
/// as many and a mean accuracy at most <see cref="ModelComparisonOptions.AccuracyTolerance"/> lower. Among several,
/// the cheapest is named. The intervals are the experiments' (<see cref="Intervals"/>), one formula each.
/// </summary>
public sealed class ModelRecommendations(ModelComparison comparison) : IModelRecommendations
{
    /// <summary>z of the two-sided 95 % intervals.</summary>
    public const double Z95 = 1.959963984540054;

    // Tolerances are inclusive; this keeps a value exactly at the boundary inside whatever the rounding.
    private const double Epsilon = 1e-9;

    /// <inheritdoc/>
    public IReadOnlyList<ModelRecommendation> GetRecommendations(string tenant)
    {
        var options = comparison.Options;
        var window = options.EffectiveRecommendationWindow;
        var recommendations = new List<ModelRecommendation>();
        foreach (var work in comparison.Cohorts(tenant).GroupBy(c => (c.Agent, c.TaskType)))
        {
            var eligible = work.Where(c => c.PricedInvocations >= options.MinInvocations && c.CostPerInvocationUsd is not null).ToList();
            foreach (var current in eligible)
            {
                var best = eligible
                    .Where(c => !ReferenceEquals(c, current) && IsCheaperAndNotWorse(c, current, options))
                    .OrderBy(c => c.CostPerInvocationUsd)
                    .ThenByDescending(c => (double)c.Successes / c.Invocations)
                    .ThenBy(c => c.Provider, StringComparer.Ordinal)
                    .ThenBy(c => c.Model, StringComparer.Ordinal)
                    .FirstOrDefault();
                if (best is not null)
                {
                    recommendations.Add(Recommend(window.Name, current, best, options));
                }
            }
        }
        return recommendations;
    }

    /// <summary>
    /// Whether <paramref name="candidate"/> is cheaper than <paramref name="current"/> and not worse beyond the margin,
    /// by the rule above. Both must be the same agent's on the same task type (the caller groups them).
    /// </summary>
    public static bool IsCheaperAndNotWorse(CohortStats candidate, CohortStats current, ModelComparisonOptions options)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(options);
        if (candidate.Agent != current.Agent || candidate.TaskType != current.TaskType ||
            candidate.CostPerInvocationUsd is not { } candidateCost || current.CostPerInvocationUsd is not { } currentCost ||
            candidate.PricedInvocations < options.MinInvocations || current.PricedInvocations < options.MinInvocations)
        {
            return false;
        }
        if (!(candidateCost <= (currentCost * (1 - options.MinSavingsRatio)) + Epsilon) || candidateCost >= currentCost)
        {
            return false;
        }
        if (Intervals.ProportionDifference(candidate.Successes, candidate.Invocations, current.Successes, current.Invocations, Z95)
                is not { } difference || difference.Lower < -options.SuccessRateTolerance - Epsilon)
        {
            return false;
        }
        if (current.AccuracySamples >= options.MinAccuracySamples &&
            (candidate.AccuracySamples < options.MinAccuracySamples ||
             candidate.Accuracy < current.Accuracy - options.AccuracyTolerance - Epsilon))
        {
            return false;
        }
        return true;
    }

    private static ModelRecommendation Recommend(string window, CohortStats current, CohortStats cheaper, ModelComparisonOptions options)
    {
        var currentCost = current.CostPerInvocationUsd!.Value;
        var cheaperCost = cheaper.CostPerInvocationUsd!.Value;
        var accuracyCompared = current.AccuracySamples >= options.MinAccuracySamples;
        var savings = 1 - (cheaperCost / currentCost);
        var currentSuccess = Intervals.Wilson(current.Successes, current.Invocations, Z95)!.Value;
        var cheaperSuccess = Intervals.Wilson(cheaper.Successes, cheaper.Invocations, Z95)!.Value;
        var difference = Intervals.ProportionDifference(cheaper.Successes, cheaper.Invocations, current.Successes, current.Invocations, Z95)!.Value;
        var reason = FormattableString.Invariant(
            $"For agent {current.Agent} on task type {current.TaskType}, {cheaper.Provider}/{cheaper.Model} costs {cheaperCost:0.######} USD per invocation against {currentCost:0.######} USD for {current.Provider}/{current.Model} ({savings * 100:0}% less) over {window}, with a success rate of {cheaperSuccess.Estimate * 100:0.#}% [{cheaperSuccess.Lower * 100:0.#}, {cheaperSuccess.Upper * 100:0.#}] over {cheaper.Invocations} invocations against {currentSuccess.Estimate * 100:0.#}% [{currentSuccess.Lower * 100:0.#}, {currentSuccess.Upper * 100:0.#}] over {current.Invocations}; difference {difference.Estimate * 100:+0.#;-0.#;0} points [{difference.Lower * 100:0.#}, {difference.Upper * 100:0.#}], above the -{options.SuccessRateTolerance * 100:0.#}-point margin (95 % intervals)")
            + (accuracyCompared
                ? FormattableString.Invariant($"; accuracy {cheaper.Accuracy:0.###} against {current.Accuracy:0.###}.")
                : ".");
        return new ModelRecommendation(window, current.Agent, current.TaskType, current.Provider, current.Model, cheaper.Provider,
            cheaper.Model, currentCost, cheaperCost, savings, current.Invocations, cheaper.Invocations, currentSuccess, cheaperSuccess,
            difference, options.SuccessRateTolerance, accuracyCompared ? current.Accuracy : null, accuracyCompared ? cheaper.Accuracy : null,
            reason);
    }
}

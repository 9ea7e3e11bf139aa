using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Exposure.Metrics;

namespace PerfOtel.Collector.Derived.Models;

/// <summary>A cheaper model of equal quality than one in use.</summary>
/// <param name="Window">The window the figures are from.</param>
/// <param name="CurrentProvider">Provider of the model in use.</param>
/// <param name="CurrentModel">The model in use.</param>
/// <param name="RecommendedProvider">Provider of the cheaper model.</param>
/// <param name="RecommendedModel">The cheaper model.</param>
/// <param name="CurrentCostPerInvocationUsd">Mean cost of an invocation served by the model in use.</param>
/// <param name="RecommendedCostPerInvocationUsd">... by the cheaper model.</param>
/// <param name="SavingsRatio">1 - recommended / current cost per invocation.</param>
/// <param name="CurrentSuccessRate">Success rate of the model in use.</param>
/// <param name="RecommendedSuccessRate">... of the cheaper model.</param>
/// <param name="CurrentAccuracy">Mean accuracy of the model in use, or null when it has too few samples to compare.</param>
/// <param name="RecommendedAccuracy">... of the cheaper model.</param>
/// <param name="Reason">One sentence for a report.</param>
public sealed record ModelRecommendation(
    string Window,
    string CurrentProvider,
    string CurrentModel,
    string RecommendedProvider,
    string RecommendedModel,
    double CurrentCostPerInvocationUsd,
    double RecommendedCostPerInvocationUsd,
    double SavingsRatio,
    double CurrentSuccessRate,
    double RecommendedSuccessRate,
    double? CurrentAccuracy,
    double? RecommendedAccuracy,
    string Reason);

/// <summary>Recommendations of cheaper models of equal quality, for reports (the analytics report calls this).</summary>
public interface IModelRecommendations
{
    /// <summary>For each of the tenant's models that has a cheaper model of equal quality, the cheapest such model.</summary>
    IReadOnlyList<ModelRecommendation> GetRecommendations(string tenant);
}

/// <summary>
/// "Equal quality" over the recommendation window (default the longest, 24h): both models served at least
/// <see cref="ModelComparisonOptions.MinInvocations"/> invocations with a known cost; the cheaper one's success rate is
/// at most <see cref="ModelComparisonOptions.SuccessRateTolerance"/> lower; and when the model in use has at least
/// <see cref="ModelComparisonOptions.MinAccuracySamples"/> accuracy samples, the cheaper one has as many and a mean
/// accuracy at most <see cref="ModelComparisonOptions.AccuracyTolerance"/> lower (a model whose accuracy is unknown
/// is not recommended in place of one whose accuracy is known). "Cheaper": a cost per invocation at least
/// <see cref="ModelComparisonOptions.MinSavingsRatio"/> lower. Among several, the cheapest is named.
/// </summary>
/// <remarks>The comparison is across all agents of the tenant: it is fair where models serve comparable work, as in an
/// experiment or a router; the report states the figures it rests on.</remarks>
public sealed class ModelRecommendations(ModelComparison comparison) : IModelRecommendations
{
    // Tolerances are inclusive; this keeps a rate exactly at the boundary (0.88 against 0.90 - 0.02) inside whatever
    // the rounding of the subtraction.
    private const double Epsilon = 1e-9;

    /// <inheritdoc/>
    public IReadOnlyList<ModelRecommendation> GetRecommendations(string tenant)
    {
        var options = comparison.Options;
        var window = options.EffectiveRecommendationWindow;
        var eligible = comparison.Models(tenant, window)
            .Where(m => m.Model != CostKeys.Other && m.PricedInvocations >= options.MinInvocations &&
                        m.CostPerInvocationUsd is not null && m.SuccessRate is not null)
            .ToList();
        var recommendations = new List<ModelRecommendation>();
        foreach (var current in eligible)
        {
            var best = eligible
                .Where(c => !ReferenceEquals(c, current) && IsCheaperOfEqualQuality(c, current, options))
                .OrderBy(c => c.CostPerInvocationUsd)
                .ThenByDescending(c => c.SuccessRate)
                .FirstOrDefault();
            if (best is not null)
            {
                recommendations.Add(Recommend(window.Name, current, best, options));
            }
        }
        return recommendations;
    }

    /// <summary>Whether <paramref name="candidate"/> is cheaper than and of equal quality to <paramref name="current"/>.</summary>
    public static bool IsCheaperOfEqualQuality(ModelStats candidate, ModelStats current, ModelComparisonOptions options)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(current);
        ArgumentNullException.ThrowIfNull(options);
        if (candidate.CostPerInvocationUsd is not { } candidateCost || current.CostPerInvocationUsd is not { } currentCost ||
            candidate.SuccessRate is not { } candidateSuccess || current.SuccessRate is not { } currentSuccess)
        {
            return false;
        }
        if (!(candidateCost <= (currentCost * (1 - options.MinSavingsRatio)) + Epsilon) || candidateCost >= currentCost)
        {
            return false;
        }
        if (candidateSuccess < currentSuccess - options.SuccessRateTolerance - Epsilon)
        {
            return false;
        }
        if (current.AccuracySamples >= options.MinAccuracySamples)
        {
            if (candidate.AccuracySamples < options.MinAccuracySamples ||
                candidate.Accuracy < current.Accuracy - options.AccuracyTolerance - Epsilon)
            {
                return false;
            }
        }
        return true;
    }

    private static ModelRecommendation Recommend(string window, ModelStats current, ModelStats cheaper, ModelComparisonOptions options)
    {
        var currentCost = current.CostPerInvocationUsd!.Value;
        var cheaperCost = cheaper.CostPerInvocationUsd!.Value;
        var accuracyCompared = current.AccuracySamples >= options.MinAccuracySamples;
        var savings = 1 - (cheaperCost / currentCost);
        var reason = FormattableString.Invariant(
            $"{cheaper.Provider}/{cheaper.Model} costs {cheaperCost:0.######} USD per invocation against {currentCost:0.######} USD for {current.Provider}/{current.Model} ({savings * 100:0}% less) over {window}, with a success rate of {cheaper.SuccessRate * 100:0.#}% against {current.SuccessRate * 100:0.#}%")
            + (accuracyCompared
                ? FormattableString.Invariant($" and an accuracy of {cheaper.Accuracy:0.###} against {current.Accuracy:0.###}.")
                : ".");
        return new ModelRecommendation(window, current.Provider, current.Model, cheaper.Provider, cheaper.Model,
            currentCost, cheaperCost, savings, current.SuccessRate!.Value, cheaper.SuccessRate!.Value,
            accuracyCompared ? current.Accuracy : null, accuracyCompared ? cheaper.Accuracy : null, reason);
    }
}

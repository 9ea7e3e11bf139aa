using PerfOtel.Collector.Derived.Experiments;
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
/// <param name="Source">
/// <c>comparison</c> when the advice rests on the observational like-for-like comparison over <paramref name="Window"/>;
/// <c>experiment</c> when a defined experiment's verdict decided it (the figures are then the experiment's variants',
/// and <paramref name="Window"/> is <c>experiment</c>).
/// </param>
/// <param name="Experiment">The experiment whose verdict decided, when <paramref name="Source"/> is <c>experiment</c>.</param>
/// <param name="ExperimentVerdict">That experiment's verdict (<c>winner</c> or <c>no_difference</c>).</param>
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
    string Reason,
    string Source = ModelRecommendation.FromComparison,
    string? Experiment = null,
    string? ExperimentVerdict = null)
{
    /// <summary><see cref="Source"/> of advice from the observational comparison.</summary>
    public const string FromComparison = "comparison";

    /// <summary><see cref="Source"/> of advice a defined experiment's verdict decided.</summary>
    public const string FromExperiment = "experiment";
}

/// <summary>
/// What a defined experiment that compares two models of one agent (and task type) decides for the cheaper-model advice
/// of that agent and task type (docs/collector/cost-and-budgets.md, "Advice from an experiment"): whether to advise the
/// cheaper model in place of the dearer one, from the experiment's verdict instead of the observational comparison.
/// </summary>
/// <param name="Agent">The agent every invocation of the experiment belonged to.</param>
/// <param name="TaskType">A task type the experiment's invocations had (<c>(none)</c> when absent).</param>
/// <param name="Experiment">The defined experiment.</param>
/// <param name="Verdict">Its verdict: <c>winner</c>, <c>no_difference</c> or <c>guardrail_violated</c>.</param>
/// <param name="Advised">Whether the cheaper model is advised.</param>
/// <param name="CurrentProvider">Provider of the dearer model (the one the advice would replace).</param>
/// <param name="CurrentModel">The dearer model.</param>
/// <param name="CurrentVariant">The variant it served.</param>
/// <param name="CandidateProvider">Provider of the cheaper model.</param>
/// <param name="CandidateModel">The cheaper model.</param>
/// <param name="CandidateVariant">The variant it served.</param>
/// <param name="CurrentCostPerInvocationUsd">Mean cost of the dearer variant's priced invocations.</param>
/// <param name="CandidateCostPerInvocationUsd">... of the cheaper variant's.</param>
/// <param name="CurrentInvocations">Invocations of the dearer variant.</param>
/// <param name="CandidateInvocations">Invocations of the cheaper variant.</param>
/// <param name="Reason">One sentence for a report: the decision and why.</param>
public sealed record ExperimentAdvice(
    string Agent,
    string TaskType,
    string Experiment,
    string Verdict,
    bool Advised,
    string CurrentProvider,
    string CurrentModel,
    string CurrentVariant,
    string CandidateProvider,
    string CandidateModel,
    string CandidateVariant,
    double CurrentCostPerInvocationUsd,
    double CandidateCostPerInvocationUsd,
    long CurrentInvocations,
    long CandidateInvocations,
    string Reason);

/// <summary>Recommendations of cheaper models for the same work, for reports (the analytics report calls this).</summary>
public interface IModelRecommendations
{
    /// <summary>For each (agent, task type, model in use) that has a cheaper model doing as well, the cheapest such model.</summary>
    IReadOnlyList<ModelRecommendation> GetRecommendations(string tenant);

    /// <summary>
    /// The decisions defined experiments take for the advice, advised or not (the advised ones are also in
    /// <see cref="GetRecommendations"/>, with <see cref="ModelRecommendation.Source"/> <c>experiment</c>).
    /// </summary>
    IReadOnlyList<ExperimentAdvice> GetExperimentAdvice(string tenant) => [];
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
/// <remarks>
/// A defined experiment that compares two models of the same agent (and task type) decides that pair instead
/// (<see cref="GetExperimentAdvice"/>): its randomised verdict outranks an observational comparison.
/// </remarks>
public sealed class ModelRecommendations(ModelComparison comparison, ExperimentRegistry? experiments = null) : IModelRecommendations
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
        var decided = GetExperimentAdvice(tenant);
        if (decided.Count == 0)
        {
            return recommendations;
        }
        // The experiment decides its pair of models for its agent and task type, in either direction; where it advises,
        // its advice replaces whatever the comparison advised in place of the same model.
        recommendations.RemoveAll(r => decided.Any(d => d.Agent == r.Agent && d.TaskType == r.TaskType &&
            ((SameModel(r.CurrentProvider, r.CurrentModel, d.CurrentProvider, d.CurrentModel) &&
              SameModel(r.RecommendedProvider, r.RecommendedModel, d.CandidateProvider, d.CandidateModel)) ||
             (SameModel(r.CurrentProvider, r.CurrentModel, d.CandidateProvider, d.CandidateModel) &&
              SameModel(r.RecommendedProvider, r.RecommendedModel, d.CurrentProvider, d.CurrentModel)) ||
             (d.Advised && SameModel(r.CurrentProvider, r.CurrentModel, d.CurrentProvider, d.CurrentModel)))));
        foreach (var advice in decided.Where(d => d.Advised))
        {
            if (experiments?.Report(tenant, advice.Experiment) is { } report)
            {
                recommendations.Add(RecommendFromExperiment(report, advice, options));
            }
        }
        return recommendations
            .OrderBy(r => r.Agent, StringComparer.Ordinal).ThenBy(r => r.TaskType, StringComparer.Ordinal)
            .ThenBy(r => r.CurrentProvider, StringComparer.Ordinal).ThenBy(r => r.CurrentModel, StringComparer.Ordinal).ToList();
    }

    /// <inheritdoc/>
    /// <remarks>
    /// The rule (docs/collector/cost-and-budgets.md, "Advice from an experiment"): a defined experiment whose every
    /// invocation belongs to one agent, whose control and another variant are each served by one model (the model of
    /// each invocation's last provider call) and those two models differ, with priced invocations on both, decides
    /// the advice between those two models for that agent on each task type its invocations had. The cheaper one is
    /// the one with the lower mean cost per priced invocation in the experiment. By verdict: <c>winner</c> advises the
    /// cheaper model when its variant is the winner and not otherwise; <c>no_difference</c> advises it when it is at
    /// least <see cref="ModelComparisonOptions.MinSavingsRatio"/> cheaper; <c>guardrail_violated</c> never advises it.
    /// <c>running</c> and <c>srm</c> decide nothing (the comparison's advice stands).
    /// </remarks>
    public IReadOnlyList<ExperimentAdvice> GetExperimentAdvice(string tenant)
    {
        if (experiments is null)
        {
            return [];
        }
        var options = comparison.Options;
        var result = new List<ExperimentAdvice>();
        foreach (var report in experiments.Reports(tenant))
        {
            if (!report.Defined || report.Analysis is not { } analysis ||
                analysis.Verdict is not (ExperimentVerdict.Winner or ExperimentVerdict.NoDifference or ExperimentVerdict.GuardrailViolated))
            {
                continue;
            }
            var work = report.Variants.SelectMany(v => v.Work).ToList();
            var agents = work.Select(w => w.Agent).Distinct(StringComparer.Ordinal).ToList();
            if (agents.Count != 1 || report.Variants.FirstOrDefault(v => v.Variant == analysis.Control) is not { ServedBy: { } controlModel } control)
            {
                continue;
            }
            var taskTypes = work.Select(w => w.TaskType).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
            foreach (var other in report.Variants.Where(v => v.Variant != analysis.Control))
            {
                if (other.ServedBy is not { } otherModel || SameModel(otherModel.Provider, otherModel.Model, controlModel.Provider, controlModel.Model) ||
                    control.Cost.Count == 0 || other.Cost.Count == 0 || control.Cost.Mean == other.Cost.Mean)
                {
                    continue;
                }
                var (dear, dearModel, cheap, cheapModel) = other.Cost.Mean < control.Cost.Mean
                    ? (control, controlModel, other, otherModel)
                    : (other, otherModel, control, controlModel);
                var (advised, why) = Decide(analysis, dear, cheap, options);
                foreach (var taskType in taskTypes)
                {
                    var reason = FormattableString.Invariant(
                        $"For agent {agents[0]} on task type {taskType}, experiment {report.Experiment} (verdict {ExperimentVerdictNames.Name(analysis.Verdict)}) decides between {dearModel.Provider}/{dearModel.Model} (variant {dear.Variant}, {dear.Cost.Mean:0.######} USD per invocation over {dear.Invocations} invocations) and {cheapModel.Provider}/{cheapModel.Model} (variant {cheap.Variant}, {cheap.Cost.Mean:0.######} USD over {cheap.Invocations}): ")
                        + (advised ? $"use {cheapModel.Provider}/{cheapModel.Model}; {why}." : $"do not switch to {cheapModel.Provider}/{cheapModel.Model}; {why}.");
                    result.Add(new ExperimentAdvice(agents[0], taskType, report.Experiment, ExperimentVerdictNames.Name(analysis.Verdict), advised,
                        dearModel.Provider, dearModel.Model, dear.Variant, cheapModel.Provider, cheapModel.Model, cheap.Variant,
                        dear.Cost.Mean, cheap.Cost.Mean, dear.Invocations, cheap.Invocations, reason));
                }
            }
        }
        return result;
    }

    private static (bool Advised, string Why) Decide(ExperimentAnalysis analysis, VariantSums dear, VariantSums cheap, ModelComparisonOptions options)
    {
        var savings = 1 - (cheap.Cost.Mean / dear.Cost.Mean);
        return analysis.Verdict switch
        {
            ExperimentVerdict.Winner when analysis.Winner == cheap.Variant =>
                (true, FormattableString.Invariant($"it won on {analysis.PrimaryMetric} and costs {savings * 100:0}% less")),
            ExperimentVerdict.Winner => (false, FormattableString.Invariant($"variant {analysis.Winner} won on {analysis.PrimaryMetric}")),
            ExperimentVerdict.NoDifference when savings >= options.MinSavingsRatio - Epsilon =>
                (true, FormattableString.Invariant($"no difference on {analysis.PrimaryMetric} and {savings * 100:0}% cheaper")),
            ExperimentVerdict.NoDifference => (false, FormattableString.Invariant(
                $"no difference on {analysis.PrimaryMetric} but only {savings * 100:0}% cheaper (at least {options.MinSavingsRatio * 100:0}% needed)")),
            _ => (false, "a guardrail was violated: " + analysis.Reason),
        };
    }

    private static ModelRecommendation RecommendFromExperiment(ExperimentReport report, ExperimentAdvice advice, ModelComparisonOptions options)
    {
        var dear = report.Variants.First(v => v.Variant == advice.CurrentVariant);
        var cheap = report.Variants.First(v => v.Variant == advice.CandidateVariant);
        var currentSuccess = Intervals.Wilson(dear.Successes, dear.Invocations, Z95) ?? new Interval(double.NaN, double.NaN, double.NaN);
        var cheaperSuccess = Intervals.Wilson(cheap.Successes, cheap.Invocations, Z95) ?? new Interval(double.NaN, double.NaN, double.NaN);
        var difference = Intervals.ProportionDifference(cheap.Successes, cheap.Invocations, dear.Successes, dear.Invocations, Z95)
            ?? new Interval(double.NaN, double.NaN, double.NaN);
        var accuracyCompared = dear.Accuracy.Count >= options.MinAccuracySamples && cheap.Accuracy.Count >= options.MinAccuracySamples;
        return new ModelRecommendation(ModelRecommendation.FromExperiment, advice.Agent, advice.TaskType, advice.CurrentProvider,
            advice.CurrentModel, advice.CandidateProvider, advice.CandidateModel, advice.CurrentCostPerInvocationUsd,
            advice.CandidateCostPerInvocationUsd, 1 - (advice.CandidateCostPerInvocationUsd / advice.CurrentCostPerInvocationUsd),
            dear.Invocations, cheap.Invocations, currentSuccess, cheaperSuccess, difference, options.SuccessRateTolerance,
            accuracyCompared ? dear.Accuracy.Mean : null, accuracyCompared ? cheap.Accuracy.Mean : null, advice.Reason,
            ModelRecommendation.FromExperiment, advice.Experiment, advice.Verdict);
    }

    private static bool SameModel(string provider, string model, string otherProvider, string otherModel) =>
        provider == otherProvider && model == otherModel;

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

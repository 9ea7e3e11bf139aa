using System.Globalization;
using PerfOtel.Collector.Derived.Experiments.Statistics;
using PerfOtel.Collector.Derived.Kernel;

namespace PerfOtel.Collector.Derived.Experiments;

/// <summary>One metric of one variant: its estimate and, against the control, the difference and the relative lift.</summary>
/// <param name="Metric">success, accuracy, quality, latency (mean seconds) or cost (mean USD per priced invocation).</param>
/// <param name="Samples">Invocations (success, latency), priced invocations (cost), or samples (accuracy, quality).</param>
/// <param name="Estimate">The estimate with its confidence interval (Wilson for success, normal for means).</param>
/// <param name="Difference">This variant minus the control (Newcombe for success, Welch for means); null on the control.</param>
/// <param name="Lift">This variant over the control minus 1 (log risk ratio, or delta method for means); null on the control.</param>
/// <param name="PValue">Always-valid mSPRT p-value of the difference on the primary metric; null elsewhere and on the control.</param>
public sealed record MetricAnalysis(string Metric, long Samples, Interval? Estimate, Interval? Difference, Interval? Lift, double? PValue);

/// <summary>One variant's analysis.</summary>
/// <param name="Variant">The variant's name.</param>
/// <param name="Invocations">Its invocations counted in the experiment.</param>
/// <param name="IntendedWeight">Its share of the defined weights (null for an undefined experiment).</param>
/// <param name="Metrics">Every metric, in the order success, accuracy, quality, latency, cost.</param>
/// <param name="LatencyP95">The 95th percentile of its invocation latency (nearest rank, log-bucketed within 4.9 %) with
/// the distribution-free interval of <see cref="Intervals.QuantileRanks"/>; null without invocations.</param>
public sealed record VariantAnalysis(string Variant, long Invocations, double? IntendedWeight, IReadOnlyList<MetricAnalysis> Metrics,
    Interval? LatencyP95);

/// <summary>The verdict of an experiment.</summary>
public enum ExperimentVerdict
{
    /// <summary>Not decided yet: too few samples, or no significant difference while the experiment runs.</summary>
    Running,

    /// <summary>A variant is significantly better on the primary metric (always-valid p below the significance level).</summary>
    Winner,

    /// <summary>The experiment ended without a significant difference, or every difference is within ±τ.</summary>
    NoDifference,

    /// <summary>A variant degrades a guardrail metric beyond its tolerance.</summary>
    GuardrailViolated,

    /// <summary>The observed split is not the intended one: no comparison of the experiment can be trusted.</summary>
    Srm,
}

/// <summary>The verdicts' names in the API and in the <c>verdict</c> label.</summary>
public static class ExperimentVerdictNames
{
    /// <summary>running, winner, no_difference, guardrail_violated or srm.</summary>
    public static string Name(ExperimentVerdict verdict) => verdict switch
    {
        ExperimentVerdict.Winner => "winner",
        ExperimentVerdict.NoDifference => "no_difference",
        ExperimentVerdict.GuardrailViolated => "guardrail_violated",
        ExperimentVerdict.Srm => "srm",
        _ => "running",
    };
}

/// <summary>The analysis of an experiment against its control.</summary>
/// <param name="Control">The variant every other is compared against.</param>
/// <param name="PrimaryMetric">The metric of the verdict.</param>
/// <param name="Tau">τ of the always-valid test (the minimum detectable effect, absolute).</param>
/// <param name="ConfidenceLevel">The level of every interval, 1 - the significance level.</param>
/// <param name="SampleRatio">The SRM check against the defined weights; null for an undefined experiment.</param>
/// <param name="Verdict">running, winner, no_difference, guardrail_violated or srm.</param>
/// <param name="Winner">The winning variant, when the verdict is winner.</param>
/// <param name="Reason">Why, in one sentence.</param>
/// <param name="Variants">Every variant by name, the control included.</param>
public sealed record ExperimentAnalysis(
    string Control,
    string PrimaryMetric,
    double Tau,
    double ConfidenceLevel,
    SampleRatioCheck? SampleRatio,
    ExperimentVerdict Verdict,
    string? Winner,
    string Reason,
    IReadOnlyList<VariantAnalysis> Variants)
{
    /// <summary>Invocations every variant of positive weight needs before any verdict but srm.</summary>
    public int MinSamplesPerVariant { get; init; }
}

/// <summary>
/// The analysis of an experiment (docs/collector/experiments.md, "Analysis and verdict"): every formula comes from
/// <see cref="Intervals"/>, <see cref="SampleRatioMismatch"/> and <see cref="MixtureSequentialTest"/>; this class only
/// decides what is compared with what and in which order the verdict's rules apply.
/// </summary>
internal static class ExperimentAnalyzer
{
    /// <summary>Analyses the variants (ordered by name) of an experiment, defined or not, at <paramref name="now"/>.</summary>
    public static ExperimentAnalysis? Analyze(IReadOnlyList<(string Name, VariantStats Stats)> variants, ExperimentDefinition? definition,
        ExperimentOptions options, DateTimeOffset now)
    {
        if (variants.Count == 0)
        {
            return null;
        }
        var control = definition?.ControlVariant ?? variants
            .OrderByDescending(v => v.Stats.Invocations).ThenBy(v => v.Name, StringComparer.Ordinal).First().Name;
        var controlStats = variants.FirstOrDefault(v => v.Name == control).Stats ?? new VariantStats();
        var primary = definition?.Primary ?? ExperimentMetric.Success;
        var tau = definition?.Tau ?? ExperimentDefinition.DefaultMinimumDetectableEffect;
        var alpha = options.SignificanceLevel;
        var z = NormalDistribution.Quantile(1 - (alpha / 2));
        var weightSum = definition?.Variants.Values.Where(w => w > 0).Sum() ?? 0;

        var analyses = variants.Select(v => new VariantAnalysis(v.Name, v.Stats.Invocations,
            definition is null ? null : definition.Variants.TryGetValue(v.Name, out var w) && w > 0 ? w / weightSum : 0,
            ExperimentMetricNames.All.Select(m => Analyze(m, v.Stats, v.Name == control ? null : controlStats, m == primary, tau, z)).ToList(),
            LatencyP95(v.Stats.Latency, z)))
            .ToList();

        var srm = definition is null ? null : SampleRatioMismatch.Check(
            variants.Select(v => v.Stats.Invocations).ToList(),
            variants.Select(v => definition.Variants.TryGetValue(v.Name, out var w) ? w : 0).ToList());

        var (verdict, winner, reason) = Verdict(analyses, definition, options, control, primary, tau, alpha, srm, now);
        return new ExperimentAnalysis(control, ExperimentMetricNames.Name(primary), tau, 1 - alpha, srm, verdict, winner, reason, analyses)
        {
            MinSamplesPerVariant = definition?.MinSamplesPerVariant ?? options.MinSamplesPerVariant,
        };
    }

    private static MetricAnalysis Analyze(ExperimentMetric metric, VariantStats s, VariantStats? control, bool primary, double tau, double z)
    {
        if (metric == ExperimentMetric.Success)
        {
            return new MetricAnalysis("success", s.Invocations, Intervals.Wilson(s.Successes, s.Invocations, z),
                control is null ? null : Intervals.ProportionDifference(s.Successes, s.Invocations, control.Successes, control.Invocations, z),
                control is null ? null : Intervals.ProportionLift(s.Successes, s.Invocations, control.Successes, control.Invocations, z),
                control is null || !primary ? null
                    : MixtureSequentialTest.ProportionPValue(s.Successes, s.Invocations, control.Successes, control.Invocations, tau));
        }
        var sums = Sums(metric, s);
        if (control is null)
        {
            return new MetricAnalysis(ExperimentMetricNames.Name(metric), sums.Count, Intervals.Mean(sums, z), null, null, null);
        }
        var baseline = Sums(metric, control);
        return new MetricAnalysis(ExperimentMetricNames.Name(metric), sums.Count, Intervals.Mean(sums, z),
            Intervals.MeanDifference(sums, baseline, z), Intervals.MeanLift(sums, baseline, z),
            primary ? MixtureSequentialTest.MeanPValue(sums, baseline, tau) : null);
    }

    /// <summary>The p95 and the order statistics at the ranks that bracket it (docs/collector/experiments.md, "p95").</summary>
    internal static Interval? LatencyP95(LatencyHistogram latency, double z)
    {
        const double q = 0.95;
        if (latency.Quantile(q) is not { } estimate || Intervals.QuantileRanks(latency.Count, q, z) is not { } ranks)
        {
            return null;
        }
        return new Interval(estimate, latency.OrderStatistic(ranks.Lower)!.Value, latency.OrderStatistic(ranks.Upper)!.Value);
    }

    private static MeanSums Sums(ExperimentMetric metric, VariantStats s) => metric switch
    {
        ExperimentMetric.Accuracy => s.AccuracySums,
        ExperimentMetric.Quality => s.QualitySums,
        ExperimentMetric.Latency => s.LatencySums,
        _ => s.CostSums,
    };

    private static (ExperimentVerdict, string?, string) Verdict(List<VariantAnalysis> variants, ExperimentDefinition? definition,
        ExperimentOptions options, string control, ExperimentMetric primary, double tau, double alpha, SampleRatioCheck? srm,
        DateTimeOffset now)
    {
        var c = CultureInfo.InvariantCulture;
        // 1. A split that is not the intended one invalidates every comparison.
        if (srm is { Mismatch: true })
        {
            return (ExperimentVerdict.Srm, null, string.Create(c,
                $"sample ratio mismatch: {string.Join(" / ", variants.Select(v => $"{v.Variant} {v.Invocations}"))} against intended weights " +
                $"{string.Join(" / ", variants.Select(v => $"{v.IntendedWeight:0.###}"))}, chi² = {srm.ChiSquare:0.##}, p = {srm.PValue:G3} < {SampleRatioMismatch.DefaultThreshold}"));
        }
        // 2. Enough samples in every variant (the control included) before any verdict.
        var minimum = definition?.MinSamplesPerVariant ?? options.MinSamplesPerVariant;
        var compared = variants.Where(v => v.IntendedWeight is null or > 0).ToList();
        if (compared.Count < 2 || compared.All(v => v.Variant != control))
        {
            return (ExperimentVerdict.Running, null, $"no data yet for the control '{control}' and another variant");
        }
        if (compared.FirstOrDefault(v => v.Invocations < minimum) is { } short_)
        {
            return (ExperimentVerdict.Running, null, $"variant '{short_.Variant}' has {short_.Invocations} of the {minimum} invocations required");
        }
        var treatments = compared.Where(v => v.Variant != control).ToList();
        // 3. Guardrails: a treatment whose lift interval lies entirely beyond the tolerated degradation.
        foreach (var (name, tolerance) in definition?.Guardrails.OrderBy(g => g.Key, StringComparer.Ordinal) ?? Enumerable.Empty<KeyValuePair<string, double>>())
        {
            var metric = ExperimentMetricNames.Parse(name)!.Value;
            foreach (var treatment in treatments)
            {
                if (Metric(treatment, metric).Lift is not { } lift)
                {
                    continue;
                }
                var violated = ExperimentMetricNames.HigherIsBetter(metric) ? lift.Upper < -tolerance : lift.Lower > tolerance;
                if (violated)
                {
                    return (ExperimentVerdict.GuardrailViolated, null, string.Create(c,
                        $"variant '{treatment.Variant}' changes {ExperimentMetricNames.Name(metric)} by {lift.Estimate:+0.0%;-0.0%} [{lift.Lower:+0.0%;-0.0%}, {lift.Upper:+0.0%;-0.0%}] against '{control}', beyond the tolerated {tolerance:0.0%} degradation"));
                }
            }
        }
        // 4. The primary metric, by the always-valid test against the control.
        var higherIsBetter = ExperimentMetricNames.HigherIsBetter(primary);
        var tested = treatments.Select(t => (Variant: t, Metric: Metric(t, primary))).ToList();
        bool Significant(MetricAnalysis m) => m.PValue is { } p && p < alpha && m.Difference is not null;
        bool Better(MetricAnalysis m) => m.Difference is { } d && (higherIsBetter ? d.Estimate > 0 : d.Estimate < 0);
        var metricName = ExperimentMetricNames.Name(primary);
        var better = tested.Where(t => Significant(t.Metric) && Better(t.Metric))
            .OrderByDescending(t => higherIsBetter ? t.Metric.Difference!.Value.Estimate : -t.Metric.Difference!.Value.Estimate)
            .ToList();
        if (better.Count > 0)
        {
            var (variant, m) = better[0];
            return (ExperimentVerdict.Winner, variant.Variant, string.Create(c,
                $"'{variant.Variant}' beats '{control}' on {metricName}: difference {m.Difference!.Value.Estimate:G4} [{m.Difference.Value.Lower:G4}, {m.Difference.Value.Upper:G4}], always-valid p = {m.PValue:G3} < {alpha}"));
        }
        if (tested.All(t => Significant(t.Metric) && !Better(t.Metric)))
        {
            var worst = tested.MaxBy(t => t.Metric.PValue)!;
            return (ExperimentVerdict.Winner, control, string.Create(c,
                $"the control '{control}' beats every other variant on {metricName} (largest always-valid p = {worst.Metric.PValue:G3} < {alpha})"));
        }
        if (tested.All(t => t.Metric.Difference is { } d && d.Lower > -tau && d.Upper < tau))
        {
            return (ExperimentVerdict.NoDifference, null, string.Create(c,
                $"every difference on {metricName} against '{control}' lies within ±{tau:G4} (the minimum detectable effect)"));
        }
        if (definition?.End is { } end && now >= end)
        {
            return (ExperimentVerdict.NoDifference, null, string.Create(c,
                $"ended at {end:O} without a significant difference on {metricName} against '{control}'"));
        }
        var smallest = tested.Select(t => t.Metric.PValue ?? 1).DefaultIfEmpty(1).Min();
        return (ExperimentVerdict.Running, null, string.Create(c,
            $"no significant difference on {metricName} yet (smallest always-valid p = {smallest:G3}, needs < {alpha})"));
    }

    private static MetricAnalysis Metric(VariantAnalysis variant, ExperimentMetric metric) =>
        variant.Metrics.First(m => m.Metric == ExperimentMetricNames.Name(metric));
}

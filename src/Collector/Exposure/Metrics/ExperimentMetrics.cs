using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Derived.Experiments;
using PerfOtel.Collector.Derived.Coordination;
using PerfOtel.Collector.Derived.Experiments.Statistics;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Exporter;
using C = PerfOtel.Collector.Telemetry.CostMetricCatalog;

namespace PerfOtel.Collector.Exposure.Metrics;

/// <summary>
/// The experiment gauges of <see cref="CostMetricCatalog"/>, written into each scrape: the mergeable sums per variant and metric, the definition
/// the recording rules need to recompute the analysis from sums added over replicas, and this collector's verdict.
/// A mean metric without samples has no series, not zeros.
/// </summary>
internal sealed class ExperimentMetrics : IPrometheusMetricProducer
{
    private static readonly ExperimentMetric[] MeanMetrics =
        [ExperimentMetric.Accuracy, ExperimentMetric.Quality, ExperimentMetric.Latency, ExperimentMetric.Cost];

    private static readonly ExperimentVerdict[] Verdicts = Enum.GetValues<ExperimentVerdict>();

    private readonly ExperimentRegistry registry;
    private readonly DerivationRole? role;

    private readonly (MetricDefinition Definition, Func<ExperimentReport, IEnumerable<(double Value, KeyValuePair<string, string>[] Labels)>> Series)[] gauges;

    public ExperimentMetrics(ExperimentRegistry registry, DerivationRole? role = null)
    {
        this.registry = registry;
        this.role = role;
        gauges =
        [
            (C.ExperimentInvocations, PerVariant((_, v) => v.Invocations)),
            (C.ExperimentSuccesses, PerVariant((_, v) => v.Successes)),
            (C.ExperimentSamples, PerMeanMetric(s => s.Count)),
            (C.ExperimentSum, PerMeanMetric(s => s.Sum)),
            (C.ExperimentSumOfSquares, PerMeanMetric(s => s.SumOfSquares)),
            (C.ExperimentIntendedWeight, PerVariant((e, v) => e.Analysis?.Variants.First(a => a.Variant == v.Variant).IntendedWeight)),
            (C.ExperimentControl, PerVariant((e, v) => e.Defined && e.Analysis?.Control == v.Variant ? 1 : null)),
            (C.ExperimentMinSamples, PerExperiment(e => e.Analysis?.MinSamplesPerVariant)),
            (C.ExperimentIntervalZ, PerExperiment(e => e.Analysis is { } a ? NormalDistribution.Quantile(1 - ((1 - a.ConfidenceLevel) / 2)) : null)),
            (C.ExperimentSrmCriticalChiSquare, PerExperiment(CriticalChiSquare)),
            (C.ExperimentGuardrailTolerance, Guardrails),
            (C.ExperimentVerdict, VerdictStates),
            (C.ExperimentWinner, PerVariant((e, v) => e.Analysis is { } a ? (a.Winner == v.Variant ? 1 : 0) : null)),
        ];
    }

    public void Produce(PrometheusProducerWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (role is { IsDeriving: false })
        {
            return; // a replica that does not derive exposes no derived series (docs/collector/scale-out.md)
        }
        var experiments = registry.Tenants().Union(registry.Options.Definitions.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .SelectMany(tenant => registry.Reports(tenant).Select(experiment => (Tenant: tenant, Report: experiment)))
            .ToList();
        foreach (var (definition, series) in gauges)
        {
            CostFamilies.WriteGauges(writer, definition, experiments.SelectMany(e => series(e.Report).Select(s =>
                (s.Value, (KeyValuePair<string, string>[])[Label(C.TenantLabel, e.Tenant), Label(C.ExperimentLabel, e.Report.Experiment), .. s.Labels]))));
        }
    }

    private static double? CriticalChiSquare(ExperimentReport experiment)
    {
        var cells = experiment.Definition?.Variants.Values.Count(w => w > 0) ?? 0;
        return cells < 2 ? null : ChiSquareDistribution.CriticalValue(cells - 1, SampleRatioMismatch.DefaultThreshold);
    }

    private static IEnumerable<(double, KeyValuePair<string, string>[])> Guardrails(ExperimentReport experiment) =>
        (experiment.Definition?.Guardrails ?? []).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
            (g.Value, new[] { Label(C.MetricLabel, g.Key.ToLowerInvariant()) }));

    private static IEnumerable<(double, KeyValuePair<string, string>[])> VerdictStates(ExperimentReport experiment) =>
        experiment.Analysis is { } analysis
            ? Verdicts.Select(v => (analysis.Verdict == v ? 1.0 : 0.0, new[] { Label(C.VerdictLabel, ExperimentVerdictNames.Name(v)) }))
            : [];

    private static Func<ExperimentReport, IEnumerable<(double, KeyValuePair<string, string>[])>> PerExperiment(Func<ExperimentReport, double?> value) =>
        experiment => value(experiment) is { } v ? [(v, [])] : [];

    private static Func<ExperimentReport, IEnumerable<(double, KeyValuePair<string, string>[])>> PerVariant(
        Func<ExperimentReport, VariantSums, double?> value) =>
        experiment => experiment.Variants
            .Select(variant => (Value: value(experiment, variant), Variant: variant.Variant))
            .Where(x => x.Value is not null)
            .Select(x => (x.Value!.Value, new[] { Label(C.VariantLabel, x.Variant) }));

    private static Func<ExperimentReport, IEnumerable<(double, KeyValuePair<string, string>[])>> PerMeanMetric(Func<MeanSums, double> value) =>
        experiment => experiment.Variants.SelectMany(variant => MeanMetrics
            .Select(metric => (Sums: variant.Of(metric), Metric: metric))
            .Where(x => x.Sums.Count > 0)
            .Select(x => (value(x.Sums), new[] { Label(C.VariantLabel, variant.Variant), Label(C.MetricLabel, ExperimentMetricNames.Name(x.Metric)) })));

    private static KeyValuePair<string, string> Label(string key, string value) => new(key, value);
}

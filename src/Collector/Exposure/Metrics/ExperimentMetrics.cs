using PerfOtel.Instrumentation.Conventions;
using System.Diagnostics.Metrics;
using PerfOtel.Collector.Derived.Experiments;
using PerfOtel.Collector.Derived.Coordination;
using PerfOtel.Collector.Derived.Experiments.Statistics;
using PerfOtel.Collector.Telemetry;
using C = PerfOtel.Collector.Telemetry.CostMetricCatalog;

namespace PerfOtel.Collector.Exposure.Metrics;

/// <summary>
/// The experiment gauges of <see cref="CostMetricCatalog"/>: the mergeable sums per variant and metric, the definition
/// the recording rules need to recompute the analysis from sums added over replicas, and this collector's verdict.
/// A mean metric without samples has no series, not zeros.
/// </summary>
internal sealed class ExperimentMetrics
{
    private static readonly ExperimentMetric[] MeanMetrics =
        [ExperimentMetric.Accuracy, ExperimentMetric.Quality, ExperimentMetric.Latency, ExperimentMetric.Cost];

    private static readonly ExperimentVerdict[] Verdicts = Enum.GetValues<ExperimentVerdict>();

    private readonly ExperimentRegistry registry;
    private readonly DerivationRole? role;

    public ExperimentMetrics(ExperimentRegistry registry, IMeterFactory meterFactory, DerivationRole? role = null)
    {
        this.registry = registry;
        this.role = role;
        var meter = CostMeter.Create(meterFactory);
        Gauge(meter, C.ExperimentInvocations, PerVariant((_, v) => v.Invocations));
        Gauge(meter, C.ExperimentSuccesses, PerVariant((_, v) => v.Successes));
        Gauge(meter, C.ExperimentSamples, PerMeanMetric(s => s.Count));
        Gauge(meter, C.ExperimentSum, PerMeanMetric(s => s.Sum));
        Gauge(meter, C.ExperimentSumOfSquares, PerMeanMetric(s => s.SumOfSquares));
        Gauge(meter, C.ExperimentIntendedWeight, PerVariant((e, v) => e.Analysis?.Variants.First(a => a.Variant == v.Variant).IntendedWeight));
        Gauge(meter, C.ExperimentControl, PerVariant((e, v) => e.Defined && e.Analysis?.Control == v.Variant ? 1 : null));
        Gauge(meter, C.ExperimentMinSamples, PerExperiment(e => e.Analysis?.MinSamplesPerVariant));
        Gauge(meter, C.ExperimentIntervalZ, PerExperiment(e => e.Analysis is { } a ? NormalDistribution.Quantile(1 - ((1 - a.ConfidenceLevel) / 2)) : null));
        Gauge(meter, C.ExperimentSrmCriticalChiSquare, PerExperiment(CriticalChiSquare));
        Gauge(meter, C.ExperimentGuardrailTolerance, Guardrails);
        Gauge(meter, C.ExperimentVerdict, VerdictStates);
        Gauge(meter, C.ExperimentWinner, PerVariant((e, v) => e.Analysis is { } a ? (a.Winner == v.Variant ? 1 : 0) : null));
    }

    private static double? CriticalChiSquare(ExperimentReport experiment)
    {
        var cells = experiment.Definition?.Variants.Values.Count(w => w > 0) ?? 0;
        return cells < 2 ? null : ChiSquareDistribution.CriticalValue(cells - 1, SampleRatioMismatch.DefaultThreshold);
    }

    private static IEnumerable<(double, KeyValuePair<string, object?>[])> Guardrails(ExperimentReport experiment) =>
        (experiment.Definition?.Guardrails ?? []).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
            (g.Value, new[] { Label(C.MetricLabel, g.Key.ToLowerInvariant()) }));

    private static IEnumerable<(double, KeyValuePair<string, object?>[])> VerdictStates(ExperimentReport experiment) =>
        experiment.Analysis is { } analysis
            ? Verdicts.Select(v => (analysis.Verdict == v ? 1.0 : 0.0, new[] { Label(C.VerdictLabel, ExperimentVerdictNames.Name(v)) }))
            : [];

    private static Func<ExperimentReport, IEnumerable<(double, KeyValuePair<string, object?>[])>> PerExperiment(Func<ExperimentReport, double?> value) =>
        experiment => value(experiment) is { } v ? [(v, [])] : [];

    private static Func<ExperimentReport, IEnumerable<(double, KeyValuePair<string, object?>[])>> PerVariant(
        Func<ExperimentReport, VariantSums, double?> value) =>
        experiment => experiment.Variants
            .Select(variant => (Value: value(experiment, variant), Variant: variant.Variant))
            .Where(x => x.Value is not null)
            .Select(x => (x.Value!.Value, new[] { Label(C.VariantLabel, x.Variant) }));

    private static Func<ExperimentReport, IEnumerable<(double, KeyValuePair<string, object?>[])>> PerMeanMetric(Func<MeanSums, double> value) =>
        experiment => experiment.Variants.SelectMany(variant => MeanMetrics
            .Select(metric => (Sums: variant.Of(metric), Metric: metric))
            .Where(x => x.Sums.Count > 0)
            .Select(x => (value(x.Sums), new[] { Label(C.VariantLabel, variant.Variant), Label(C.MetricLabel, ExperimentMetricNames.Name(x.Metric)) })));

    private void Gauge(Meter meter, MetricDefinition definition,
        Func<ExperimentReport, IEnumerable<(double Value, KeyValuePair<string, object?>[] Labels)>> series) =>
        meter.GaugeOf(definition, () => Observe(series));

    private IEnumerable<Measurement<double>> Observe(Func<ExperimentReport, IEnumerable<(double Value, KeyValuePair<string, object?>[] Labels)>> series)
    {
        if (role is { IsDeriving: false })
        {
            yield break; // a replica that does not derive exposes no derived series (docs/collector/scale-out.md)
        }
        foreach (var tenant in registry.Tenants().Union(registry.Options.Definitions.Keys, StringComparer.Ordinal).Order(StringComparer.Ordinal))
        {
            foreach (var experiment in registry.Reports(tenant))
            {
                foreach (var (value, labels) in series(experiment))
                {
                    yield return new Measurement<double>(value,
                        [Label(C.TenantLabel, tenant), Label(C.ExperimentLabel, experiment.Experiment), .. labels]);
                }
            }
        }
    }

    private static KeyValuePair<string, object?> Label(string key, string value) => new(key, value);
}

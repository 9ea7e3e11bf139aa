using System.Diagnostics.Metrics;
using PerfOtel.Collector.Derived.Experiments;
using PerfOtel.Collector.Derived.Coordination;
using C = PerfOtel.Collector.Exposure.Metrics.CostMetricCatalog;

namespace PerfOtel.Collector.Exposure.Metrics;

/// <summary>The experiment gauges of <see cref="CostMetricCatalog"/>; values without samples are absent, not 0.</summary>
internal sealed class ExperimentMetrics
{
    private readonly ExperimentRegistry registry;
    private readonly DerivationRole? role;

    public ExperimentMetrics(ExperimentRegistry registry, IMeterFactory meterFactory, DerivationRole? role = null)
    {
        this.registry = registry;
        this.role = role;
        var meter = CostMeter.Create(meterFactory);
        Gauge(meter, C.ExperimentInvocations, (_, v) => v.Invocations);
        Gauge(meter, C.ExperimentSuccesses, (_, v) => v.Successes);
        Gauge(meter, C.ExperimentSuccessRatio, (_, v) => v.SuccessRate);
        Gauge(meter, C.ExperimentLatencyP95, (_, v) => v.LatencyP95Seconds);
        Gauge(meter, C.ExperimentCostPerInvocation, (_, v) => v.CostPerInvocationUsd);
        Gauge(meter, C.ExperimentQuality, (_, v) => v.MeanQuality);
        Gauge(meter, C.ExperimentAccuracy, (_, v) => v.MeanAccuracy);
        Gauge(meter, C.ExperimentPValue, (_, v) => v.PValueAgainstLeader);
        Gauge(meter, C.ExperimentWinner, (e, v) => e.Winner == v.Variant ? 1 : 0);
    }

    private void Gauge(Meter meter, CostMetricDefinition definition, Func<ExperimentReport, VariantReport, double?> value) =>
        meter.CreateObservableGauge(definition.Name, () => Observe(value), definition.Unit, definition.Description);

    private IEnumerable<Measurement<double>> Observe(Func<ExperimentReport, VariantReport, double?> value)
    {
        if (role is { IsDeriving: false })
        {
            yield break; // a replica that does not derive exposes no derived series (docs/collector/scale-out.md)
        }
        foreach (var tenant in registry.Tenants())
        {
            foreach (var experiment in registry.Reports(tenant))
            {
                foreach (var variant in experiment.Variants)
                {
                    if (value(experiment, variant) is { } v)
                    {
                        yield return new Measurement<double>(v,
                            new KeyValuePair<string, object?>(C.TenantLabel, tenant),
                            new KeyValuePair<string, object?>(C.ExperimentLabel, experiment.Experiment),
                            new KeyValuePair<string, object?>(C.VariantLabel, variant.Variant));
                    }
                }
            }
        }
    }
}

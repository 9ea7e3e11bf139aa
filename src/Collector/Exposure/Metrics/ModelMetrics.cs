using PerfOtel.Instrumentation.Conventions;
using System.Diagnostics.Metrics;
using PerfOtel.Collector.Derived.Models;
using PerfOtel.Collector.Derived.Coordination;
using PerfOtel.Collector.Telemetry;
using C = PerfOtel.Collector.Telemetry.CostMetricCatalog;

namespace PerfOtel.Collector.Exposure.Metrics;

/// <summary>
/// The model gauges of <see cref="CostMetricCatalog"/>, read from the windows at each collection. A value that cannot
/// be computed (no call, no priced invocation, no accuracy sample) is not observed: its series is absent, not 0.
/// </summary>
internal sealed class ModelMetrics
{
    private readonly ModelComparison comparison;
    private readonly DerivationRole? role;
    private volatile CachedSnapshot? cache;

    public ModelMetrics(ModelComparison comparison, IMeterFactory meterFactory, DerivationRole? role = null)
    {
        this.comparison = comparison;
        this.role = role;
        var meter = CostMeter.Create(meterFactory);
        Gauge(meter, C.ModelCalls, m => m.Calls > 0 ? m.Calls : null);
        Gauge(meter, C.ModelErrors, m => m.Calls > 0 ? m.Errors : null);
        Gauge(meter, C.ModelErrorRatio, m => m.ErrorRate);
        Gauge(meter, C.ModelLatencyP95, m => m.LatencyP95Seconds);
        Gauge(meter, C.ModelCostUsd, m => m.Calls > 0 ? m.CostUsd : null);
        Gauge(meter, C.ModelCostPerCall, m => m.CostPerCallUsd);
        Gauge(meter, C.ModelCostPerInvocation, m => m.CostPerInvocationUsd);
        Gauge(meter, C.ModelTokens, m => m.Calls > 0 ? m.Tokens : null);
        Gauge(meter, C.ModelUnpricedTokens, m => m.UnpricedTokens > 0 ? m.UnpricedTokens : null);
        Gauge(meter, C.ModelInvocations, m => m.Invocations > 0 ? m.Invocations : null);
        Gauge(meter, C.ModelSuccessRatio, m => m.SuccessRate);
        Gauge(meter, C.ModelAccuracy, m => m.Accuracy);
    }

    private void Gauge(Meter meter, MetricDefinition definition, Func<ModelStats, double?> value) =>
        meter.GaugeOf(definition, () => Observe(value));

    private IEnumerable<Measurement<double>> Observe(Func<ModelStats, double?> value)
    {
        if (role is { IsDeriving: false })
        {
            yield break; // a replica that does not derive exposes no derived series (docs/collector/scale-out.md)
        }
        foreach (var (tenant, window, model) in Snapshot())
        {
            if (value(model) is { } v)
            {
                yield return new Measurement<double>(v,
                    new KeyValuePair<string, object?>(C.TenantLabel, tenant),
                    new KeyValuePair<string, object?>(C.ProviderLabel, model.Provider),
                    new KeyValuePair<string, object?>(C.ModelLabel, model.Model),
                    new KeyValuePair<string, object?>(C.WindowLabel, window));
            }
        }
    }

    /// <summary>
    /// Every model of every tenant and window, computed once per collection rather than once per gauge: merging a
    /// window's buckets is the expensive part, and the twelve gauges of one scrape read the same state.
    /// </summary>
    private IReadOnlyList<(string Tenant, string Window, ModelStats Model)> Snapshot()
    {
        // Windows expire whole buckets of whole seconds, so the figures cannot change within a second of the clock.
        var key = (comparison.Version, comparison.Now.UtcTicks / TimeSpan.TicksPerSecond);
        if (cache is { } cached && cached.Key == key)
        {
            return cached.Rows;
        }
        var rows = new List<(string, string, ModelStats)>();
        foreach (var tenant in comparison.Tenants())
        {
            foreach (var window in comparison.Options.Windows)
            {
                rows.AddRange(comparison.Models(tenant, window).Select(m => (tenant, window.Name, m)));
            }
        }
        cache = new CachedSnapshot(key, rows);
        return rows;
    }

    private sealed record CachedSnapshot((long Version, long Second) Key, IReadOnlyList<(string, string, ModelStats)> Rows);
}

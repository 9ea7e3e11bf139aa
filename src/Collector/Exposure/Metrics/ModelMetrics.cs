using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Derived.Models;
using PerfOtel.Collector.Derived.Coordination;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Exporter;
using C = PerfOtel.Collector.Telemetry.CostMetricCatalog;

namespace PerfOtel.Collector.Exposure.Metrics;

/// <summary>
/// The model gauges of <see cref="CostMetricCatalog"/>, read from the windows at each scrape. A value that cannot
/// be computed (no call, no priced invocation, no accuracy sample) is not written: its series is absent, not 0.
/// </summary>
internal sealed class ModelMetrics(ModelComparison comparison, DerivationRole? role = null) : IPrometheusMetricProducer
{
    private static readonly (MetricDefinition Definition, Func<ModelStats, double?> Value)[] Gauges =
    [
        (C.ModelCalls, m => m.Calls > 0 ? m.Calls : null),
        (C.ModelErrors, m => m.Calls > 0 ? m.Errors : null),
        (C.ModelErrorRatio, m => m.ErrorRate),
        (C.ModelLatencyP95, m => m.LatencyP95Seconds),
        (C.ModelCostUsd, m => m.Calls > 0 ? m.CostUsd : null),
        (C.ModelCostPerCall, m => m.CostPerCallUsd),
        (C.ModelCostPerInvocation, m => m.CostPerInvocationUsd),
        (C.ModelTokens, m => m.Calls > 0 ? m.Tokens : null),
        (C.ModelUnpricedTokens, m => m.UnpricedTokens > 0 ? m.UnpricedTokens : null),
        (C.ModelInvocations, m => m.Invocations > 0 ? m.Invocations : null),
        (C.ModelSuccessRatio, m => m.SuccessRate),
        (C.ModelAccuracy, m => m.Accuracy),
    ];

    private volatile CachedSnapshot? cache;

    public void Produce(PrometheusProducerWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (role is { IsDeriving: false })
        {
            return; // a replica that does not derive exposes no derived series (docs/collector/scale-out.md)
        }
        var rows = Snapshot();
        if (rows.Count == 0)
        {
            return;
        }
        var labels = rows.Select(r => PrometheusLabels.Encode(new(C.TenantLabel, r.Tenant), new(C.ProviderLabel, r.Model.Provider),
            new(C.ModelLabel, r.Model.Model), new(C.WindowLabel, r.Window))).ToArray();
        foreach (var (definition, value) in Gauges)
        {
            writer.BeginFamily(CostFamilies.Of(definition));
            for (var i = 0; i < rows.Count; i++)
            {
                if (value(rows[i].Model) is { } v)
                {
                    writer.WriteGauge(labels[i], v);
                }
            }
        }
    }

    /// <summary>
    /// Every model of every tenant and window, computed once per scrape rather than once per gauge: merging a
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
        var rows = new List<(string Tenant, string Window, ModelStats Model)>();
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

    private sealed record CachedSnapshot((long Version, long Second) Key, IReadOnlyList<(string Tenant, string Window, ModelStats Model)> Rows);
}

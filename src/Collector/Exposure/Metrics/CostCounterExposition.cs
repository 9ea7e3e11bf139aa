using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Exporter;
using C = PerfOtel.Collector.Telemetry.CostMetricCatalog;

namespace PerfOtel.Collector.Exposure.Metrics;

/// <summary>
/// Writes the cost roll-up counters (<see cref="C.CostUsd"/>, <see cref="C.UnpricedTokens"/>, <see cref="C.CostCalls"/>)
/// into every scrape from <see cref="CostCounters"/>: cumulative since the process started (a restart is a counter reset,
/// which increase() and rate() handle), OpenMetrics <c>_created</c> when the series was first counted. A series exists
/// once it has been added to: the cost series only for priced calls, the unpriced-token series only for unpriced ones.
/// </summary>
internal sealed class CostCounterExposition(CostCounters counters) : IPrometheusMetricProducer
{
    public void Produce(PrometheusProducerWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var rows = counters.Snapshot();
        if (rows.Count == 0)
        {
            return;
        }
        var labels = new byte[rows.Count][];
        for (var i = 0; i < rows.Count; i++)
        {
            var key = rows[i].Key;
            labels[i] = key.Agent is null
                ? PrometheusLabels.Encode(new(C.TenantLabel, key.Tenant), new(C.ProviderLabel, key.Provider), new(C.ModelLabel, key.Model))
                : PrometheusLabels.Encode(new(C.TenantLabel, key.Tenant), new(C.AgentLabel, key.Agent),
                    new(C.ProviderLabel, key.Provider), new(C.ModelLabel, key.Model));
        }

        writer.BeginFamily(CostFamilies.Of(C.CostUsd));
        for (var i = 0; i < rows.Count; i++)
        {
            if (rows[i].Value.HasCost)
            {
                writer.WriteCounter(labels[i], rows[i].Value.CostUsd, rows[i].Value.Created);
            }
        }
        writer.BeginFamily(CostFamilies.Of(C.UnpricedTokens));
        for (var i = 0; i < rows.Count; i++)
        {
            if (rows[i].Value.HasUnpricedTokens)
            {
                writer.WriteCounter(labels[i], rows[i].Value.UnpricedTokens, rows[i].Value.Created);
            }
        }
        writer.BeginFamily(CostFamilies.Of(C.CostCalls));
        for (var i = 0; i < rows.Count; i++)
        {
            writer.WriteCounter(labels[i], rows[i].Value.Calls, rows[i].Value.Created);
        }
    }
}

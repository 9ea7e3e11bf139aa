using System.Diagnostics;
using System.Diagnostics.Metrics;
using PerfOtel.Collector.Telemetry;
using C = PerfOtel.Collector.Telemetry.CostMetricCatalog;

namespace PerfOtel.Collector.Derived.Cost;

/// <summary>
/// The cost roll-up counters of <see cref="CostMetricCatalog"/>, added to as calls are committed (recorded here, where the
/// numbers are made; the exporter exposes them).
/// </summary>
internal sealed class CostCounters
{
    private readonly Counter<double> costUsd;
    private readonly Counter<long> unpricedTokens;
    private readonly Counter<long> calls;

    public CostCounters(IMeterFactory meterFactory)
    {
        var meter = CostMeter.Create(meterFactory);
        costUsd = meter.CounterOf<double>(C.CostUsd);
        unpricedTokens = meter.CounterOf<long>(C.UnpricedTokens);
        calls = meter.CounterOf<long>(C.CostCalls);
    }

    public void Add(CostKey key, CostTotals figures)
    {
        var tags = new TagList
        {
            { C.TenantLabel, key.Tenant },
            { C.ProviderLabel, key.Provider },
            { C.ModelLabel, key.Model },
        };
        if (key.Agent is not null)
        {
            tags.Add(C.AgentLabel, key.Agent);
        }
        calls.Add(figures.Calls, tags);
        // Only what is known is added: an unpriced call moves the unpriced-token counter, not the cost counter, so
        // the cost series never silently includes a 0 for it.
        if (figures.PricedCalls > 0)
        {
            costUsd.Add(figures.CostUsd, tags);
        }
        if (figures.UnpricedTokens > 0)
        {
            unpricedTokens.Add(figures.UnpricedTokens, tags);
        }
    }
}

using PerfOtel.Collector.Derived.Kernel;
using C = PerfOtel.Collector.Telemetry.CostMetricCatalog;

namespace PerfOtel.Collector.Derived.Cost;

/// <summary>
/// The running totals behind the cost roll-up counters of <see cref="C"/> (<c>perfotel_cost_usd_total</c>,
/// <c>perfotel_cost_unpriced_tokens_total</c>, <c>perfotel_cost_calls_total</c>), added to as calls are committed:
/// recorded here, where the numbers are made; Exposure writes them into each scrape. One entry per (tenant, agent,
/// provider, model) that has had a call since the process started, so memory follows the series that exist (the
/// cardinality guard bounds them), not a preallocated limit.
/// </summary>
internal sealed class CostCounters(TimeProvider clock)
{
    private readonly Lock gate = new();
    private readonly Dictionary<CostKey, CostCounterValues> totals = [];

    public void Add(CostKey key, CostTotals figures)
    {
        lock (gate)
        {
            var values = totals.TryGetValue(key, out var known) ? known : new CostCounterValues { Created = clock.GetUtcNow() };
            values.Calls += figures.Calls;
            // Only what is known is added: an unpriced call moves the unpriced-token counter, not the cost counter, so
            // the cost series never silently includes a 0 for it.
            if (figures.PricedCalls > 0)
            {
                values.Cost.Add(figures.CostUsd);
                values.HasCost = true;
            }
            if (figures.UnpricedTokens > 0)
            {
                values.UnpricedTokens += figures.UnpricedTokens;
                values.HasUnpricedTokens = true;
            }
            totals[key] = values;
        }
    }

    /// <summary>Every series' totals at this moment, in a stable order (tenant, agent, provider, model).</summary>
    public IReadOnlyList<KeyValuePair<CostKey, CostCounterValues>> Snapshot()
    {
        KeyValuePair<CostKey, CostCounterValues>[] rows;
        lock (gate)
        {
            rows = [.. totals];
        }
        Array.Sort(rows, static (a, b) => Compare(a.Key, b.Key));
        return rows;
    }

    private static int Compare(CostKey a, CostKey b)
    {
        var order = string.CompareOrdinal(a.Tenant, b.Tenant);
        if (order == 0)
        {
            order = string.CompareOrdinal(a.Agent, b.Agent);
        }
        if (order == 0)
        {
            order = string.CompareOrdinal(a.Provider, b.Provider);
        }
        return order != 0 ? order : string.CompareOrdinal(a.Model, b.Model);
    }
}

/// <summary>The cumulative values of one (tenant, agent, provider, model), and when it was first counted.</summary>
internal struct CostCounterValues
{
    public DateTimeOffset Created;
    public long Calls;
    /// <summary>Order-free, so that a restart's replay and live commits give the same counter to the last bit.</summary>
    public OrderFreeSum Cost;

    public readonly double CostUsd => Cost.Value;
    public bool HasCost;
    public long UnpricedTokens;
    public bool HasUnpricedTokens;
}

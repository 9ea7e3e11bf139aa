using Microsoft.Extensions.Options;
using PerfOtel.Collector.Derived.Cardinality;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Cost;

/// <summary>One row of a cost roll-up.</summary>
public sealed record CostRow(string? Agent, string Provider, string Model, CostTotals Totals);

/// <summary>
/// Cost of the current UTC hour, day and month per (tenant, agent, provider, model), from committed provider calls.
/// Memory: one <see cref="PeriodAccumulator"/> per series, at most <see cref="CostOptions.MaxTenants"/> x
/// <see cref="CostOptions.MaxSeriesPerTenant"/> series. Thread-safe.
/// </summary>
public sealed class CostLedger
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, Dictionary<(string? Agent, string Provider, string Model), PeriodAccumulator>> tenants =
        new(StringComparer.Ordinal);
    private readonly TimeProvider clock;
    private readonly CostOptions options;
    private readonly CardinalityGuard? guard;

    /// <summary>Creates an empty ledger.</summary>
    /// <param name="clock">The clock.</param>
    /// <param name="options">The ledger's own caps (on (agent, provider, model) combinations and tenants).</param>
    /// <param name="guard">Folds tenants, agents and models beyond their limits into the overflow series; none: only the ledger's caps.</param>
    public CostLedger(TimeProvider clock, IOptions<CostOptions> options, CardinalityGuard? guard = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.clock = clock;
        this.options = options.Value;
        this.guard = guard;
    }

    /// <summary>The clock's current time.</summary>
    public DateTimeOffset Now => clock.GetUtcNow();

    /// <summary>Counts a committed provider call; returns the key it was counted under (after cardinality pooling).</summary>
    public CostKey Record(ProviderCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        var key = CostKeys.Of(call);
        if (guard is not null)
        {
            var (provider, model) = guard.Model(key.Tenant, key.Provider, key.Model);
            key = new CostKey(guard.Tenant(key.Tenant), guard.Agent(key.Tenant, key.Agent), provider, model);
        }
        var figures = CostTotals.Weighted(call);
        lock (gate)
        {
            if (!tenants.TryGetValue(key.Tenant, out var series))
            {
                if (tenants.Count >= options.MaxTenants)
                {
                    key = new CostKey(CostKeys.Other, CostKeys.Other, CostKeys.Other, CostKeys.Other);
                    if (!tenants.TryGetValue(key.Tenant, out series))
                    {
                        // The pool itself is allowed beyond the cap: one extra tenant.
                        series = [];
                        tenants[key.Tenant] = series;
                    }
                }
                else
                {
                    series = [];
                    tenants[key.Tenant] = series;
                }
            }
            var seriesKey = (key.Agent, key.Provider, key.Model);
            if (!series.TryGetValue(seriesKey, out var accumulator))
            {
                if (series.Count >= options.MaxSeriesPerTenant)
                {
                    key = key with { Agent = CostKeys.Other, Provider = CostKeys.Other, Model = CostKeys.Other };
                    seriesKey = (key.Agent, key.Provider, key.Model);
                    series.TryGetValue(seriesKey, out accumulator);
                }
                if (accumulator is null)
                {
                    accumulator = new PeriodAccumulator();
                    series[seriesKey] = accumulator;
                }
            }
            accumulator.Add(call.StartTime, Now, figures);
        }
        return key;
    }

    /// <summary>Tenants with any recorded cost, sorted.</summary>
    public IReadOnlyList<string> Tenants()
    {
        lock (gate)
        {
            return tenants.Keys.Order(StringComparer.Ordinal).ToList();
        }
    }

    /// <summary>The tenant's rows for the current period (rows with nothing in it are left out), by descending cost.</summary>
    public IReadOnlyList<CostRow> Rows(string tenant, CalendarPeriod period)
    {
        var now = Now;
        lock (gate)
        {
            if (!tenants.TryGetValue(tenant, out var series))
            {
                return [];
            }
            return series
                .Select(s => new CostRow(s.Key.Agent, s.Key.Provider, s.Key.Model, s.Value.Current(period, now)))
                .Where(r => r.Totals.Calls > 0)
                .OrderByDescending(r => r.Totals.CostUsd)
                .ThenBy(r => r.Agent, StringComparer.Ordinal)
                .ThenBy(r => r.Provider, StringComparer.Ordinal)
                .ThenBy(r => r.Model, StringComparer.Ordinal)
                .ToList();
        }
    }
}

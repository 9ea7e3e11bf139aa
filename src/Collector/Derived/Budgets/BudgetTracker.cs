using Microsoft.Extensions.Options;
using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Derived.Thresholds;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Budgets;

/// <summary>State of a budget against its limit.</summary>
public enum BudgetState
{
    /// <summary>Below the warning ratio.</summary>
    Ok,

    /// <summary>At or above the warning ratio, below the critical one.</summary>
    Warning,

    /// <summary>At or above the critical ratio.</summary>
    Critical,
}

/// <summary>One period's budget of one scope.</summary>
public sealed record BudgetPeriodStatus(
    CalendarPeriod Period,
    DateTimeOffset PeriodStart,
    DateTimeOffset PeriodEnd,
    double LimitUsd,
    double SpendUsd,
    double Utilization,
    BudgetState State,
    long UnpricedTokens);

/// <summary>Every budget of one scope, with the month's projection.</summary>
public sealed record BudgetStatus(
    BudgetScope Scope,
    IReadOnlyList<BudgetPeriodStatus> Periods,
    double MonthToDateSpendUsd,
    double ProjectedMonthSpendUsd);

/// <summary>
/// Spend of every configured budget scope in the current UTC hour, day and month. Only configured scopes are tracked,
/// so memory is bounded by the configuration: three totals per scope. A tenant-wide scope counts every call of the
/// tenant, an agent scope the calls made inside that agent's invocations. Thread-safe.
/// </summary>
public sealed class BudgetTracker
{
    private readonly Lock gate = new();
    private readonly Dictionary<BudgetScope, PeriodAccumulator> spend = [];
    private readonly HashSet<string> tenantsWithAgentBudgets = new(StringComparer.Ordinal);
    private readonly BudgetOptions options;
    private readonly ThresholdOptions thresholds;
    private readonly TimeProvider clock;

    /// <summary>Creates the tracker for the configured budgets, with the ratios of the thresholds.</summary>
    public BudgetTracker(IOptions<BudgetOptions> options, IOptions<ThresholdOptions> thresholds, TimeProvider clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(thresholds);
        this.options = options.Value;
        this.thresholds = thresholds.Value;
        this.clock = clock;
        foreach (var scope in this.options.Budgets.Keys)
        {
            spend[scope] = new PeriodAccumulator();
            if (scope.Agent is not null)
            {
                tenantsWithAgentBudgets.Add(scope.Tenant);
            }
        }
    }

    /// <summary>The configured budgets.</summary>
    public BudgetOptions Options => options;

    /// <summary>The warning and critical ratios of a tenant (<c>Thresholds[:Tenants:&lt;tenant&gt;]:BudgetWarningRatio|BudgetCriticalRatio</c>).</summary>
    public BudgetRatios RatiosFor(string tenant)
    {
        var set = thresholds.For(tenant);
        return new BudgetRatios(set.BudgetWarningRatio, set.BudgetCriticalRatio);
    }

    /// <summary>Counts a committed provider call against the budgets of its tenant and agent.</summary>
    public void Record(ProviderCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        var figures = CostTotals.Weighted(call);
        var now = clock.GetUtcNow();
        lock (gate)
        {
            if (spend.TryGetValue(new BudgetScope(call.Tenant, null), out var tenantWide))
            {
                tenantWide.Add(call.StartTime, now, figures);
            }
            if (call.AgentName is { Length: > 0 } agent && tenantsWithAgentBudgets.Contains(call.Tenant) &&
                spend.TryGetValue(new BudgetScope(call.Tenant, agent), out var agentScope))
            {
                agentScope.Add(call.StartTime, now, figures);
            }
        }
    }

    /// <summary>The status of every budget of a tenant: the tenant-wide one first, then agents by name.</summary>
    public IReadOnlyList<BudgetStatus> Statuses(string tenant)
    {
        var now = clock.GetUtcNow();
        var ratios = RatiosFor(tenant);
        var statuses = new List<BudgetStatus>();
        lock (gate)
        {
            foreach (var (scope, limits) in options.Budgets
                         .Where(b => b.Key.Tenant == tenant)
                         .OrderBy(b => b.Key.Agent is not null)
                         .ThenBy(b => b.Key.Agent, StringComparer.Ordinal))
            {
                statuses.Add(StatusOf(scope, limits, spend[scope], now, ratios));
            }
        }
        return statuses;
    }

    /// <summary>Every configured scope's status, for the gauges.</summary>
    public IReadOnlyList<BudgetStatus> AllStatuses() =>
        options.Tenants.Order(StringComparer.Ordinal).SelectMany(Statuses).ToList();

    /// <summary>Month-to-date spend divided by the elapsed fraction of the month (see <see cref="CalendarPeriods.ElapsedFractionOfMonth"/>).</summary>
    public static double ProjectMonth(double monthToDateUsd, DateTimeOffset now) =>
        monthToDateUsd / CalendarPeriods.ElapsedFractionOfMonth(now);

    /// <summary>The state of a utilisation against the ratios.</summary>
    public static BudgetState StateOf(double utilization, BudgetRatios ratios) =>
        utilization >= ratios.Critical ? BudgetState.Critical
        : utilization >= ratios.Warning ? BudgetState.Warning
        : BudgetState.Ok;

    private static BudgetStatus StatusOf(BudgetScope scope, BudgetLimits limits, PeriodAccumulator accumulator,
        DateTimeOffset now, BudgetRatios ratios)
    {
        var periods = new List<BudgetPeriodStatus>();
        foreach (var period in CalendarPeriods.All)
        {
            if (limits.For(period) is not { } limit)
            {
                continue;
            }
            var totals = accumulator.Current(period, now);
            var start = period.StartOf(now);
            var utilization = totals.CostUsd / limit;
            periods.Add(new BudgetPeriodStatus(period, start, period.EndOf(start), limit, totals.CostUsd, utilization,
                StateOf(utilization, ratios), totals.UnpricedTokens));
        }
        var monthToDate = accumulator.Current(CalendarPeriod.Monthly, now).CostUsd;
        return new BudgetStatus(scope, periods, monthToDate, ProjectMonth(monthToDate, now));
    }
}

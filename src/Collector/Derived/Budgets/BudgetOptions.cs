using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Derived.Budgets;

/// <summary>Who a budget is for: a whole tenant (<see cref="Agent"/> null) or one agent of it.</summary>
public readonly record struct BudgetScope(string Tenant, string? Agent);

/// <summary>The USD limits of one scope; null where no limit is set.</summary>
public sealed record BudgetLimits(double? HourlyUsd, double? DailyUsd, double? MonthlyUsd)
{
    /// <summary>The limit of a period, or null.</summary>
    public double? For(CalendarPeriod period) => period switch
    {
        CalendarPeriod.Hourly => HourlyUsd,
        CalendarPeriod.Daily => DailyUsd,
        _ => MonthlyUsd,
    };
}

/// <summary>The share of a limit at which a budget turns warning and critical.</summary>
public readonly record struct BudgetRatios(double Warning, double Critical);

/// <summary>
/// Budgets read from <c>Budgets:Tenants:&lt;tenant&gt;:HourlyUsd|DailyUsd|MonthlyUsd</c> and
/// <c>Budgets:Tenants:&lt;tenant&gt;:Agents:&lt;agent&gt;:HourlyUsd|DailyUsd|MonthlyUsd</c> by
/// <see cref="BudgetConfiguration.Read"/>, which also lists every problem; start-up fails on any. The warning and
/// critical ratios are the analytics thresholds' <c>BudgetWarningRatio</c> and <c>BudgetCriticalRatio</c>.
/// </summary>
public sealed class BudgetOptions
{
    /// <summary>Limits by scope.</summary>
    public Dictionary<BudgetScope, BudgetLimits> Budgets { get; } = [];

    /// <summary>Problems found while reading, each naming its setting.</summary>
    public List<string> Problems { get; } = [];

    /// <summary>Tenants with at least one budget.</summary>
    public IEnumerable<string> Tenants => Budgets.Keys.Select(s => s.Tenant).Distinct(StringComparer.Ordinal);
}

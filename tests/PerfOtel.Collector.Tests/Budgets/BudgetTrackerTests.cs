using Microsoft.Extensions.Options;
using PerfOtel.Collector.Tests.Cost;
using PerfOtel.Collector.Derived.Budgets;
using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Derived.Thresholds;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Tests.Budgets;

public class BudgetTrackerTests
{
    // November 2026 has 30 days; 16 November 00:00 UTC is exactly half of it.
    private static readonly DateTimeOffset MidNovember = new(2026, 11, 16, 0, 0, 0, TimeSpan.Zero);

    private static (BudgetTracker Tracker, ManualClock Clock) Tracker(DateTimeOffset now, params (BudgetScope Scope, BudgetLimits Limits)[] budgets)
    {
        var options = new BudgetOptions();
        foreach (var (scope, limits) in budgets)
        {
            options.Budgets[scope] = limits;
        }
        var clock = new ManualClock(now);
        return (new BudgetTracker(Options.Create(options), Options.Create(new ThresholdOptions()), clock), clock);
    }

    [Fact]
    public void ProjectedMonthSpendAtMidMonthIsTwiceTheMonthToDate()
    {
        // 120 USD spent from 1 November up to 16 November 00:00 = 15 of 30 days elapsed = 0.5 of the month:
        // projected = 120 / 0.5 = 240 USD.
        var (tracker, _) = Tracker(MidNovember, (new BudgetScope("default", null), new BudgetLimits(null, null, 300)));
        tracker.Record(CostRecords.Call(new DateTimeOffset(2026, 11, 2, 9, 0, 0, TimeSpan.Zero), 70));
        tracker.Record(CostRecords.Call(new DateTimeOffset(2026, 11, 15, 23, 59, 0, TimeSpan.Zero), 50));
        tracker.Record(CostRecords.Call(new DateTimeOffset(2026, 10, 31, 23, 59, 0, TimeSpan.Zero), 1000)); // October: not this month

        var status = Assert.Single(tracker.Statuses("default"));

        Assert.Equal(0.5, CalendarPeriods.ElapsedFractionOfMonth(MidNovember), 12);
        Assert.Equal(120, status.MonthToDateSpendUsd, 9);
        Assert.Equal(240, status.ProjectedMonthSpendUsd, 9);
        var monthly = Assert.Single(status.Periods);
        Assert.Equal(CalendarPeriod.Monthly, monthly.Period);
        Assert.Equal(0.4, monthly.Utilization, 12); // 120 / 300
        Assert.Equal(new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero), monthly.PeriodStart);
        Assert.Equal(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), monthly.PeriodEnd);
    }

    [Fact]
    public void FebruaryIsShorter()
    {
        // 28 days in February 2027: at 15 February 00:00, 14 of 28 days have elapsed, so 10 USD projects to 20 USD.
        var now = new DateTimeOffset(2027, 2, 15, 0, 0, 0, TimeSpan.Zero);

        Assert.Equal(0.5, CalendarPeriods.ElapsedFractionOfMonth(now), 12);
        Assert.Equal(20, BudgetTracker.ProjectMonth(10, now), 9);
        // In the first hour the elapsed time is floored at one hour of 672: 1 USD projects to 672 USD, not infinity.
        Assert.Equal(672, BudgetTracker.ProjectMonth(1, new DateTimeOffset(2027, 2, 1, 0, 0, 1, TimeSpan.Zero)), 9);
    }

    [Fact]
    public void UtilisationCrossesWarningAt80PercentAndCriticalAt100Percent()
    {
        // Daily limit 10 USD: 7.99 -> 0.799 ok; +0.01 -> 0.80 warning; 9.99 -> 0.999 warning; 10.00 -> 1.00 critical.
        var scope = new BudgetScope("default", null);
        var (tracker, _) = Tracker(MidNovember.AddHours(12), (scope, new BudgetLimits(null, 10, null)));
        BudgetPeriodStatus Daily() => Assert.Single(Assert.Single(tracker.Statuses("default")).Periods);

        tracker.Record(CostRecords.Call(MidNovember.AddHours(1), 7.99));
        Assert.Equal(0.799, Daily().Utilization, 12);
        Assert.Equal(BudgetState.Ok, Daily().State);

        tracker.Record(CostRecords.Call(MidNovember.AddHours(2), 0.01));
        Assert.Equal(0.80, Daily().Utilization, 12);
        Assert.Equal(BudgetState.Warning, Daily().State);

        tracker.Record(CostRecords.Call(MidNovember.AddHours(3), 1.99));
        Assert.Equal(0.999, Daily().Utilization, 12);
        Assert.Equal(BudgetState.Warning, Daily().State);

        tracker.Record(CostRecords.Call(MidNovember.AddHours(4), 0.01));
        Assert.Equal(1.0, Daily().Utilization, 12);
        Assert.Equal(BudgetState.Critical, Daily().State);
        Assert.Equal(10, Daily().SpendUsd, 12);
    }

    [Fact]
    public void StateBoundariesAreInclusive()
    {
        var ratios = new BudgetRatios(0.8, 1.0);

        Assert.Equal(BudgetState.Ok, BudgetTracker.StateOf(0.7999999, ratios));
        Assert.Equal(BudgetState.Warning, BudgetTracker.StateOf(0.8, ratios));
        Assert.Equal(BudgetState.Critical, BudgetTracker.StateOf(1.0, ratios));
        Assert.Equal(BudgetState.Critical, BudgetTracker.StateOf(3.5, ratios));
    }

    [Fact]
    public void PeriodsRollOverOnTheUtcCalendar()
    {
        var scope = new BudgetScope("default", null);
        var (tracker, clock) = Tracker(MidNovember.AddHours(10).AddMinutes(30), (scope, new BudgetLimits(5, 50, 500)));
        tracker.Record(CostRecords.Call(MidNovember.AddHours(10).AddMinutes(5), 4));
        tracker.Record(CostRecords.Call(MidNovember.AddHours(9).AddMinutes(55), 3)); // previous hour, same day

        double Spend(CalendarPeriod period) => Assert.Single(tracker.Statuses("default")).Periods.Single(p => p.Period == period).SpendUsd;
        Assert.Equal(4, Spend(CalendarPeriod.Hourly));
        Assert.Equal(7, Spend(CalendarPeriod.Daily));

        clock.Set(MidNovember.AddHours(11)); // the next hour: nothing spent in it yet
        Assert.Equal(0, Spend(CalendarPeriod.Hourly));
        Assert.Equal(7, Spend(CalendarPeriod.Daily));

        clock.Set(MidNovember.AddDays(1)); // the next day, same month
        Assert.Equal(0, Spend(CalendarPeriod.Daily));
        Assert.Equal(7, Spend(CalendarPeriod.Monthly));
    }

    [Fact]
    public void AgentBudgetsCountOnlyThatAgentAndTenantBudgetsCountEveryCall()
    {
        var (tracker, _) = Tracker(MidNovember,
            (new BudgetScope("default", null), new BudgetLimits(null, 100, null)),
            (new BudgetScope("default", "planner"), new BudgetLimits(null, 10, null)));
        tracker.Record(CostRecords.Call(MidNovember, 6, agent: "planner"));
        tracker.Record(CostRecords.Call(MidNovember, 3, agent: "writer"));
        tracker.Record(CostRecords.Call(MidNovember, 1, agent: null));
        tracker.Record(CostRecords.Call(MidNovember, 40, tenant: "acme"));
        tracker.Record(CostRecords.Call(MidNovember, null, unpricedTokens: 500, agent: "planner"));

        var statuses = tracker.Statuses("default");

        Assert.Equal([null, "planner"], statuses.Select(s => s.Scope.Agent));
        Assert.Equal(10, statuses[0].Periods.Single().SpendUsd, 12);
        Assert.Equal(6, statuses[1].Periods.Single().SpendUsd, 12);
        // The unpriced call is surfaced, not counted as 0 USD.
        Assert.Equal(500, statuses[1].Periods.Single().UnpricedTokens);
        Assert.Empty(tracker.Statuses("acme"));
    }
}

using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Tests.Cost;
using PerfOtel.Testing;
using PerfOtel.Collector.Derived.Budgets;
using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Tests.Budgets;

public class BudgetMetricsTests
{
    private static readonly DateTimeOffset MidNovember = new(2026, 11, 16, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task GaugesCarryTenantAgentAndPeriod_TenantWideBudgetsHaveNoAgent()
    {
        await using var harness = new CostHarness(MidNovember, new Dictionary<string, string?>
        {
            ["Budgets:Tenants:default:DailyUsd"] = "10",
            ["Budgets:Tenants:default:MonthlyUsd"] = "100",
            ["Budgets:Tenants:default:Agents:planner:HourlyUsd"] = "2",
        });
        await harness.StartAsync();
        // 8.5 USD today by the planner in the current hour, 1.5 USD by the writer: tenant daily 10 / 10 = 1.0,
        // tenant monthly 10 / 100 = 0.1, planner hourly 8.5 / 2 = 4.25.
        harness.Commit(CostRecords.Call(MidNovember, 8.5, agent: "planner"), CostRecords.Call(MidNovember, 1.5, agent: "writer"));

        var all = harness.Metrics.Collect();
        ExportedMetric Metric(MetricDefinition definition) => all.Single(m => m.Name == definition.Name);
        static double Value(ExportedMetric metric, string? agent, string period) => metric.Points.Single(p =>
            (agent is null ? !p.Tags.ContainsKey("agent") : Equals(p.Tags.GetValueOrDefault("agent"), agent)) &&
            Equals(p.Tags["period"], period)).Value;

        var utilization = Metric(CostMetricCatalog.BudgetUtilization);
        Assert.Equal("1", utilization.Unit);
        Assert.Equal(3, utilization.Points.Count);
        Assert.All(utilization.Points, p => Assert.Equal("default", p.Tags["tenant"]));
        Assert.Equal(1.0, Value(utilization, null, "daily"), 12);
        Assert.Equal(0.1, Value(utilization, null, "monthly"), 12);
        Assert.Equal(4.25, Value(utilization, "planner", "hourly"), 12);
        Assert.Equal(8.5, Value(Metric(CostMetricCatalog.BudgetSpend), "planner", "hourly"), 12);
        Assert.Equal(100, Value(Metric(CostMetricCatalog.BudgetLimit), null, "monthly"), 12);

        // Mid-month: 10 USD month-to-date / 0.5 = 20 USD for the tenant; 8.5 / 0.5 = 17 USD for the planner.
        var projected = Metric(CostMetricCatalog.BudgetProjectedMonthSpend);
        Assert.Equal(20, projected.Points.Single(p => !p.Tags.ContainsKey("agent")).Value, 9);
        Assert.Equal(17, projected.Points.Single(p => Equals(p.Tags.GetValueOrDefault("agent"), "planner")).Value, 9);
    }

    [Fact]
    public async Task WarningAndCriticalRatiosComeFromTheThresholdsPerTenant()
    {
        // Both tenants spend 6 of a daily 10 USD (0.6): ok under the default 0.8, warning for acme whose
        // Thresholds:Tenants:acme:BudgetWarningRatio is 0.5.
        await using var harness = new CostHarness(MidNovember, new Dictionary<string, string?>
        {
            ["Budgets:Tenants:default:DailyUsd"] = "10",
            ["Budgets:Tenants:acme:DailyUsd"] = "10",
            ["Thresholds:Tenants:acme:BudgetWarningRatio"] = "0.5",
        });
        await harness.StartAsync();
        harness.Commit(CostRecords.Call(MidNovember, 6), CostRecords.Call(MidNovember, 6, tenant: "acme"));

        BudgetPeriodStatus Daily(string tenant) => Assert.Single(Assert.Single(harness.Budgets.Statuses(tenant)).Periods);

        Assert.Equal(new BudgetRatios(0.8, 1.0), harness.Budgets.RatiosFor("default"));
        Assert.Equal(new BudgetRatios(0.5, 1.0), harness.Budgets.RatiosFor("acme"));
        Assert.Equal(BudgetState.Ok, Daily("default").State);
        Assert.Equal(BudgetState.Warning, Daily("acme").State);
        Assert.Equal(CalendarPeriod.Daily, Daily("acme").Period);
    }
}

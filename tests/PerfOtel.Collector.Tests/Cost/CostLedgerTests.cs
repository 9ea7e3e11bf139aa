using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Tests.Cost;

public class CostLedgerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 16, 12, 30, 0, TimeSpan.Zero);

    [Fact]
    public async Task CostIsRolledUpPerTenantAgentProviderAndModel_UnpricedTokensAreSurfacedNotCostedAtZero()
    {
        await using var harness = new CostHarness(Now);
        await harness.StartAsync();
        harness.Commit(
            CostRecords.Call(Now.AddMinutes(-1), 0.50, "gpt-4o", agent: "planner"),
            CostRecords.Call(Now.AddMinutes(-2), 0.25, "gpt-4o", agent: "planner"),
            CostRecords.Call(Now.AddMinutes(-3), 1.00, "claude-sonnet-4-5", "anthropic", agent: "writer"),
            CostRecords.Call(Now.AddMinutes(-4), null, "my-finetune", agent: null, unpricedTokens: 300, input: 200, output: 100),
            CostRecords.Call(Now.AddMinutes(-5), 9.00, "gpt-4o", tenant: "acme"));
        harness.Commit(CostRecords.Call(Now.AddHours(-2), 2.00, "gpt-4o", agent: "planner")); // earlier today, not this hour

        var hourly = harness.Ledger.Rows("default", CalendarPeriod.Hourly);
        Assert.Equal(
            [("writer", "anthropic", "claude-sonnet-4-5", 1.00, 0L, 1L), ("planner", "openai", "gpt-4o", 0.75, 0L, 2L),
             (null, "openai", "my-finetune", 0.0, 300L, 1L)],
            hourly.Select(r => (r.Agent, r.Provider, r.Model, Math.Round(r.Totals.CostUsd, 9), r.Totals.UnpricedTokens, r.Totals.Calls)));
        Assert.Equal(0, hourly[2].Totals.PricedCalls);
        Assert.Equal(2.75, harness.Ledger.Rows("default", CalendarPeriod.Daily).Single(r => r.Agent == "planner").Totals.CostUsd, 9);
        Assert.Equal(9.00, harness.Ledger.Rows("acme", CalendarPeriod.Monthly).Single().Totals.CostUsd, 9);

        var all = harness.Metrics.Collect();
        var cost = all.Single(m => m.Name == CostMetricCatalog.CostUsd.Name);
        var unpriced = all.Single(m => m.Name == CostMetricCatalog.UnpricedTokens.Name);
        Assert.Equal(2.75, cost.Points.Single(p => Equals(p.Tags["tenant"], "default") &&
            Equals(p.Tags.GetValueOrDefault("agent"), "planner") && Equals(p.Tags["model"], "gpt-4o")).Value, 9);
        // The unpriced call moves only the unpriced-token counter: there is no cost series claiming 0 USD for it.
        Assert.DoesNotContain(cost.Points, p => Equals(p.Tags["model"], "my-finetune"));
        var finetune = Assert.Single(unpriced.Points);
        Assert.Equal(300, finetune.Value);
        Assert.False(finetune.Tags.ContainsKey("agent"));
        Assert.Equal(6, all.Single(m => m.Name == CostMetricCatalog.CostCalls.Name).Points.Sum(p => p.Value));
    }

    [Fact]
    public async Task SeriesBeyondTheCapArePooledSoTotalsStayRight()
    {
        await using var harness = new CostHarness(Now, new Dictionary<string, string?> { ["Cost:MaxSeriesPerTenant"] = "2" });
        await harness.StartAsync();
        harness.Commit(
            CostRecords.Call(Now, 1, "a"), CostRecords.Call(Now, 2, "b"), CostRecords.Call(Now, 4, "c"), CostRecords.Call(Now, 8, "d"));

        var rows = harness.Ledger.Rows("default", CalendarPeriod.Daily);

        Assert.Equal(3, rows.Count);
        Assert.Equal(12, rows.Single(r => r.Model == CostKeys.Other).Totals.CostUsd, 9);
        Assert.Equal(15, rows.Sum(r => r.Totals.CostUsd), 9);
    }
}

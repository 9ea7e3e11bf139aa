using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Tests.Cost;

public class CostMetricCatalogTests
{
    // That every PrometheusName follows from the name and unit by the exporter's rule is checked for every catalog at
    // once (CatalogCheckTests.Catalog_PrometheusNamesFollowFromTheOpenTelemetryNamesAndUnits).

    [Fact]
    public void TheBudgetNamesAreExactlyTheOnesRulesAndDashboardsUse()
    {
        Assert.Equal("perfotel_budget_spend_usd", CostMetricCatalog.BudgetSpend.PrometheusName);
        Assert.Equal("perfotel_budget_limit_usd", CostMetricCatalog.BudgetLimit.PrometheusName);
        Assert.Equal("perfotel_budget_utilization_ratio", CostMetricCatalog.BudgetUtilization.PrometheusName);
        Assert.Equal("perfotel_budget_projected_month_spend_usd", CostMetricCatalog.BudgetProjectedMonthSpend.PrometheusName);
        Assert.Equal("perfotel_cost_usd_total", CostMetricCatalog.CostUsd.PrometheusName);
        Assert.Equal("perfotel_cost_unpriced_tokens_total", CostMetricCatalog.UnpricedTokens.PrometheusName);
        Assert.Equal(["tenant", "agent", "period"], CostMetricCatalog.BudgetUtilization.Attributes);
    }

    [Fact]
    public void NamesAreUniqueAndPrefixed()
    {
        Assert.Equal(CostMetricCatalog.All.Count, CostMetricCatalog.All.Select(d => d.PrometheusName).Distinct().Count());
        Assert.All(CostMetricCatalog.All, d => Assert.Matches("^perfotel_(cost|budget|model|experiment)_[a-z0-9_]+$", d.PrometheusName));
    }
}

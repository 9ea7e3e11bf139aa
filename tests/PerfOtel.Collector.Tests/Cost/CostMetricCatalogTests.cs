using PerfOtel.Instrumentation.Conventions;
using System.Text.RegularExpressions;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Tests.Cost;

public partial class CostMetricCatalogTests
{
    /// <summary>
    /// The OpenTelemetry-to-Prometheus rules (specification "Prometheus and OpenMetrics compatibility"): invalid
    /// characters become '_', annotation units add nothing, unit "1" adds "_ratio" to gauges, "s" adds "_seconds", and
    /// monotonic counters get "_total".
    /// </summary>
    private static string PrometheusNameOf(MetricDefinition definition)
    {
        var name = InvalidCharacters().Replace(definition.Name, "_");
        var unit = AnnotationUnit().Replace(definition.Unit, "") switch
        {
            "" => "",
            "1" => definition.Kind == MetricInstrumentKind.Gauge ? "ratio" : "",
            "s" => "seconds",
            var other => other,
        };
        if (unit.Length > 0 && !name.Split('_').Contains(unit))
        {
            name += "_" + unit;
        }
        return definition.Kind == MetricInstrumentKind.Counter ? name + "_total" : name;
    }

    [Fact]
    public void EveryPrometheusNameFollowsFromTheOpenTelemetryNameAndUnit()
    {
        Assert.All(CostMetricCatalog.All, d => Assert.Equal(d.PrometheusName, PrometheusNameOf(d)));
    }

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

    [GeneratedRegex("[^a-zA-Z0-9_:]+")]
    private static partial Regex InvalidCharacters();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex AnnotationUnit();
}

using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Tests.Analytics;

public class MetricCatalogTests
{
    // The names issue 5 fixes (rules and dashboards depend on them).
    private static readonly string[] IssueNames =
    [
        "perfotel_agent_health_score", "perfotel_agent_success_ratio", "perfotel_agent_error_ratio",
        "perfotel_agent_latency_p95_seconds", "perfotel_agent_accuracy", "perfotel_agent_calibration_error",
        "perfotel_agent_calibration_max_error", "perfotel_agent_brier_score", "perfotel_agent_overconfidence",
        "perfotel_agent_reliability_score", "perfotel_agent_efficiency_score", "perfotel_agent_specialization_score",
        "perfotel_agent_anomaly_score", "perfotel_agent_trend", "perfotel_agent_calibration_bin_success_ratio",
        "perfotel_agent_calibration_bin_confidence", "perfotel_agent_calibration_bin_samples", "perfotel_tenant_health_score",
    ];

    [Fact]
    public void Every_issue_name_is_in_the_catalog()
    {
        var names = AnalyticsMetricCatalog.All.Select(d => d.PrometheusName).ToHashSet();
        Assert.All(IssueNames, name => Assert.Contains(name, names));
    }

    // That every PrometheusName follows from the name and unit by the exporter's rule is checked for every catalog at
    // once (CatalogCheckTests.Catalog_PrometheusNamesFollowFromTheOpenTelemetryNamesAndUnits, Alerting tests).

    [Fact]
    public void Names_are_unique_and_every_metric_has_tenant_and_window()
    {
        Assert.Equal(AnalyticsMetricCatalog.All.Count, AnalyticsMetricCatalog.All.Select(d => d.PrometheusName).Distinct().Count());
        Assert.All(AnalyticsMetricCatalog.All, d =>
        {
            Assert.Contains("tenant", d.Attributes);
            // When an agent was last seen does not depend on a window.
            if (d != AnalyticsMetricCatalog.AgentLastSeen)
            {
                Assert.Contains("window", d.Attributes);
            }
            Assert.False(string.IsNullOrWhiteSpace(d.Description));
        });
    }
}

using PerfOtel.Testing;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Alerting.Tests;

/// <summary>
/// The table of collector self-metrics (docs/collector/metrics.md) lists every one the collector declares, and no other.
/// </summary>
public sealed class CollectorSelfMetricsReadmeTests
{
    private const string Page = "docs/collector/metrics.md";
    private const string TableHeading = "**Self-metrics** (meter `PerfOtel.Collector`";

    [Fact]
    public void Readme_self_metrics_table_matches_the_collector_catalog()
    {
        var page = File.ReadAllText(RepoPaths.Combine(Page));
        var start = page.IndexOf(TableHeading, StringComparison.Ordinal);
        Assert.True(start >= 0, $"{Page} has no table headed '{TableHeading}'");
        var documented = page[start..].Split('\n').Skip(1).SkipWhile(l => !l.StartsWith('|')).TakeWhile(l => l.StartsWith('|'))
            .Skip(2)
            .Select(l => l.Split('`')[1])
            .Order(StringComparer.Ordinal)
            .ToList();

        var declared = SelfMetricCatalog.All.Select(d => d.PrometheusName).Order(StringComparer.Ordinal).ToList();

        Assert.Equal(declared, documented);
    }
}

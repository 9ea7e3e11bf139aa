using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Cost;

/// <summary>
/// The metric tables of docs/collector/cost-and-budgets.md (cost, budget and model families) and
/// docs/collector/experiments.md (experiment families), read in that order, list exactly <see cref="CostMetricCatalog"/>.
/// </summary>
public class CostReadmeTests
{
    private static readonly string[] Pages = ["docs/collector/cost-and-budgets.md", "docs/collector/experiments.md"];

    [Fact]
    public void TheReadmeMetricTableListsExactlyTheCatalog()
    {
        var rows = Pages.SelectMany(MetricRows).ToList();

        var expected = CostMetricCatalog.All.Select(d => (d.PrometheusName, d.Name,
            d.Kind == CostInstrumentKind.Counter ? "counter" : "gauge", d.Unit, string.Join(", ", d.Labels))).ToList();
        Assert.Equal(expected, rows);
    }

    private static IEnumerable<(string Prometheus, string OpenTelemetry, string Instrument, string Unit, string Labels)> MetricRows(string page)
    {
        var text = File.ReadAllText(RepoPaths.Combine(page));
        var start = text.IndexOf("\n## Metrics\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"{page} has no '## Metrics' section");
        var end = text.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var rows = text[start..(end < 0 ? text.Length : end)].Split('\n')
            .Where(line => line.StartsWith("| `perfotel_", StringComparison.Ordinal))
            .Select(line => line.Split('|', StringSplitOptions.TrimEntries))
            .Select(cells => (Prometheus: cells[1].Trim('`'), OpenTelemetry: cells[2].Trim('`'), Instrument: cells[3],
                Unit: cells[4].Trim('`'), Labels: cells[5]))
            .ToList();
        Assert.True(rows.Count > 0, $"{page} has no metric rows under '## Metrics'");
        return rows;
    }
}

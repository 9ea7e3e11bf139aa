using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;
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
            d.Kind switch { MetricInstrumentKind.Counter => "counter", MetricInstrumentKind.Histogram => "histogram", _ => "gauge" }, d.Unit, string.Join(", ", d.Attributes))).ToList();
        Assert.Equal(expected, rows);
    }

    private static IEnumerable<(string Prometheus, string OpenTelemetry, string Instrument, string Unit, string Labels)> MetricRows(string page)
    {
        var text = File.ReadAllText(RepoPaths.Combine(page));
        var start = text.IndexOf("\n## Metrics\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"{page} has no '## Metrics' section");
        var end = text.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var section = text[start..(end < 0 ? text.Length : end)].Split('\n');
        var header = Array.FindIndex(section, l => l.StartsWith("| Prometheus | OpenTelemetry | instrument | unit | labels | meaning |", StringComparison.Ordinal));
        Assert.True(header >= 0, $"{page} has no metric table under '## Metrics'");
        // The rows right under the header and its separator, up to the first line that is not a row: a blank line inside
        // the table would end it there (and break its rendering), so the rows after it count as missing.
        var rows = section.Skip(header + 2).TakeWhile(line => line.StartsWith('|'))
            .Select(line => line.Split('|', StringSplitOptions.TrimEntries))
            .Select(cells => (Prometheus: cells[1].Trim('`'), OpenTelemetry: cells[2].Trim('`'), Instrument: cells[3],
                Unit: cells[4].Trim('`'), Labels: cells[5]))
            .ToList();
        Assert.True(rows.Count > 0, $"{page} has no metric rows under '## Metrics'");
        return rows;
    }
}

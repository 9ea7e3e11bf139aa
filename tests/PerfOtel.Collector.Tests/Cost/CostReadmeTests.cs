using PerfOtel.Testing;
using PerfOtel.Collector.Exposure.Metrics;

namespace PerfOtel.Collector.Tests.Cost;

public class CostReadmeTests
{
    private const string Heading = "### Cost, budgets, models and experiments";

    [Fact]
    public void TheReadmeMetricTableListsExactlyTheCatalog()
    {
        var readme = File.ReadAllText(RepoPaths.Combine("README.md"));
        var start = readme.IndexOf(Heading, StringComparison.Ordinal);
        Assert.True(start >= 0, $"README.md has no '{Heading}' section");
        var end = readme.IndexOf("<!-- END collector -->", start, StringComparison.Ordinal);
        var rows = readme[start..end].Split('\n')
            .Where(line => line.StartsWith("| `perfotel_", StringComparison.Ordinal))
            .Select(line => line.Split('|', StringSplitOptions.TrimEntries))
            .Select(cells => (Prometheus: cells[1].Trim('`'), OpenTelemetry: cells[2].Trim('`'), Instrument: cells[3],
                Unit: cells[4].Trim('`'), Labels: cells[5]))
            .ToList();

        var expected = CostMetricCatalog.All.Select(d => (d.PrometheusName, d.Name,
            d.Kind == CostInstrumentKind.Counter ? "counter" : "gauge", d.Unit, string.Join(", ", d.Labels))).ToList();
        Assert.Equal(expected, rows);
    }
}

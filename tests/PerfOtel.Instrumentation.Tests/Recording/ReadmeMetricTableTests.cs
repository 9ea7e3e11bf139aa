using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Testing;

namespace PerfOtel.Instrumentation.Tests.Recording;

/// <summary>The package README's metric table (src/Instrumentation/README.md, "Metrics") matches the catalog row for row.</summary>
public class ReadmeMetricTableTests
{
    private const string Page = "src/Instrumentation/README.md";

    [Fact]
    public void The_readme_metric_table_matches_the_catalog_row_for_row()
    {
        var readme = File.ReadAllText(RepoPaths.Combine(Page));
        var start = readme.IndexOf("\n## Metrics\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"{Page} has no '## Metrics' section");
        var end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        var section = readme[start..(end < 0 ? readme.Length : end)].Split('\n');

        var header = Array.FindIndex(section, l => l.StartsWith("| Metric | Units | Instrument | Value type | Attributes | Prometheus name |", StringComparison.Ordinal));
        Assert.True(header >= 0, $"The metric table header is missing from {Page}");
        var rows = section.Skip(header + 2).TakeWhile(l => l.StartsWith('|'))
            .Select(l => l.Trim().Trim('|').Split('|').Select(c => c.Trim()).ToArray())
            .ToList();

        Assert.Equal(MetricCatalog.All.Select(d => d.Name), rows.Select(r => Unquote(r[0])));
        foreach (var (definition, row) in MetricCatalog.All.Zip(rows))
        {
            Assert.Equal(6, row.Length);
            Assert.Equal(definition.Unit, Unquote(row[1]));
            Assert.Equal(definition.Kind.ToString(), row[2]);
            Assert.Equal(definition.ValueType, row[3]);
            Assert.Equal(definition.Attributes, row[4].Split(',').Select(a => Unquote(a.Trim())));
            Assert.Equal(definition.PrometheusName, Unquote(row[5]));
        }
    }

    private static string Unquote(string cell) => cell.Trim('`');
}

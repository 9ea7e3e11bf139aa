using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Testing;

namespace PerfOtel.Instrumentation.Tests.Recording;

public class ReadmeMetricTableTests
{
    [Fact]
    public void The_readme_metric_table_matches_the_catalog_row_for_row()
    {
        var readme = File.ReadAllText(RepoPaths.Combine("README.md"));
        var start = readme.IndexOf("<!-- BEGIN instrumentation -->", StringComparison.Ordinal);
        var end = readme.IndexOf("<!-- END instrumentation -->", StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "README.md lacks the instrumentation section markers");
        var section = readme[start..end].Split('\n');

        var header = Array.FindIndex(section, l => l.StartsWith("| Metric | Units | Instrument | Value type | Attributes | Prometheus name |", StringComparison.Ordinal));
        Assert.True(header >= 0, "The metric table header is missing");
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

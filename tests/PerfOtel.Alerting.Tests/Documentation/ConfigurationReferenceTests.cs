using System.Reflection;
using PerfOtel.Collector.Hosting;
using PerfOtel.Testing;

namespace PerfOtel.Alerting.Tests.Documentation;

/// <summary>
/// The configuration reference (docs/collector/configuration.md, "Sections") lists every configuration section the
/// collector reads, so a new section cannot ship undocumented, and no section the code no longer has.
/// </summary>
public sealed class ConfigurationReferenceTests
{
    private const string Page = "docs/collector/configuration.md";

    /// <summary>Rows for settings the host reads itself, not through a <c>SectionName</c> of PerfOtel's.</summary>
    private static readonly string[] HostSettings = ["urls", "Logging"];

    [Fact]
    public void The_configuration_reference_lists_every_section_the_collector_declares()
    {
        var declared = typeof(CollectorConfiguration).Assembly.GetTypes()
            .Select(t => t.GetField("SectionName", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
            .Where(f => f is { IsLiteral: true } && f.FieldType == typeof(string))
            .Select(f => (string)f!.GetRawConstantValue()!)
            .Concat(HostSettings)
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.Equal(declared, DocumentedSections().Order(StringComparer.Ordinal));
    }

    private static List<string> DocumentedSections()
    {
        var lines = File.ReadAllLines(RepoPaths.Combine(Page));
        var heading = Array.IndexOf(lines, "## Sections");
        Assert.True(heading >= 0, $"{Page} has no '## Sections' heading");
        var header = Array.FindIndex(lines, heading, l => l.StartsWith("| section |", StringComparison.Ordinal));
        Assert.True(header >= 0, $"{Page} has no table under '## Sections'");
        return lines.Skip(header + 2).TakeWhile(l => l.StartsWith('|'))
            .Select(l => l.Split('|', StringSplitOptions.TrimEntries)[1].Trim('`'))
            .ToList();
    }
}

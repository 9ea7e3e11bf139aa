using System.Reflection;
using System.Text.RegularExpressions;
using PerfOtel.Collector.Receiving.Mapping;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Producers;

/// <summary>The documented table of foreign attributes is the code's list: one source of truth, checked both ways.</summary>
public sealed partial class ForeignConventionsDocTests
{
    private static readonly Type[] ForeignNameTypes =
    [
        typeof(LegacyGenAiAttributes),
        typeof(RenamedGenAiAttributes),
        typeof(LegacyGenAiOperations),
        typeof(OpenLlmetryAttributes),
        typeof(OpenInferenceAttributes),
        typeof(SamplingAttributes),
    ];

    [Fact]
    public void Table_ListsExactlyTheForeignNamesTheMapperReads()
    {
        var inCode = ForeignNameTypes.SelectMany(Constants)
            // Deprecated names of the conventions themselves are spelled with the current ones.
            .Concat(typeof(GenAiAttributes).GetFields(BindingFlags.Public | BindingFlags.Static)
                .Where(f => f.IsLiteral && f.Name.EndsWith("Deprecated", StringComparison.Ordinal))
                .Select(f => (string)f.GetRawConstantValue()!))
            .ToHashSet(StringComparer.Ordinal);

        var page = File.ReadAllText(RepoPaths.Combine("docs", "collector", "foreign-conventions.md"));
        var section = page[page.IndexOf("## Foreign attributes the collector reads", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 10, StringComparison.Ordinal)];
        var inDocs = TableRow().Matches(section).Select(m => m.Groups["name"].Value).ToList();

        Assert.Equal(inDocs.Count, inDocs.Distinct(StringComparer.Ordinal).Count());
        Assert.Empty(inCode.Except(inDocs));
        Assert.Empty(inDocs.Except(inCode));
    }

    private static IEnumerable<string> Constants(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!);

    [GeneratedRegex(@"^\| `(?<name>[^`]+)`", RegexOptions.Multiline)]
    private static partial Regex TableRow();
}

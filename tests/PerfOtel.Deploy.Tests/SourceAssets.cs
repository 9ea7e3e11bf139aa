using PerfOtel.Testing;
using YamlDotNet.RepresentationModel;

namespace PerfOtel.Deploy.Tests;

/// <summary>The rules and dashboards as the repository keeps them (the chart carries copies).</summary>
internal static class SourceAssets
{
    public static string RulesDirectory => RepoPaths.Combine("alerting", "prometheus-rules");

    public static string DashboardsDirectory => RepoPaths.Combine("dashboards", "grafana");

    public static IReadOnlyList<string> RuleFiles() =>
        Directory.Exists(RulesDirectory) ? Directory.GetFiles(RulesDirectory, "*.rules.yaml").Order(StringComparer.Ordinal).ToList() : [];

    public static IReadOnlyList<string> DashboardFiles() =>
        Directory.Exists(DashboardsDirectory) ? Directory.GetFiles(DashboardsDirectory, "*.json").Order(StringComparer.Ordinal).ToList() : [];

    public static int RuleGroupCount() => RuleFiles().Sum(f =>
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(f)));
        return ((YamlSequenceNode)((YamlMappingNode)stream.Documents[0].RootNode).Children[new YamlScalarNode("groups")]).Children.Count;
    });
}

using PerfOtel.Testing;

namespace PerfOtel.Alerting.Tests.Assets;

/// <summary>Where the rules, their promtool tests, the runbook, the Alertmanager example and the dashboards live.</summary>
internal static class AlertingAssets
{
    public static string RulesDirectory => RepoPaths.Combine("alerting", "prometheus-rules");

    public static string RuleTestsDirectory => Path.Combine(RulesDirectory, "tests");

    public static string Runbook => Path.Combine(RulesDirectory, "runbook.md");

    public static string AlertmanagerConfig => RepoPaths.Combine("alerting", "alertmanager", "alertmanager.yml");

    public static string DashboardsDirectory => RepoPaths.Combine("dashboards", "grafana");

    public static IReadOnlyList<string> RuleFiles() => Files(RulesDirectory, "*.rules.yaml");

    public static IReadOnlyList<string> RuleTestFiles() => Files(RuleTestsDirectory, "*.test.yaml");

    public static IReadOnlyList<string> DashboardFiles() => Files(DashboardsDirectory, "*.json");

    private static List<string> Files(string directory, string pattern)
    {
        var files = Directory.GetFiles(directory, pattern).Order(StringComparer.Ordinal).ToList();
        Assert.True(files.Count > 0, $"no {pattern} files in {directory}");
        return files;
    }
}

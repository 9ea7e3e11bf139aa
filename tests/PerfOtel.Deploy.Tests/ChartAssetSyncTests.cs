namespace PerfOtel.Deploy.Tests;

/// <summary>
/// Helm reads only files inside the chart, so it carries copies of the rules and dashboards
/// (scripts/sync-helm-assets.sh writes them). The copies must be byte-identical to the sources.
/// </summary>
public class ChartAssetSyncTests
{
    [Fact]
    public void ChartRules_AreExactCopiesOfAlertingRules() =>
        AssertSameFiles(SourceAssets.RuleFiles(), Path.Combine(Helm.ChartDirectory, "files", "rules"), "*.rules.yaml");

    [Fact]
    public void ChartDashboards_AreExactCopiesOfGrafanaDashboards() =>
        AssertSameFiles(SourceAssets.DashboardFiles(), Path.Combine(Helm.ChartDirectory, "files", "dashboards"), "*.json");

    private static void AssertSameFiles(IReadOnlyList<string> sources, string copyDirectory, string pattern)
    {
        var copies = Directory.Exists(copyDirectory) ? Directory.GetFiles(copyDirectory, pattern) : [];
        Assert.Equal(
            sources.Select(Path.GetFileName).Order(StringComparer.Ordinal),
            copies.Select(Path.GetFileName).Order(StringComparer.Ordinal));
        foreach (var source in sources)
        {
            var copy = Path.Combine(copyDirectory, Path.GetFileName(source));
            Assert.True(File.ReadAllBytes(source).AsSpan().SequenceEqual(File.ReadAllBytes(copy)),
                $"{copy} differs from {source}: run scripts/sync-helm-assets.sh");
        }
    }
}

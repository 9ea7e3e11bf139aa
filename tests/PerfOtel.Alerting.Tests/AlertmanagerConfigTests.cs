using PerfOtel.Alerting.Tests.Assets;
using PerfOtel.Alerting.Tests.Tools;
using YamlDotNet.RepresentationModel;

namespace PerfOtel.Alerting.Tests;

/// <summary>The example Alertmanager configuration, checked and routed by the real amtool.</summary>
public class AlertmanagerConfigTests
{
    [Fact]
    public void CheckConfig_ExampleIsValid()
    {
        var result = PrometheusTool.Amtool("check-config", AlertingAssets.AlertmanagerConfig);

        Assert.True(result.ExitCode == 0, "amtool check-config failed:\n" + result.Output);
        Assert.Contains("SUCCESS", result.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("critical", "pager")]
    [InlineData("warning", "chat")]
    public void Routes_SeverityToItsReceiver(string severity, string receiver)
    {
        var result = PrometheusTool.Amtool("config", "routes", "test", "--config.file=" + AlertingAssets.AlertmanagerConfig,
            "alertname=PerfOtelAgentSuccessRateLow", "severity=" + severity, "tenant=acme", "agent=triage");

        Assert.True(result.ExitCode == 0, "amtool config routes test failed:\n" + result.Output);
        Assert.Equal(receiver, result.StdOut.Trim());
    }

    [Fact]
    public void Config_GroupsByTenantAndAgentAndCriticalInhibitsWarningOfTheSameAgent()
    {
        var root = YamlFile.Load(AlertingAssets.AlertmanagerConfig);
        var route = (YamlMappingNode)root.Children[new YamlScalarNode("route")];
        Assert.Equal(["tenant", "agent"], ScalarList(route, "group_by"));

        var inhibit = Assert.Single(YamlFile.Sequence(root, "inhibit_rules").OfType<YamlMappingNode>());
        Assert.Equal(["severity=\"critical\""], ScalarList(inhibit, "source_matchers"));
        Assert.Equal(["severity=\"warning\""], ScalarList(inhibit, "target_matchers"));
        Assert.Equal(["tenant", "agent"], ScalarList(inhibit, "equal"));
    }

    [Fact]
    public void EverySeverityTheRulesUse_HasARoute()
    {
        var routed = new HashSet<string>(StringComparer.Ordinal) { "critical", "warning", "info" };
        Assert.All(RuleSet.Alerts, alert => Assert.Contains(alert.Labels["severity"], routed));
    }

    private static List<string> ScalarList(YamlMappingNode node, string key) =>
        YamlFile.Sequence(node, key).OfType<YamlScalarNode>().Select(s => s.Value ?? "").ToList();
}

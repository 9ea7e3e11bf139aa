using System.Globalization;
using System.Text.RegularExpressions;
using PerfOtel.Alerting.Tests.Assets;
using YamlDotNet.RepresentationModel;

namespace PerfOtel.Alerting.Tests.EndToEnd;

/// <summary>
/// Test-only copies of the shipped alerting configuration that differ from it only in time: the rules' <c>for:</c>
/// durations and Alertmanager's grouping delays are shortened so the whole stack settles in a few minutes. Expressions,
/// thresholds, labels, routes, grouping keys and inhibition stay exactly as shipped.
/// </summary>
internal static partial class StackConfiguration
{
    /// <summary>Copies every shipped rule file into the folder with each <c>for:</c> replaced; returns the copies.</summary>
    public static IReadOnlyList<string> RulesWithShortFor(string directory, TimeSpan pendingFor)
    {
        var duration = string.Create(CultureInfo.InvariantCulture, $"{(int)pendingFor.TotalSeconds}s");
        var copies = new List<string>();
        var rewritten = 0;
        foreach (var file in AlertingAssets.RuleFiles())
        {
            var text = ForClause().Replace(File.ReadAllText(file), match =>
            {
                rewritten++;
                return match.Groups["indent"].Value + "for: " + duration;
            });
            var copy = Path.Combine(directory, Path.GetFileName(file));
            File.WriteAllText(copy, text);
            copies.Add(copy);
        }
        Assert.True(rewritten > 0, "no `for:` clause found in the shipped rules: the transform no longer matches their layout");
        return copies;
    }

    /// <summary>
    /// Writes the shipped alertmanager.yml with each receiver's integrations replaced by one webhook to
    /// {webhook}/{receiver name}, and the route's group_wait and group_interval shortened; returns the copy's path.
    /// </summary>
    public static string AlertmanagerWithWebhooks(string directory, WebhookReceiver webhook)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(AlertingAssets.AlertmanagerConfig))
        {
            stream.Load(reader);
        }
        var root = (YamlMappingNode)stream.Documents[0].RootNode;
        var route = (YamlMappingNode)root.Children[new YamlScalarNode("route")];
        route.Children[new YamlScalarNode("group_wait")] = new YamlScalarNode("1s");
        route.Children[new YamlScalarNode("group_interval")] = new YamlScalarNode("2s");

        var receivers = (YamlSequenceNode)root.Children[new YamlScalarNode("receivers")];
        Assert.NotEmpty(receivers.Children);
        foreach (var receiver in receivers.Children.Cast<YamlMappingNode>())
        {
            var name = ((YamlScalarNode)receiver.Children[new YamlScalarNode("name")]).Value!;
            var integrations = receiver.Children.Keys.Cast<YamlScalarNode>()
                .Where(k => k.Value!.EndsWith("_configs", StringComparison.Ordinal)).ToList();
            foreach (var integration in integrations)
            {
                receiver.Children.Remove(integration);
            }
            receiver.Children[new YamlScalarNode("webhook_configs")] = new YamlSequenceNode(new YamlMappingNode(
                new YamlScalarNode("url"), new YamlScalarNode(webhook.UrlFor(name).ToString()),
                new YamlScalarNode("send_resolved"), new YamlScalarNode("false")));
        }

        var copy = Path.Combine(directory, "alertmanager.yml");
        using (var writer = new StreamWriter(copy))
        {
            stream.Save(writer, assignAnchors: false);
        }
        return copy;
    }

    [GeneratedRegex(@"^(?<indent>[ \t]+)for:[ \t]*\S+[ \t]*$", RegexOptions.Multiline)]
    private static partial Regex ForClause();
}

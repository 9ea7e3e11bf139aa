using YamlDotNet.RepresentationModel;

namespace PerfOtel.Alerting.Tests.Assets;

/// <summary>One recording or alerting rule as written in a rule file.</summary>
internal sealed record PrometheusRule(
    string File,
    string Group,
    string? Record,
    string? Alert,
    string Expr,
    string? For,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyDictionary<string, string> Annotations)
{
    public bool IsAlert => Alert is not null;

    public string Name => Alert ?? Record!;
}

/// <summary>Every rule of every <c>*.rules.yaml</c> file, parsed with YamlDotNet.</summary>
internal static class RuleSet
{
    private static readonly Lazy<IReadOnlyList<PrometheusRule>> Loaded = new(Load);

    public static IReadOnlyList<PrometheusRule> All => Loaded.Value;

    public static IEnumerable<PrometheusRule> Alerts => All.Where(r => r.IsAlert);

    public static IEnumerable<PrometheusRule> Recordings => All.Where(r => !r.IsAlert);

    private static List<PrometheusRule> Load()
    {
        var rules = new List<PrometheusRule>();
        foreach (var file in AlertingAssets.RuleFiles())
        {
            var root = YamlFile.Load(file);
            foreach (var group in YamlFile.Sequence(root, "groups").OfType<YamlMappingNode>())
            {
                var groupName = YamlFile.Scalar(group, "name") ?? throw new InvalidDataException($"{file}: a group has no name");
                foreach (var rule in YamlFile.Sequence(group, "rules").OfType<YamlMappingNode>())
                {
                    rules.Add(new PrometheusRule(
                        Path.GetFileName(file),
                        groupName,
                        YamlFile.Scalar(rule, "record"),
                        YamlFile.Scalar(rule, "alert"),
                        YamlFile.Scalar(rule, "expr") ?? throw new InvalidDataException($"{file}: a rule of {groupName} has no expr"),
                        YamlFile.Scalar(rule, "for"),
                        YamlFile.StringMap(rule, "labels"),
                        YamlFile.StringMap(rule, "annotations")));
                }
            }
        }
        return rules;
    }
}

/// <summary>Small YamlDotNet helpers for the rule and promtool test files.</summary>
internal static class YamlFile
{
    public static YamlMappingNode Load(string path)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(path);
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    public static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlScalarNode scalar ? scalar.Value : null;

    public static IEnumerable<YamlNode> Sequence(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) && value is YamlSequenceNode sequence ? sequence.Children : [];

    public static IReadOnlyDictionary<string, string> StringMap(YamlMappingNode node, string key)
    {
        if (!node.Children.TryGetValue(new YamlScalarNode(key), out var value) || value is not YamlMappingNode map)
        {
            return new Dictionary<string, string>();
        }
        return map.Children.ToDictionary(
            kv => ((YamlScalarNode)kv.Key).Value!,
            kv => ((YamlScalarNode)kv.Value).Value ?? "",
            StringComparer.Ordinal);
    }
}

using System.Text.Json;

namespace PerfOtel.Alerting.Tests.Assets;

/// <summary>A Grafana dashboard file, its panels (rows' nested panels included) and their targets.</summary>
internal sealed class Dashboard(string file, JsonElement root)
{
    public string File { get; } = file;

    public JsonElement Root { get; } = root;

    public string Uid => Root.GetProperty("uid").GetString() ?? "";

    public string Title => Root.GetProperty("title").GetString() ?? "";

    public IEnumerable<JsonElement> Variables =>
        Root.TryGetProperty("templating", out var t) && t.TryGetProperty("list", out var list) ? list.EnumerateArray() : [];

    public IEnumerable<JsonElement> Panels => Flatten(Root);

    /// <summary>Panels that show data (rows only group them).</summary>
    public IEnumerable<JsonElement> DataPanels => Panels.Where(p => p.GetProperty("type").GetString() != "row");

    public static IReadOnlyList<Dashboard> All() =>
        AlertingAssets.DashboardFiles()
            .Select(f => new Dashboard(Path.GetFileName(f), JsonDocument.Parse(System.IO.File.ReadAllText(f)).RootElement))
            .ToList();

    public static IEnumerable<JsonElement> Targets(JsonElement panel) =>
        panel.TryGetProperty("targets", out var targets) ? targets.EnumerateArray() : [];

    public static string Describe(JsonElement panel) =>
        panel.TryGetProperty("title", out var title) ? $"panel '{title.GetString()}'" : "a panel without title";

    private static IEnumerable<JsonElement> Flatten(JsonElement container)
    {
        if (!container.TryGetProperty("panels", out var panels))
        {
            yield break;
        }
        foreach (var panel in panels.EnumerateArray())
        {
            yield return panel;
            foreach (var nested in Flatten(panel))
            {
                yield return nested;
            }
        }
    }
}

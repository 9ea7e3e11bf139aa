using System.Text.Json;
using System.Text.RegularExpressions;
using PerfOtel.Alerting.Tests.Assets;

namespace PerfOtel.Alerting.Tests;

/// <summary>The structure every PerfOtel dashboard follows, so that it works against any Prometheus datasource.</summary>
public partial class DashboardTests
{
    private static readonly IReadOnlyList<Dashboard> Dashboards = Dashboard.All();

    public static TheoryData<string> Files() => [.. Dashboard.All().Select(d => d.File)];

    [Fact]
    public void Dashboards_CoverEveryPageWithUniqueStableUids()
    {
        Assert.Equal(
            ["PerfOtel / Agent drill-down", "PerfOtel / Cost and budgets", "PerfOtel / Experiments", "PerfOtel / Overview", "PerfOtel / Providers", "PerfOtel / Quality"],
            Dashboards.Select(d => d.Title).Order(StringComparer.Ordinal));
        Assert.Equal(Dashboards.Count, Dashboards.Select(d => d.Uid).Distinct(StringComparer.Ordinal).Count());
        Assert.All(Dashboards, d => Assert.Matches(StableUid(), d.Uid));
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Dashboard_IsClassicJsonWithSchemaVersion39(string file)
    {
        var dashboard = Get(file);
        Assert.Equal(39, dashboard.Root.GetProperty("schemaVersion").GetInt32());
        Assert.NotEmpty(dashboard.DataPanels);
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Dashboard_HasDatasourceTenantAndAgentVariables(string file)
    {
        var variables = Get(file).Variables.ToDictionary(v => v.GetProperty("name").GetString()!, v => v);

        var datasource = variables["datasource"];
        Assert.Equal("datasource", datasource.GetProperty("type").GetString());
        Assert.Equal("prometheus", datasource.GetProperty("query").GetString());

        // Experiment series carry no agent: the experiments dashboard selects experiments instead.
        foreach (var name in new[] { "tenant", file.EndsWith("perfotel-experiments.json", StringComparison.Ordinal) ? "experiment" : "agent" })
        {
            var variable = variables[name];
            Assert.Equal("query", variable.GetProperty("type").GetString());
            AssertDatasourceVariable(variable.GetProperty("datasource"), $"variable {name}");
            Assert.StartsWith($"label_values(", VariableQuery(variable), StringComparison.Ordinal);
            Assert.EndsWith($", {name})", VariableQuery(variable), StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryPanelAndTarget_UsesTheDatasourceVariable(string file)
    {
        foreach (var panel in Get(file).DataPanels)
        {
            AssertDatasourceVariable(panel.GetProperty("datasource"), Dashboard.Describe(panel));
            var targets = Dashboard.Targets(panel).ToList();
            Assert.True(targets.Count > 0, $"{file}: {Dashboard.Describe(panel)} has no target");
            Assert.All(targets, t => AssertDatasourceVariable(t.GetProperty("datasource"), Dashboard.Describe(panel) + " target"));
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void NoDatasourceIsHardCoded(string file)
    {
        // Anywhere in the file: a datasource is the variable, or Grafana's own annotation source.
        foreach (var datasource in FindProperties(Get(file).Root, "datasource"))
        {
            if (datasource.ValueKind == JsonValueKind.Object && datasource.TryGetProperty("type", out var type) && type.GetString() == "grafana")
            {
                continue;
            }
            if (datasource.ValueKind == JsonValueKind.Object && !datasource.TryGetProperty("uid", out _))
            {
                continue; // the datasource variable's own definition has no uid
            }
            AssertDatasourceVariable(datasource, file);
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void EveryPanel_HasAUnitAndADescription(string file)
    {
        foreach (var panel in Get(file).DataPanels)
        {
            Assert.False(string.IsNullOrWhiteSpace(panel.TryGetProperty("description", out var d) ? d.GetString() : null),
                $"{file}: {Dashboard.Describe(panel)} has no description");
            var unit = panel.GetProperty("fieldConfig").GetProperty("defaults").TryGetProperty("unit", out var u) ? u.GetString() : null;
            Assert.False(string.IsNullOrWhiteSpace(unit), $"{file}: {Dashboard.Describe(panel)} has no unit");
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void PanelIdsAndTargetRefIds_AreUnique(string file)
    {
        var panels = Get(file).Panels.ToList();
        Assert.Equal(panels.Count, panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
        foreach (var panel in panels)
        {
            var refIds = Dashboard.Targets(panel).Select(t => t.GetProperty("refId").GetString()).ToList();
            Assert.Equal(refIds.Count, refIds.Distinct(StringComparer.Ordinal).Count());
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void RatesUseGrafanasRateInterval(string file)
    {
        // Fixed ranges break when the scrape interval or the zoom changes; $__range is for totals over the time picker.
        foreach (var panel in Get(file).DataPanels)
        {
            foreach (var target in Dashboard.Targets(panel))
            {
                var expr = target.GetProperty("expr").GetString()!;
                foreach (Match range in RangeSelector().Matches(expr))
                {
                    Assert.True(range.Groups[1].Value is "$__rate_interval" or "$__range",
                        $"{file}: {Dashboard.Describe(panel)} uses [{range.Groups[1].Value}] in {expr}");
                }
            }
        }
    }

    [Fact]
    public void QualityDashboard_DrawsTheReliabilityDiagramFromTheBinSeries()
    {
        var quality = Dashboards.Single(d => d.Uid == "perfotel-quality");
        var diagram = quality.DataPanels.Single(p => p.GetProperty("title").GetString() == "Reliability diagram");
        var exprs = Dashboard.Targets(diagram).Select(t => t.GetProperty("expr").GetString()!).ToList();

        Assert.Equal("barchart", diagram.GetProperty("type").GetString());
        Assert.Equal("bin", diagram.GetProperty("options").GetProperty("xField").GetString());
        Assert.Contains(exprs, e => e.Contains("calibration_bin_successes", StringComparison.Ordinal));
        Assert.Contains(exprs, e => e.Contains("calibration_bin_confidence_sum", StringComparison.Ordinal));
        Assert.All(exprs, e => Assert.Contains("sum by (bin)", e, StringComparison.Ordinal));
    }

    internal static string VariableQuery(JsonElement variable)
    {
        var query = variable.GetProperty("query");
        return query.ValueKind == JsonValueKind.Object ? query.GetProperty("query").GetString()! : query.GetString()!;
    }

    private static Dashboard Get(string file) => Dashboards.Single(d => d.File == file);

    private static void AssertDatasourceVariable(JsonElement datasource, string where)
    {
        Assert.True(datasource.ValueKind == JsonValueKind.Object, $"{where}: datasource is not an object");
        Assert.Equal("prometheus", datasource.GetProperty("type").GetString());
        Assert.True(datasource.GetProperty("uid").GetString() == "$datasource", $"{where}: datasource uid is not $datasource");
    }

    private static IEnumerable<JsonElement> FindProperties(JsonElement element, string name)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (property.Name == name)
                {
                    yield return property.Value;
                }
                foreach (var found in FindProperties(property.Value, name))
                {
                    yield return found;
                }
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                foreach (var found in FindProperties(item, name))
                {
                    yield return found;
                }
            }
        }
    }

    [Fact]
    public void ExemplarLink_OpensTheCollectorsTracePage_AndTheLatencyPanelsQueryExemplars()
    {
        // Grafana's exemplar link passes the trace id only: it must land on the route that lists a trace's runs.
        var yaml = new YamlDotNet.RepresentationModel.YamlStream();
        using (var reader = new StringReader(File.ReadAllText(PerfOtel.Testing.RepoPaths.Combine(
                   "dashboards", "grafana", "provisioning", "datasource.example.yaml"))))
        {
            yaml.Load(reader);
        }
        var datasource = (YamlDotNet.RepresentationModel.YamlMappingNode)((YamlDotNet.RepresentationModel.YamlSequenceNode)
            ((YamlDotNet.RepresentationModel.YamlMappingNode)yaml.Documents[0].RootNode)["datasources"]).Children[0];
        var destinations = (YamlDotNet.RepresentationModel.YamlSequenceNode)
            ((YamlDotNet.RepresentationModel.YamlMappingNode)datasource["jsonData"])["exemplarTraceIdDestinations"];
        var destination = (YamlDotNet.RepresentationModel.YamlMappingNode)Assert.Single(destinations.Children);
        Assert.Equal("trace_id", destination["name"].ToString());
        var url = new Uri(destination["url"].ToString().Replace("${__value.raw}", "0123456789abcdef0123456789abcdef", StringComparison.Ordinal));
        Assert.Equal(PerfOtel.Collector.Exposure.Pages.UiEndpoints.TraceRoute.Replace("{traceId}", "0123456789abcdef0123456789abcdef", StringComparison.Ordinal),
            url.AbsolutePath);
        Assert.Empty(url.Query);

        // The panels that show exemplars are the duration histograms' quantiles (the only series that carry them), and
        // every latency panel over one of the instrumentation's duration histograms shows them.
        var targets = Dashboards.SelectMany(d => FindProperties(d.Root, "targets"))
            .SelectMany(t => t.EnumerateArray())
            .Select(t => (Expr: t.GetProperty("expr").GetString()!,
                Exemplar: t.TryGetProperty("exemplar", out var e) && e.ValueKind == JsonValueKind.True))
            .ToList();
        var exemplarExpressions = targets.Where(t => t.Exemplar).Select(t => t.Expr).ToList();
        Assert.NotEmpty(exemplarExpressions);
        Assert.All(exemplarExpressions, e => Assert.Contains("_duration_seconds_bucket", e, StringComparison.Ordinal));
        string[] histograms =
        [
            "gen_ai_invoke_agent_duration_seconds_bucket", "gen_ai_client_operation_duration_seconds_bucket",
            "gen_ai_execute_tool_duration_seconds_bucket",
        ];
        var latencyPanels = targets.Where(t => t.Expr.Contains("histogram_quantile(", StringComparison.Ordinal)
            && histograms.Any(h => t.Expr.Contains(h, StringComparison.Ordinal))).ToList();
        Assert.Equal(histograms.Length, histograms.Count(h => latencyPanels.Any(t => t.Expr.Contains(h, StringComparison.Ordinal))));
        Assert.All(latencyPanels, t => Assert.True(t.Exemplar, $"latency query without exemplars: {t.Expr}"));
    }

    [GeneratedRegex("^perfotel-[a-z]+(-[a-z]+)*$")]
    private static partial Regex StableUid();

    [GeneratedRegex(@"\[([^\]]+)\]")]
    private static partial Regex RangeSelector();
}

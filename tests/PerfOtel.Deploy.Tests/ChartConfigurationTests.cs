using PerfOtel.Testing;

namespace PerfOtel.Deploy.Tests;

/// <summary>
/// The configuration the chart renders must be configuration the collector accepts: a collector process started on
/// the rendered perfotel.json (and pricing.json) comes up healthy, and one fed a nonsensical budget does not.
/// </summary>
public sealed class ChartConfigurationTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("perfotel-chart-config-").FullName;

    [Fact]
    public async Task RenderedConfiguration_StartsTheCollector()
    {
        var rendered = Helm.Template("-f", Path.Combine("ci", "kube-prometheus-stack-values.yaml"));
        var data = Yaml.Map(rendered.OfKind("ConfigMap").Single(c => Yaml.Str(c, "metadata.name") == "perfotel"), "data");
        var configPath = Path.Combine(directory, "perfotel.json");
        var pricingPath = Path.Combine(directory, "pricing.json");
        await File.WriteAllTextAsync(configPath, Yaml.Str(data, "[perfotel.json]"));
        await File.WriteAllTextAsync(pricingPath, Yaml.Str(data, "[pricing.json]"));

        await using var collector = await CollectorProcess.StartAsync(
            Path.Combine(directory, "data"),
            // The pod mounts the files at /etc/perfotel; here they sit in the test's folder.
            settings: new Dictionary<string, string> { ["Otlp:PricingOverridesPath"] = pricingPath },
            environment: new Dictionary<string, string> { ["PERFOTEL_CONFIG"] = configPath });

        using var http = new HttpClient { BaseAddress = collector.BaseAddress };
        var budgets = await http.GetStringAsync("api/v1/budgets");
        Assert.Contains("50", budgets, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NegativeBudgetInChartValues_FailsStartNamingTheSetting()
    {
        var rendered = Helm.Template("--set", "config.budgets.Tenants.default.DailyUsd=-5");
        var data = Yaml.Map(rendered.OfKind("ConfigMap").Single(), "data");
        var configPath = Path.Combine(directory, "perfotel.json");
        await File.WriteAllTextAsync(configPath, Yaml.Str(data, "[perfotel.json]"));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => CollectorProcess.StartAsync(
            Path.Combine(directory, "data"), environment: new Dictionary<string, string> { ["PERFOTEL_CONFIG"] = configPath }));
        Assert.Contains("Budgets:Tenants:default:DailyUsd", error.Message, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

using PerfOtel.Testing;

namespace PerfOtel.Deploy.Tests;

/// <summary>
/// The configuration the chart renders must be configuration the collector accepts: a collector process started on
/// the rendered perfotel.json (and pricing.json) comes up healthy, and one fed a nonsensical budget does not.
/// </summary>
public sealed class ChartConfigurationTests : IDisposable
{
    private readonly ChartScratch scratch = new("config");

    [Fact]
    public async Task RenderedConfiguration_StartsTheCollector()
    {
        var rendered = Helm.Template("-f", Path.Combine("ci", "kube-prometheus-stack-values.yaml"));
        var data = Yaml.Map(rendered.OfKind("ConfigMap").Single(c => Yaml.Str(c, "metadata.name") == "perfotel"), "data");
        var configPath = scratch.Combine("perfotel.json");
        var pricingPath = scratch.Combine("pricing.json");
        await File.WriteAllTextAsync(configPath, Yaml.Str(data, "[perfotel.json]"));
        await File.WriteAllTextAsync(pricingPath, Yaml.Str(data, "[pricing.json]"));

        await using var collector = await CollectorProcess.StartAsync(
            scratch.Combine("data"),
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
        var configPath = await scratch.WriteConfigAsync(Helm.Template("--set", "config.budgets.Tenants.default.DailyUsd=-5"));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => CollectorProcess.StartAsync(
            scratch.Combine("data"), environment: new Dictionary<string, string> { ["PERFOTEL_CONFIG"] = configPath }));
        Assert.Contains("Budgets:Tenants:default:DailyUsd", error.Message, StringComparison.Ordinal);
    }

    public void Dispose() => scratch.Dispose();
}

using System.Text.Json;
using PerfOtel.Testing;
using YamlDotNet.RepresentationModel;

namespace PerfOtel.Deploy.Tests;

/// <summary>
/// The chart's scheduled reports: schedules reach the collector's Reports section, webhook URLs (which carry tokens)
/// reach the pod only from a Secret, files go to a mounted /reports, and the collector accepts what is rendered.
/// </summary>
public sealed class ChartReportsTests : IDisposable
{
    private const string AcmeWebhook = "PERFOTEL__Reports__Schedules__weekly-acme__WebhookUrl";
    private const string GlobexWebhook = "PERFOTEL__Reports__Schedules__daily-globex__WebhookUrl";

    private readonly ChartScratch scratch = new("reports");

    [Fact]
    public void ReportsScenario_RendersTheSchedules_TheWebhooksAsSecretKeyRefs_AndTheReportsVolume()
    {
        var (code, stdout, stderr) = Helm.Run("template", "perfotel", ".", "-f", Path.Combine("ci", "reports-values.yaml"));
        Assert.True(code == 0, stderr);
        var r = Helm.Template("-f", Path.Combine("ci", "reports-values.yaml"));

        using var config = JsonDocument.Parse(r.CollectorConfig());
        var schedules = config.RootElement.GetProperty("Reports").GetProperty("Schedules");
        var acme = schedules.GetProperty("weekly-acme");
        Assert.Equal("acme", acme.GetProperty("Tenant").GetString());
        Assert.Equal("0 8 * * 1", acme.GetProperty("Cron").GetString());
        Assert.Equal("Europe/Paris", acme.GetProperty("TimeZone").GetString());
        Assert.Equal("7d", acme.GetProperty("Window").GetString());
        Assert.Equal("/reports", acme.GetProperty("Directory").GetString());
        var globex = schedules.GetProperty("daily-globex");
        Assert.Equal("UTC", globex.GetProperty("TimeZone").GetString());
        Assert.Equal("24h", globex.GetProperty("Window").GetString());
        Assert.False(globex.TryGetProperty("Directory", out _));
        Assert.DoesNotContain("WebhookUrl\":", stdout, StringComparison.Ordinal);

        var container = r.CollectorContainer();
        var env = Yaml.Env(container);
        Assert.Null(Yaml.Node(env[AcmeWebhook], "value"));
        Assert.Equal("perfotel-report-webhooks", Yaml.Str(env[AcmeWebhook], "valueFrom.secretKeyRef.name"));
        Assert.Equal("acme", Yaml.Str(env[AcmeWebhook], "valueFrom.secretKeyRef.key"));
        Assert.Equal("globex", Yaml.Str(env[GlobexWebhook], "valueFrom.secretKeyRef.key"));
        // The chart references the Secret; it never creates one.
        Assert.False(r.Has("Secret"));

        Assert.Contains(Yaml.Seq(container, "volumeMounts").Cast<YamlMappingNode>(),
            m => Yaml.Str(m, "name") == "reports" && Yaml.Str(m, "mountPath") == "/reports");
        var volume = Yaml.Seq(r.Single("Deployment"), "spec.template.spec.volumes").Cast<YamlMappingNode>()
            .Single(v => Yaml.Str(v, "name") == "reports");
        Assert.NotNull(Yaml.Node(volume, "emptyDir"));

        var claimed = Helm.Template("-f", Path.Combine("ci", "reports-values.yaml"), "--set", "reports.existingClaim=perfotel-reports");
        var claimedVolume = Yaml.Seq(claimed.Single("Deployment"), "spec.template.spec.volumes").Cast<YamlMappingNode>()
            .Single(v => Yaml.Str(v, "name") == "reports");
        Assert.Equal("perfotel-reports", Yaml.Str(claimedVolume, "persistentVolumeClaim.claimName"));
    }

    [Fact]
    public void Defaults_RenderNoReports()
    {
        var r = Helm.Template();
        using var config = JsonDocument.Parse(r.CollectorConfig());
        Assert.False(config.RootElement.TryGetProperty("Reports", out _));
        var container = r.CollectorContainer();
        Assert.DoesNotContain(Yaml.Env(container).Keys, k => k.StartsWith("PERFOTEL__Reports__", StringComparison.Ordinal));
        Assert.DoesNotContain(Yaml.Seq(container, "volumeMounts").Cast<YamlMappingNode>(), m => Yaml.Str(m, "name") == "reports");
    }

    [Theory]
    [InlineData(new[] { "reports.schedules.weekly.tenant=acme", "reports.schedules.weekly.cron=0 8 * * 1" },
        "reports.schedules.weekly needs a destination")]
    [InlineData(new[] { "reports.schedules.weekly.cron=0 8 * * 1", "reports.schedules.weekly.directory=true" }, "tenant")]
    [InlineData(new[] { "reports.schedules.weekly.tenant=acme", "reports.schedules.weekly.cron=0 8 * * 1", "reports.schedules.weekly.webhookUrl=https://hooks.example/T/B/token" },
        "webhookUrl")]
    [InlineData(new[] { "config.extra.Reports.Schedules.weekly.WebhookUrl=https://hooks.example/T/B/token" },
        "would put the webhook's token into the ConfigMap")]
    public void InconsistentReportValues_FailRenderingNamingTheSetting(string[] sets, string expected)
    {
        var (code, _, stderr) = Helm.Run(["template", "perfotel", ".", .. sets.SelectMany(s => new[] { "--set", s })]);

        Assert.NotEqual(0, code);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenderedReportsConfiguration_WithTheWebhooksInTheEnvironment_StartsTheCollector()
    {
        var configPath = await scratch.WriteRenderedConfigAsync("reports-values.yaml");
        var reports = scratch.Combine("reports");

        // Kubernetes resolves the secretKeyRefs into the environment and mounts /reports; the test does both by hand.
        await using var collector = await CollectorProcess.StartAsync(scratch.Combine("data"),
            settings: new Dictionary<string, string> { ["Reports:Schedules:weekly-acme:Directory"] = reports },
            environment: new Dictionary<string, string>
            {
                ["PERFOTEL_CONFIG"] = configPath,
                [AcmeWebhook] = "http://127.0.0.1:9/hooks/T000/B000/acme-token",
                [GlobexWebhook] = "http://127.0.0.1:9/hooks/T000/B000/globex-token",
            });
        using var http = new HttpClient { BaseAddress = collector.BaseAddress };
        Assert.Equal("ok", await http.GetStringAsync("healthz"));
    }

    [Fact]
    public async Task RenderedReportsConfiguration_WithoutTheSecretsValue_CollectorRefusesNamingTheSetting()
    {
        // A Secret whose key holds no URL reaches the collector as an empty variable: the daily schedule (webhook only)
        // then has no destination, which the collector's own start-up check names.
        var configPath = await scratch.WriteRenderedConfigAsync("reports-values.yaml");
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => CollectorProcess.StartAsync(
            scratch.Combine("data"),
            settings: new Dictionary<string, string> { ["Reports:Schedules:weekly-acme:Directory"] = scratch.Combine("reports") },
            environment: new Dictionary<string, string> { ["PERFOTEL_CONFIG"] = configPath, [GlobexWebhook] = "" }));
        Assert.Contains("Reports:Schedules:daily-globex has no destination", error.Message, StringComparison.Ordinal);
    }


    public void Dispose() => scratch.Dispose();
}

using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using PerfOtel.Testing;
using YamlDotNet.RepresentationModel;

namespace PerfOtel.Deploy.Tests;

/// <summary>The chart's auth and metrics-port values: what they render, and that the collector accepts the result.</summary>
public sealed class ChartSecurityTests : IDisposable
{
    private readonly ChartScratch scratch = new("security");

    [Fact]
    public void Secured_MountsTheKeysSecret_AndScrapesTheMetricsPortWithoutKey()
    {
        var r = Helm.Template("-f", Path.Combine("ci", "secured-values.yaml"));

        using var config = JsonDocument.Parse(r.CollectorConfig());
        var auth = config.RootElement.GetProperty("Auth");
        Assert.True(auth.GetProperty("Enabled").GetBoolean());
        Assert.Equal("/etc/perfotel-auth/keys.json", auth.GetProperty("KeysFile").GetString());
        Assert.Equal(9464, config.RootElement.GetProperty("Metrics").GetProperty("Port").GetInt32());

        var pod = Yaml.Map(r.Single("Deployment"), "spec.template.spec");
        var volume = Yaml.Seq(pod, "volumes").Cast<YamlMappingNode>().Single(v => Yaml.Str(v, "name") == "auth-keys");
        Assert.Equal("perfotel-api-keys", Yaml.Str(volume, "secret.secretName"));
        var container = Yaml.Map(pod, "containers.0");
        var mount = Yaml.Seq(container, "volumeMounts").Cast<YamlMappingNode>().Single(m => Yaml.Str(m, "name") == "auth-keys");
        Assert.Equal("/etc/perfotel-auth", Yaml.Str(mount, "mountPath"));
        Assert.Equal("true", Yaml.Str(mount, "readOnly"));
        Assert.Contains(Yaml.Seq(container, "ports").Cast<YamlMappingNode>(),
            p => Yaml.Str(p, "name") == "metrics" && Yaml.Str(p, "containerPort") == "9464");
        Assert.Contains(Yaml.Seq(r.Single("Service"), "spec.ports").Cast<YamlMappingNode>(),
            p => Yaml.Str(p, "name") == "metrics" && Yaml.Str(p, "targetPort") == "metrics");

        var endpoint = Yaml.Map(r.Single("ServiceMonitor"), "spec.endpoints.0");
        Assert.Equal("metrics", Yaml.Str(endpoint, "port"));
        Assert.Null(Yaml.Node(endpoint, "authorization"));
    }

    [Fact]
    public void AuthWithoutMetricsPort_ServiceMonitorSendsTheAdminKeyFromItsSecret()
    {
        var r = Helm.Template("--set", "auth.enabled=true", "--set", "auth.existingSecret=keys", "--set", "serviceMonitor.enabled=true",
            "--set", "serviceMonitor.authorization.secretName=prometheus-perfotel", "--set", "serviceMonitor.authorization.secretKey=token");

        var endpoint = Yaml.Map(r.Single("ServiceMonitor"), "spec.endpoints.0");
        Assert.Equal("http", Yaml.Str(endpoint, "port"));
        Assert.Equal("Bearer", Yaml.Str(endpoint, "authorization.type"));
        Assert.Equal("prometheus-perfotel", Yaml.Str(endpoint, "authorization.credentials.name"));
        Assert.Equal("token", Yaml.Str(endpoint, "authorization.credentials.key"));
    }

    [Theory]
    [InlineData("auth.enabled=true", "auth.existingSecret is required")]
    [InlineData("auth.enabled=true,auth.existingSecret=keys,serviceMonitor.enabled=true", "serviceMonitor.authorization.secretName")]
    [InlineData("metrics.port=4318", "metrics.port must differ from service.port")]
    [InlineData("service.grpcPort=4318", "service.grpcPort must differ from service.port and metrics.port")]
    [InlineData("metrics.port=9464,service.grpcPort=9464", "service.grpcPort must differ from service.port and metrics.port")]
    [InlineData("metrics.port=70000", "/metrics/port")]
    public void InconsistentSecurityValues_FailRenderingNamingTheSetting(string set, string expected)
    {
        var (code, _, stderr) = Helm.Run("template", "perfotel", ".", "--set", set);

        Assert.NotEqual(0, code);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RenderedSecuredConfiguration_StartsTheCollectorWithAuthOn()
    {
        const string key = "perfotel_chart-test-key";
        var configPath = await scratch.WriteRenderedConfigAsync("secured-values.yaml");
        var keysPath = scratch.Combine("keys.json");
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        await File.WriteAllTextAsync(keysPath, $$"""[{"name": "reader", "sha256": "{{sha256}}", "tenant": "team-a", "role": "read"}]""");
        var metricsPort = TestPorts.GetFree();

        await using var collector = await CollectorProcess.StartAsync(scratch.Combine("data"),
            // The pod mounts the Secret at /etc/perfotel-auth and owns port 9464; here the test's folder and a free port.
            settings: new Dictionary<string, string>
            {
                ["Auth:KeysFile"] = keysPath,
                ["Metrics:Port"] = metricsPort.ToString(CultureInfo.InvariantCulture),
            },
            environment: new Dictionary<string, string> { ["PERFOTEL_CONFIG"] = configPath });

        using var http = new HttpClient { BaseAddress = collector.BaseAddress };
        using var anonymous = await http.GetAsync("api/v1/health");
        using var request = new HttpRequestMessage(HttpMethod.Get, "api/v1/health");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var keyed = await http.SendAsync(request);
        using var scrape = await http.GetAsync(new Uri($"http://127.0.0.1:{metricsPort}/metrics"));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, keyed.StatusCode);
        Assert.Contains("team-a", await keyed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
    }

    public void Dispose() => scratch.Dispose();
}

using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using PerfOtel.Testing;
using YamlDotNet.RepresentationModel;

namespace PerfOtel.Deploy.Tests;

/// <summary>
/// The chart's privacy values: the settings reach the collector's configuration, the user-id hash key reaches the pod
/// only from a Secret, and a collector started on the result applies them (or refuses to start, as it does by itself).
/// </summary>
public sealed class ChartPrivacyTests : IDisposable
{
    private const string HashKeyVariable = "PERFOTEL__Privacy__UserIdHashKey";
    private const string HashKey = "chart-test-user-id-hash-key-0123456789";

    private readonly ChartScratch scratch = new("privacy");

    [Fact]
    public void PrivacyScenario_RendersTheSettingsIntoTheConfigMap_AndTheKeyOnlyAsSecretKeyRef()
    {
        var (code, stdout, stderr) = Helm.Run("template", "perfotel", ".", "-f", Path.Combine("ci", "privacy-values.yaml"));
        Assert.True(code == 0, stderr);
        var r = Helm.Template("-f", Path.Combine("ci", "privacy-values.yaml"));

        using var config = JsonDocument.Parse(r.CollectorConfig());
        var privacy = config.RootElement.GetProperty("Privacy");
        Assert.False(privacy.GetProperty("CaptureContent").GetBoolean());
        Assert.True(privacy.GetProperty("Tenants").GetProperty("acme").GetProperty("CaptureContent").GetBoolean());
        Assert.Equal(["enduser.id", "app.*"], privacy.GetProperty("AttributeAllowlist").EnumerateArray().Select(e => e.GetString()));
        Assert.False(privacy.TryGetProperty("UserIdHashKey", out _));

        var env = Yaml.Env(r.CollectorContainer());
        var hashKey = env[HashKeyVariable];
        Assert.Null(Yaml.Node(hashKey, "value"));
        Assert.Equal("perfotel-privacy", Yaml.Str(hashKey, "valueFrom.secretKeyRef.name"));
        Assert.Equal("userIdHashKey", Yaml.Str(hashKey, "valueFrom.secretKeyRef.key"));
        // The chart references the Secret; it never creates one (that would put key material into values).
        Assert.False(r.Has("Secret"));
        Assert.DoesNotContain("UserIdHashKey\":", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_CaptureNothing_AndPassNoHashKey()
    {
        var r = Helm.Template();

        using var config = JsonDocument.Parse(r.CollectorConfig());
        var privacy = config.RootElement.GetProperty("Privacy");
        Assert.False(privacy.GetProperty("CaptureContent").GetBoolean());
        Assert.Equal(0, privacy.GetProperty("AttributeAllowlist").GetArrayLength());
        Assert.False(privacy.TryGetProperty("Tenants", out _));
        Assert.DoesNotContain(HashKeyVariable, Yaml.Env(r.CollectorContainer()).Keys);
    }

    [Fact]
    public void HashKeyFromExtraEnv_SatisfiesTheUserIdCheck()
    {
        var r = Helm.Template("--set", "privacy.attributeAllowlist={user.id}",
            "--set", $"extraEnv[0].name={HashKeyVariable}", "--set", "extraEnv[0].valueFrom.secretKeyRef.name=elsewhere",
            "--set", "extraEnv[0].valueFrom.secretKeyRef.key=k");

        var env = Yaml.Env(r.CollectorContainer());
        Assert.Equal("elsewhere", Yaml.Str(env[HashKeyVariable], "valueFrom.secretKeyRef.name"));
    }

    [Theory]
    [InlineData("privacy.attributeAllowlist={enduser.id}", "privacy.userIdHashKey.existingSecret is required")]
    [InlineData("privacy.attributeAllowlist={app.*,user.*}", "admits user identifiers (user.id, user.email, user.name, user.full_name)")]
    [InlineData("config.extra.Otlp.AttributeAllowlist={enduser.*}", "admits user identifiers (enduser.id, enduser.pseudo.id)")]
    [InlineData("config.extra.Privacy.UserIdHashKey=0123456789abcdef0123", "would put the hash key into the ConfigMap")]
    [InlineData("privacy.userIdHashKey=0123456789abcdef0123", "/privacy/userIdHashKey")]
    [InlineData("privacy.attributeAllowlist={*}", "/privacy/attributeAllowlist/0")]
    [InlineData("privacy.attributeAllowlist={gen_ai.*.content}", "/privacy/attributeAllowlist/0")]
    [InlineData("privacy.tenants.acme.captureContent=yes", "/privacy/tenants/acme/captureContent")]
    [InlineData("privacy.tenants.acme.capture=true", "/privacy/tenants/acme")]
    [InlineData("privacy.captureContnet=true", "captureContnet")]
    public void InconsistentPrivacyValues_FailRenderingNamingTheSetting(string set, string expected)
    {
        var (code, _, stderr) = Helm.Run("template", "perfotel", ".", "--set", set);

        Assert.NotEqual(0, code);
        Assert.Contains(expected, stderr, StringComparison.Ordinal);
    }

    /// <summary>The chart keeps its own copy of the collector's user-identifier list; every one of them must trip the check.</summary>
    [Fact]
    public void EveryUserIdentifierTheCollectorHashes_NeedsTheKeySecret()
    {
        var source = File.ReadAllText(RepoPaths.Combine("src", "Collector", "Receiving", "Privacy", "PrivacyAttributes.cs"));
        var list = Regex.Match(source, @"UserIdentifiers\s*=\s*\[(?<body>.*?)\];", RegexOptions.Singleline).Groups["body"].Value;
        var identifiers = Regex.Matches(list, "\"(?<id>[^\"]+)\"").Select(m => m.Groups["id"].Value).ToList();
        Assert.True(identifiers.Count >= 5, "the user-identifier list was not found in PrivacyAttributes.cs");

        foreach (var identifier in identifiers)
        {
            var (code, _, stderr) = Helm.Run("template", "perfotel", ".", "--set", $"privacy.attributeAllowlist={{{identifier}}}");
            Assert.True(code != 0, $"the chart renders an allowlist admitting {identifier} without a hash key Secret");
            Assert.Contains($"({identifier})", stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task RenderedPrivacyConfiguration_WithTheKeyInTheEnvironment_HashesUserIdsAndCapturesForAcmeOnly()
    {
        var configPath = await scratch.WriteRenderedConfigAsync("privacy-values.yaml");

        // Kubernetes resolves the secretKeyRef into the container's environment; the test does the same by hand.
        await using var collector = await CollectorProcess.StartAsync(scratch.Combine("data"),
            environment: new Dictionary<string, string> { ["PERFOTEL_CONFIG"] = configPath, [HashKeyVariable] = HashKey });
        using var http = new HttpClient { BaseAddress = collector.BaseAddress };

        foreach (var tenant in new[] { "acme", "default" })
        {
            using var body = new StringContent(InvocationWithUserAndContent(tenant), Encoding.UTF8, "application/json");
            using var response = await http.PostAsync("v1/traces", body);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var expectedHash = "hmac-sha256:" + Convert.ToHexStringLower(
            HMACSHA256.HashData(Encoding.UTF8.GetBytes(HashKey), Encoding.UTF8.GetBytes("alice@example.com")));
        var acme = await ExportedAttributesAsync(http, "acme");
        var fallback = await ExportedAttributesAsync(http, "default");

        Assert.Equal(expectedHash, acme.GetProperty("enduser.id").GetString());
        Assert.Equal(expectedHash, fallback.GetProperty("enduser.id").GetString());
        Assert.Equal("eu-west", fallback.GetProperty("app.region").GetString());
        Assert.True(acme.TryGetProperty("gen_ai.input.messages", out _), "content capture for acme did not reach the collector");
        Assert.False(fallback.TryGetProperty("gen_ai.input.messages", out _), "content was stored for a tenant without capture");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("too-short")]
    public async Task RenderedPrivacyConfiguration_WithoutAUsableKey_CollectorRefusesToStartNamingTheSetting(string? key)
    {
        // The chart cannot see inside the Secret: an absent or empty value there (or a short key) reaches the collector,
        // whose own start-up check on the rendered allowlist must then stop it.
        var configPath = await scratch.WriteRenderedConfigAsync("privacy-values.yaml");
        var environment = new Dictionary<string, string> { ["PERFOTEL_CONFIG"] = configPath };
        if (key is not null)
        {
            environment[HashKeyVariable] = key;
        }

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            CollectorProcess.StartAsync(scratch.Combine("data"), environment: environment));
        Assert.Contains("Privacy:UserIdHashKey", error.Message, StringComparison.Ordinal);
    }


    private static string InvocationWithUserAndContent(string tenant)
    {
        var end = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000L;
        var traceId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var spanId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        return string.Create(CultureInfo.InvariantCulture, $$$"""
            {"resourceSpans":[{"resource":{},"scopeSpans":[{"spans":[{"traceId":"{{{traceId}}}","spanId":"{{{spanId}}}",
            "name":"invoke_agent support","kind":1,"startTimeUnixNano":"{{{end - 1_000_000_000L}}}","endTimeUnixNano":"{{{end}}}",
            "attributes":[
              {"key":"gen_ai.operation.name","value":{"stringValue":"invoke_agent"}},
              {"key":"gen_ai.agent.name","value":{"stringValue":"support"}},
              {"key":"perfotel.tenant","value":{"stringValue":"{{{tenant}}}"}},
              {"key":"enduser.id","value":{"stringValue":"alice@example.com"}},
              {"key":"app.region","value":{"stringValue":"eu-west"}},
              {"key":"gen_ai.input.messages","value":{"stringValue":"[{\"role\":\"user\",\"parts\":[{\"type\":\"text\",\"content\":\"my card number\"}]}]"}}
            ]}]}]}]}
            """);
    }

    /// <summary>The attributes of the tenant's one exported invocation, polling a bounded number of times while the write queue drains.</summary>
    private static async Task<JsonElement> ExportedAttributesAsync(HttpClient http, string tenant)
    {
        for (var attempt = 0; attempt < 100; attempt++)
        {
            var export = await http.GetStringAsync($"api/v1/executions/export?tenant={tenant}");
            var line = export.Split('\n', StringSplitOptions.RemoveEmptyEntries).SingleOrDefault();
            if (line is not null)
            {
                using var invocation = JsonDocument.Parse(line);
                return invocation.RootElement.GetProperty("attributes").Clone();
            }
            await Task.Delay(100);
        }
        throw new Xunit.Sdk.XunitException($"no invocation of tenant {tenant} was exported");
    }

    public void Dispose() => scratch.Dispose();
}

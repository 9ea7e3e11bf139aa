using System.Net;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Collector.Security;

namespace PerfOtel.Collector.Tests.Security;

/// <summary>Key hashing, and the Auth settings that must stop the collector at start-up, naming the setting.</summary>
public sealed class ApiKeyConfigurationTests
{
    private const string ValidHash = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    [Fact]
    public void Hash_IsTheLowerCaseHexSha256OfTheUtf8Bytes()
    {
        // FIPS 180-2 test vector: SHA-256("abc").
        Assert.Equal(ValidHash, ApiKeyHash.HashHex("abc"));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData("é"u8)), ApiKeyHash.HashHex("é"));
    }

    [Fact]
    public void NewKey_IsRandom_Prefixed_AndCarries256Bits()
    {
        var keys = Enumerable.Range(0, 50).Select(_ => ApiKeyHash.NewKey()).ToList();

        Assert.Equal(50, keys.Distinct(StringComparer.Ordinal).Count());
        Assert.All(keys, k => Assert.StartsWith(ApiKeyHash.KeyPrefix, k, StringComparison.Ordinal));
        // 32 bytes in unpadded base64url are 43 characters, all URL- and header-safe.
        Assert.All(keys, k => Assert.Matches("^perfotel_[A-Za-z0-9_-]{43}$", k));
    }

    [Theory]
    [InlineData("Auth:Keys:0:Sha256", "abc", "Auth:Keys:0:Sha256")]
    [InlineData("Auth:Keys:0:Sha256", "zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "Auth:Keys:0:Sha256")]
    [InlineData("Auth:Keys:0:Role", "owner", "Auth:Keys:0:Role")]
    [InlineData("Auth:Keys:0:Tenant", "", "Auth:Keys:0:Tenant")]
    [InlineData("Auth:Keys:0:Name", "", "Auth:Keys:0:Name")]
    public async Task InvalidKey_FailsStartup_NamingTheSetting(string setting, string value, string named)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Auth:Enabled"] = "true",
            ["Auth:Keys:0:Name"] = "ci",
            ["Auth:Keys:0:Sha256"] = ValidHash,
            ["Auth:Keys:0:Tenant"] = "team-a",
            ["Auth:Keys:0:Role"] = "ingest",
        };
        settings[setting] = value;

        var message = await StartupFailureAsync(settings);

        Assert.Contains(named, message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnabledWithoutKeys_FailsStartup()
    {
        var message = await StartupFailureAsync(new() { ["Auth:Enabled"] = "true" });

        Assert.Contains("Auth:Enabled", message, StringComparison.Ordinal);
        Assert.Contains("Auth:Keys", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AdminKeyWithTenant_FailsStartup()
    {
        var message = await StartupFailureAsync(Key(0, "ops", ValidHash, "team-a", "admin"));

        Assert.Contains("Auth:Keys:0:Tenant", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DuplicateHash_FailsStartup_NamingBothKeys()
    {
        var settings = Key(0, "one", ValidHash, "team-a", "ingest");
        foreach (var (k, v) in Key(1, "two", ValidHash.ToUpperInvariant(), "team-b", "read"))
        {
            settings[k] = v;
        }

        var message = await StartupFailureAsync(settings);

        Assert.Contains("Auth:Keys:1:Sha256", message, StringComparison.Ordinal);
        Assert.Contains("Auth:Keys:0", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnreadableKeysFile_FailsStartup_NamingTheSetting()
    {
        var message = await StartupFailureAsync(new() { ["Auth:Enabled"] = "true", ["Auth:KeysFile"] = "/nonexistent/keys.json" });

        Assert.Contains("Auth:KeysFile", message, StringComparison.Ordinal);
        Assert.Contains("/nonexistent/keys.json", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeysFileThatIsNotAnArray_FailsStartup()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, """{"name": "x"}""");

            var message = await StartupFailureAsync(new() { ["Auth:Enabled"] = "true", ["Auth:KeysFile"] = file });

            Assert.Contains("Auth:KeysFile", message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task KeysFileEntryWithBadRole_FailsStartup_NamingTheEntry()
    {
        var file = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(file, $$"""[{"name": "ci", "sha256": "{{ValidHash}}", "tenant": "a", "role": "writer"}]""");

            var message = await StartupFailureAsync(new() { ["Auth:Enabled"] = "true", ["Auth:KeysFile"] = file });

            Assert.Contains("Auth:KeysFile", message, StringComparison.Ordinal);
            Assert.Contains("entry 0:Role", message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task KeysFile_KeysAuthenticate_LikeConfiguredOnes()
    {
        var file = Path.GetTempFileName();
        try
        {
            // The shape a Kubernetes Secret would hold: property names in any case, the same fields as Auth:Keys.
            await File.WriteAllTextAsync(file, $$"""
                [
                  {"name": "file-reader", "sha256": "{{ApiKeyHash.HashHex("from-file")}}", "tenant": "team-f", "role": "read"},
                  {"Name": "file-ops", "Sha256": "{{ApiKeyHash.HashHex("ops-from-file")}}", "Role": "admin"}
                ]
                """);
            await using var collector = new CollectorFactory(new() { ["Auth:Enabled"] = "true", ["Auth:KeysFile"] = file });
            using var client = collector.CreateClient();

            using var reader = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/v1/health").With("from-file"));
            using var wrong = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/v1/health").With("from-filf"));
            using var ops = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/metrics").With("ops-from-file"));

            Assert.Equal(HttpStatusCode.OK, reader.StatusCode);
            Assert.Contains("\"tenant\":\"team-f\"", await reader.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
            Assert.Equal(HttpStatusCode.OK, ops.StatusCode);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task InvalidMetricsPort_FailsStartup_NamingTheSetting()
    {
        var message = await StartupFailureAsync(new() { ["Metrics:Port"] = "70000" });

        Assert.Contains("Metrics:Port", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuthOff_WithValidKeys_Starts_AndDoesNotAskForKeys()
    {
        var settings = Key(0, "ci", ValidHash, "team-a", "ingest");
        settings["Auth:Enabled"] = "false";
        await using var collector = new CollectorFactory(settings);
        using var client = collector.CreateClient();

        using var response = await client.GetAsync("/api/v1/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static Dictionary<string, string?> Key(int index, string name, string sha256, string? tenant, string role)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Auth:Enabled"] = "true",
            [$"Auth:Keys:{index}:Name"] = name,
            [$"Auth:Keys:{index}:Sha256"] = sha256,
            [$"Auth:Keys:{index}:Role"] = role,
        };
        if (tenant is not null)
        {
            settings[$"Auth:Keys:{index}:Tenant"] = tenant;
        }

        return settings;
    }

    private static async Task<string> StartupFailureAsync(Dictionary<string, string?> settings)
    {
        await using var collector = new CollectorFactory(settings);
        return Assert.Throws<OptionsValidationException>(() => collector.CreateClient()).Message;
    }
}

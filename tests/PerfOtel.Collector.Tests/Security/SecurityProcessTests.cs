using System.Net;
using PerfOtel.Testing;
using PerfOtel.Collector.Security;

namespace PerfOtel.Collector.Tests.Security;

/// <summary>
/// The collector as its own process: the separate /metrics listener (Metrics:Port), the start-up warning when
/// authentication is off on a non-loopback address, and the key commands.
/// </summary>
public sealed class SecurityProcessTests : IDisposable
{
    private const string ExposedWarning = "Authentication is OFF and the collector listens on";
    private const string ListeningLine = "API-key authentication is";

    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("perfotel-security-process-");

    public void Dispose() => _data.Delete(recursive: true);

    [Fact]
    public async Task MetricsPort_ServesOnlyMetrics_WithoutKey_AndTheMainPortNoLongerServesIt()
    {
        var metricsPort = TestPorts.GetFree();
        var settings = Strings(TestKeys.Settings());
        settings["Metrics:Port"] = metricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var collector = await CollectorProcess.StartAsync(_data.FullName, settings);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var metricsBase = new Uri($"http://127.0.0.1:{metricsPort}/");

        using var scrape = await http.GetAsync(new Uri(metricsBase, "metrics"));
        var exposition = await scrape.Content.ReadAsStringAsync();
        using var apiOnMetricsPort = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(metricsBase, "api/v1/health")).With(TestKeys.Admin));
        using var otlpOnMetricsPort = await http.PostAsync(new Uri(metricsBase, "v1/traces"), null);
        using var metricsOnMainPort = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(collector.BaseAddress, "metrics")).With(TestKeys.Admin));
        using var apiOnMainPort = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(collector.BaseAddress, "api/v1/health")).With(TestKeys.ReadA));

        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        Assert.Contains("# TYPE ", exposition, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, apiOnMetricsPort.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, otlpOnMetricsPort.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, metricsOnMainPort.StatusCode);
        Assert.Equal(HttpStatusCode.OK, apiOnMainPort.StatusCode);
    }

    [Fact]
    public async Task WithoutMetricsPort_AuthOn_MetricsNeedsTheAdminKey()
    {
        await using var collector = await CollectorProcess.StartAsync(_data.FullName, Strings(TestKeys.Settings()));
        using var http = new HttpClient { BaseAddress = collector.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

        using var anonymous = await http.GetAsync("metrics");
        using var tenant = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "metrics").With(TestKeys.ReadA));
        using var admin = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, "metrics").With(TestKeys.Admin));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, tenant.StatusCode);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
    }

    [Fact]
    public async Task AuthOff_OnAllInterfaces_WarnsOnStdout()
    {
        var port = TestPorts.GetFree();
        await using var collector = await CollectorProcess.StartAsync(_data.FullName,
            new Dictionary<string, string> { ["urls"] = $"http://0.0.0.0:{port}" }, port);

        var output = await OutputOnceAsync(collector, ExposedWarning);

        Assert.Contains(ExposedWarning, output, StringComparison.Ordinal);
        Assert.Contains($"0.0.0.0:{port}", output, StringComparison.Ordinal);
        Assert.Contains("Auth:Enabled", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuthOff_OnLoopback_DoesNotWarn()
    {
        await using var collector = await CollectorProcess.StartAsync(_data.FullName, environment: ListeningLogged());

        var output = await OutputOnceAsync(collector, ListeningLine);

        Assert.Contains(ListeningLine + " off", output, StringComparison.Ordinal);
        Assert.DoesNotContain(ExposedWarning, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AuthOn_OnAllInterfaces_DoesNotWarn()
    {
        var port = TestPorts.GetFree();
        var settings = Strings(TestKeys.Settings());
        settings["urls"] = $"http://0.0.0.0:{port}";
        await using var collector = await CollectorProcess.StartAsync(_data.FullName, settings, port, ListeningLogged());

        var output = await OutputOnceAsync(collector, ListeningLine);

        Assert.Contains(ListeningLine + " on with 5 keys", output, StringComparison.Ordinal);
        Assert.DoesNotContain(ExposedWarning, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NewApiKeyCommand_PrintsAKeyAndItsHash_AndHashApiKeyAgrees()
    {
        var (code, output) = await RunCommandAsync(ApiKeyCommands.NewKey);
        Assert.Equal(0, code);
        var key = Line(output, "key: ");
        var sha256 = Line(output, "sha256: ");
        Assert.StartsWith(ApiKeyHash.KeyPrefix, key, StringComparison.Ordinal);
        Assert.Equal(ApiKeyHash.HashHex(key), sha256);

        (code, output) = await RunCommandAsync(ApiKeyCommands.HashKey, key);
        Assert.Equal(0, code);
        Assert.Equal(sha256, Line(output, "sha256: "));
    }

    private static async Task<(int Code, string Output)> RunCommandAsync(params string[] arguments)
    {
        await using var process = ExternalProcess.Start("dotnet", [CollectorProcess.AssemblyPath, .. arguments],
            new Dictionary<string, string> { ["DOTNET_ENVIRONMENT"] = "Production" });
        Assert.True(await process.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the command did not exit");
        // The output is read asynchronously: give it a moment to drain after the exit.
        await process.WaitForExitAsync(TimeSpan.FromSeconds(5));
        return (process.ExitCode, process.Output);
    }

    private static string Line(string output, string prefix) =>
        output.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith(prefix, StringComparison.Ordinal))[prefix.Length..];

    /// <summary>The process output once a line is there, bounded by a deadline (the log is written after start-up).</summary>
    private static async Task<string> OutputOnceAsync(CollectorProcess collector, string expected)
    {
        for (var attempt = 0; attempt < 100 && !collector.Process.Output.Contains(expected, StringComparison.Ordinal); attempt++)
        {
            await Task.Delay(100);
        }

        return collector.Process.Output;
    }

    private static Dictionary<string, string> ListeningLogged() =>
        new() { ["Logging__LogLevel__PerfOtel.Collector.Security"] = "Information" };

    private static Dictionary<string, string> Strings(Dictionary<string, string?> settings) =>
        settings.ToDictionary(kv => kv.Key, kv => kv.Value ?? string.Empty);
}

using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PerfOtel.Exporter.Tests.TestSupport;

/// <summary>
/// A real Prometheus started on 127.0.0.1 (free port, throwaway TSDB, exemplar storage on, 1 s scrape interval) and
/// killed on dispose. Queries go through its HTTP API.
/// </summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly Process process;
    private readonly string directory;
    private readonly StringBuilder log = new();
    private readonly HttpClient client;

    private PrometheusServer(Process process, string directory, Uri baseAddress)
    {
        this.process = process;
        this.directory = directory;
        BaseAddress = baseAddress;
        client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
    }

    public Uri BaseAddress { get; }

    public string Log
    {
        get
        {
            lock (log)
            {
                return log.ToString();
            }
        }
    }

    /// <summary>Starts Prometheus scraping each job's single target (host:port) every second.</summary>
    public static async Task<PrometheusServer> StartAsync(IReadOnlyDictionary<string, string> jobTargets)
    {
        var binary = ExternalTool.Require("prometheus");
        var directory = Directory.CreateTempSubdirectory("perfotel-prometheus-").FullName;
        var config = new StringBuilder("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n");
        foreach (var (job, target) in jobTargets)
        {
            config.Append(CultureInfo.InvariantCulture, $"  - job_name: {job}\n    static_configs:\n      - targets: ['{target}']\n");
        }

        var configPath = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(configPath, config.ToString());
        var port = FreePort.Next();
        var startInfo = new ProcessStartInfo(binary)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[]
                 {
                     "--config.file=" + configPath,
                     "--storage.tsdb.path=" + Path.Combine(directory, "data"),
                     "--web.listen-address=127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture),
                     "--enable-feature=exemplar-storage",
                     "--log.level=warn",
                 })
        {
            startInfo.ArgumentList.Add(argument);
        }

        var process = Process.Start(startInfo) ?? throw new InvalidOperationException("prometheus did not start");
        var server = new PrometheusServer(process, directory, new Uri($"http://127.0.0.1:{port}/"));
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();

        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                await server.DisposeAsync();
                throw new InvalidOperationException($"prometheus exited with {process.ExitCode}:\n{server.Log}");
            }

            try
            {
                using var ready = await server.client.GetAsync(new Uri("-/ready", UriKind.Relative));
                if (ready.IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        await server.DisposeAsync();
        throw new TimeoutException($"prometheus was not ready within {StartTimeout}:\n{server.Log}");
    }

    /// <summary>Runs an instant query and returns each result series' labels and value.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> QueryAsync(string promql)
    {
        using var response = await client.GetAsync(new Uri("api/v1/query?query=" + Uri.EscapeDataString(promql), UriKind.Relative));
        var json = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"query {promql} failed: {json}");
        }

        using var document = JsonDocument.Parse(json);
        var results = new List<(IReadOnlyDictionary<string, string>, double)>();
        foreach (var series in document.RootElement.GetProperty("data").GetProperty("result").EnumerateArray())
        {
            var labels = series.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? string.Empty);
            var value = double.Parse(series.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
            results.Add((labels, value));
        }

        return results;
    }

    /// <summary>The single value of a query, or null when it returns no series.</summary>
    public async Task<double?> QueryScalarAsync(string promql)
    {
        var results = await QueryAsync(promql);
        return results.Count switch
        {
            0 => null,
            1 => results[0].Value,
            _ => throw new InvalidOperationException($"query {promql} returned {results.Count} series"),
        };
    }

    /// <summary>Exemplars of a selector over the last ten minutes: (labels, value) pairs.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> QueryExemplarsAsync(string selector)
    {
        var end = DateTimeOffset.UtcNow.AddMinutes(1).ToUnixTimeSeconds();
        var start = end - 660;
        using var response = await client.GetAsync(new Uri(
            $"api/v1/query_exemplars?query={Uri.EscapeDataString(selector)}&start={start}&end={end}", UriKind.Relative));
        var json = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"exemplar query {selector} failed: {json}");
        }

        using var document = JsonDocument.Parse(json);
        var results = new List<(IReadOnlyDictionary<string, string>, double)>();
        foreach (var series in document.RootElement.GetProperty("data").EnumerateArray())
        {
            foreach (var exemplar in series.GetProperty("exemplars").EnumerateArray())
            {
                var labels = exemplar.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? string.Empty);
                results.Add((labels, double.Parse(exemplar.GetProperty("value").GetString()!, CultureInfo.InvariantCulture)));
            }
        }

        return results;
    }

    /// <summary>Polls a query until the condition holds; fails with the last answer and Prometheus's log otherwise.</summary>
    public async Task<double?> WaitForAsync(string promql, Func<double?, bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        double? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = await QueryScalarAsync(promql);
            if (condition(last))
            {
                return last;
            }

            await Task.Delay(250);
        }

        var targets = await client.GetStringAsync(new Uri("api/v1/targets", UriKind.Relative));
        throw new Xunit.Sdk.XunitException($"'{promql}' never met its condition; last value {last?.ToString(CultureInfo.InvariantCulture) ?? "none"}.\ntargets: {targets}\nlog:\n{Log}");
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            log.AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        client.Dispose();
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            process.Dispose();
            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
                // A TSDB file still being closed; the temp directory is cleaned by the OS.
            }
        }
    }
}

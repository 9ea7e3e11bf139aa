using System.Globalization;
using System.Text;
using System.Text.Json;

namespace PerfOtel.Testing;

/// <summary>
/// A real Prometheus on 127.0.0.1 (free port, throwaway TSDB, 1 s scrape and rule evaluation) scraping the given jobs,
/// optionally loading rule files and sending alerts to an Alertmanager; killed on dispose.
/// </summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    private readonly ExternalProcess process;
    private readonly string directory;
    private readonly HttpClient client;

    private PrometheusServer(ExternalProcess process, string directory, Uri baseAddress)
    {
        this.process = process;
        this.directory = directory;
        BaseAddress = baseAddress;
        client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
    }

    public Uri BaseAddress { get; }

    public string Log => process.Output;

    /// <summary>Starts Prometheus; jobs map a job name to its targets (host:port), scraped every second.</summary>
    public static async Task<PrometheusServer> StartAsync(
        IReadOnlyDictionary<string, string[]> jobs,
        IEnumerable<string>? ruleFiles = null,
        string? alertmanagerTarget = null,
        IEnumerable<string>? extraArguments = null)
    {
        var binary = ExternalProcess.FindOnPath("prometheus")
            ?? throw new InvalidOperationException("prometheus not found on PATH: run scripts/install-test-deps.sh");
        var directory = Directory.CreateTempSubdirectory("perfotel-prometheus-").FullName;
        var config = new StringBuilder("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n");
        var rules = ruleFiles?.ToList() ?? [];
        if (rules.Count > 0)
        {
            config.Append("rule_files:\n");
            foreach (var file in rules)
            {
                config.Append(CultureInfo.InvariantCulture, $"  - '{file}'\n");
            }
        }
        if (alertmanagerTarget is not null)
        {
            config.Append(CultureInfo.InvariantCulture,
                $"alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['{alertmanagerTarget}']\n");
        }
        config.Append("scrape_configs:\n");
        foreach (var (job, targets) in jobs)
        {
            config.Append(CultureInfo.InvariantCulture,
                $"  - job_name: '{job}'\n    static_configs:\n      - targets: [{string.Join(", ", targets.Select(t => $"'{t}'"))}]\n");
        }
        var configPath = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(configPath, config.ToString());

        var port = TestPorts.GetFree();
        var arguments = new List<string>
        {
            "--config.file=" + configPath,
            "--storage.tsdb.path=" + Path.Combine(directory, "data"),
            "--web.listen-address=127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture),
            "--log.level=warn",
        };
        arguments.AddRange(extraArguments ?? []);
        var process = ExternalProcess.Start(binary, arguments);
        var server = new PrometheusServer(process, directory, new Uri($"http://127.0.0.1:{port}/"));

        try
        {
            await process.WaitUntilReadyAsync(new Uri(server.BaseAddress, "-/ready"), "prometheus", TimeSpan.FromSeconds(60));
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs an instant query: each result series' labels and value.</summary>
    public Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> QueryAsync(string promql) => QueryAtAsync(promql, null);

    /// <summary>
    /// Runs an instant query evaluated at <paramref name="at"/> (now when null): queries compared with each other
    /// should share one evaluation time, since rate() extrapolates to the end of its window.
    /// </summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> QueryAtAsync(string promql, DateTimeOffset? at)
    {
        var time = at is { } instant
            ? "&time=" + (instant.ToUnixTimeMilliseconds() / 1000.0).ToString("0.000", CultureInfo.InvariantCulture)
            : string.Empty;
        using var response = await client.GetAsync(new Uri("api/v1/query?query=" + Uri.EscapeDataString(promql) + time, UriKind.Relative));
        var json = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"query {promql} failed: {json}");
        }
        using var document = JsonDocument.Parse(json);
        var results = new List<(IReadOnlyDictionary<string, string>, double)>();
        foreach (var series in document.RootElement.GetProperty("data").GetProperty("result").EnumerateArray())
        {
            var labels = series.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "");
            results.Add((labels, double.Parse(series.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)));
        }
        return results;
    }

    /// <summary>Polls a query until the condition holds on its results, or fails with the last answer.</summary>
    public async Task<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>> WaitForAsync(
        string promql, Func<IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)>, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        IReadOnlyList<(IReadOnlyDictionary<string, string>, double)> last = [];
        while (DateTime.UtcNow < deadline)
        {
            last = await QueryAsync(promql);
            if (condition(last))
            {
                return last;
            }
            await Task.Delay(500);
        }
        var targets = await client.GetStringAsync(new Uri("api/v1/targets", UriKind.Relative));
        throw new Xunit.Sdk.XunitException(
            $"'{promql}' never met its condition; last answer: "
            + string.Join("; ", last.Select(r => "{" + string.Join(",", r.Item1.Select(l => $"{l.Key}={l.Value}")) + "} "
                + r.Item2.ToString("R", CultureInfo.InvariantCulture)))
            + $"\ntargets: {targets}\nlog:\n{Log}");
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

    /// <summary>Polls a single-valued query until the condition holds on its value (null: no series).</summary>
    public async Task<double?> WaitForScalarAsync(string promql, Func<double?, bool> condition, TimeSpan? timeout = null)
    {
        var results = await WaitForAsync(promql, r => r.Count <= 1 && condition(r.Count == 0 ? null : r[0].Value),
            timeout ?? TimeSpan.FromSeconds(120));
        return results.Count == 0 ? null : results[0].Value;
    }

    /// <summary>
    /// Exemplars of a selector over the last ten minutes as (labels, value) pairs. Needs the server started with
    /// <c>--enable-feature=exemplar-storage</c>.
    /// </summary>
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
                var labels = exemplar.GetProperty("labels").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "");
                results.Add((labels, double.Parse(exemplar.GetProperty("value").GetString()!, CultureInfo.InvariantCulture)));
            }
        }
        return results;
    }

    /// <summary>GET a Prometheus API path and return the body.</summary>
    public Task<string> GetStringAsync(string relative) => client.GetStringAsync(new Uri(relative, UriKind.Relative));

    public async ValueTask DisposeAsync()
    {
        client.Dispose();
        await process.DisposeAsync();
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

using BenchmarkDotNet.Attributes;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using PerfOtel.Collector.Analytics;
using PerfOtel.Exporter;

namespace PerfOtel.Benchmarks.Analytics;

/// <summary>
/// <c>/metrics</c> for 1 000 agents x 2 windows through PerfOtel.Exporter's HTTP listener on 127.0.0.1, as Prometheus
/// scrapes it (response cache off). Warm: no agent changed since the last scrape (reports come from the cache). Cold:
/// every agent got an invocation since (every report is re-derived); its ingest part is measured alone as a baseline.
/// Run: dotnet run -c Release --project benchmarks/PerfOtel.Benchmarks -- --filter '*AnalyticsScrape*' --job short
/// </summary>
[MemoryDiagnoser]
public class AnalyticsScrapeBenchmarks
{
    private const int Agents = 1_000;
    private AnalyticsBenchmarkHost host = null!;
    private MeterProvider meterProvider = null!;
    private HttpClient client = null!;
    private Uri scrapeUri = null!;
    private Collector.Model.IngestBatch[] onePerAgent = null!;

    [GlobalSetup]
    public void Setup()
    {
        host = new AnalyticsBenchmarkHost();
        // Two hours of traffic, one invocation per agent per minute: every 1h bucket and the previous hour are filled.
        for (var minute = 0; minute < 120; minute++)
        {
            for (var agent = 0; agent < Agents; agent++)
            {
                host.Observer.OnCommitted(host.Batch(Name(agent), AnalyticsBenchmarkHost.Now.AddMinutes(-minute)));
            }
        }
        onePerAgent = Enumerable.Range(0, Agents).Select(a => host.Batch(Name(a), AnalyticsBenchmarkHost.Now)).ToArray();

        var port = AnalyticsBenchmarkHost.FreePort();
        meterProvider = Sdk.CreateMeterProviderBuilder()
            .AddPerfOtelPrometheusHttpListener(options =>
            {
                options.UriPrefixes = [$"http://127.0.0.1:{port}/"];
                options.ScrapeResponseCacheDuration = TimeSpan.Zero;
                options.MaxSeries = 1_000_000;
                options.Producers.Add(host.Exposition);
            })
            .Build();
        client = new HttpClient();
        scrapeUri = new Uri($"http://127.0.0.1:{port}/metrics");
        SeriesPerScrape = client.GetStringAsync(scrapeUri).GetAwaiter().GetResult().Split('\n').Count(l => l.StartsWith("perfotel_", StringComparison.Ordinal));
        Console.WriteLine($"// series per scrape: {SeriesPerScrape}");
    }

    public int SeriesPerScrape { get; private set; }

    [GlobalCleanup]
    public void Cleanup()
    {
        client.Dispose();
        meterProvider.Dispose();
        host.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void IngestOnePerAgent()
    {
        foreach (var batch in onePerAgent)
        {
            host.Observer.OnCommitted(batch);
        }
    }

    [Benchmark]
    public async Task<int> ScrapeWarm() => (await client.GetByteArrayAsync(scrapeUri)).Length;

    [Benchmark]
    public async Task<int> ScrapeCold()
    {
        IngestOnePerAgent();
        return (await client.GetByteArrayAsync(scrapeUri)).Length;
    }

    private static string Name(int agent) => "agent-" + agent.ToString("D4", System.Globalization.CultureInfo.InvariantCulture);
}

using BenchmarkDotNet.Attributes;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using PerfOtel.Exporter;
using PerfOtel.Collector.Derived.Analytics;

namespace PerfOtel.Benchmarks.Analytics;

/// <summary>
/// <c>/metrics</c> for 1 000 agents x 2 windows through PerfOtel.Exporter's HTTP listener on 127.0.0.1, as Prometheus
/// scrapes it (response cache off). Served: the analytics encoding is current (the background refresher keeps it so),
/// in plain text and gzip as Prometheus asks for it. Refresh: the refresher's work after every agent got an invocation
/// (every report re-derived and re-encoded), off the scrape path. Deriving: the same work done by the scrape itself, as
/// with <c>Analytics:ExpositionRefreshInterval</c> 0. The ingest of one invocation per agent is the baseline.
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
    private Collector.Records.IngestBatch[] onePerAgent = null!;

    [GlobalSetup]
    public void Setup()
    {
        host = new AnalyticsBenchmarkHost();
        // Two hours of traffic, one invocation per agent per minute: every 1h bucket and the previous hour are filled.
        for (var minute = 0; minute < 120; minute++)
        {
            for (var agent = 0; agent < Agents; agent++)
            {
                host.Observer.Apply(host.Batch(Name(agent), AnalyticsBenchmarkHost.Now.AddMinutes(-minute)));
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
            host.Observer.Apply(batch);
        }
    }

    [Benchmark]
    public async Task<int> ScrapeServed() => (await client.GetByteArrayAsync(scrapeUri)).Length;

    [Benchmark]
    public async Task<int> ScrapeServedGzip()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, scrapeUri);
        request.Headers.AcceptEncoding.ParseAdd("gzip");
        using var response = await client.SendAsync(request);
        return (await response.Content.ReadAsByteArrayAsync()).Length;
    }

    [Benchmark]
    public void RefreshAfterFleetWideChange()
    {
        IngestOnePerAgent();
        host.Exposition.Refresh();
    }

    [Benchmark]
    public async Task<int> ScrapeDerivingAfterFleetWideChange()
    {
        IngestOnePerAgent();
        return (await client.GetByteArrayAsync(scrapeUri)).Length;
    }

    private static string Name(int agent) => "agent-" + agent.ToString("D4", System.Globalization.CultureInfo.InvariantCulture);
}

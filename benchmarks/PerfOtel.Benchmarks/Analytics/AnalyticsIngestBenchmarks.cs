using BenchmarkDotNet.Attributes;
using PerfOtel.Collector.Records;

namespace PerfOtel.Benchmarks.Analytics;

/// <summary>
/// Derivation cost per ingested invocation against the history already held. Ingest touches one bucket per window and
/// a report rebuild merges a fixed number of buckets, so both must stay flat from 10 000 to 1 000 000 invocations of
/// history, spread evenly over the 48 hours the rings hold so that every bucket has data in both cases (the cost
/// depends on the buckets with data, which are bounded, never on the invocations in them). Run: dotnet run -c Release --project benchmarks/PerfOtel.Benchmarks -- --filter '*AnalyticsIngest*' --job short
/// </summary>
[MemoryDiagnoser]
public class AnalyticsIngestBenchmarks
{
    private AnalyticsBenchmarkHost host = null!;
    private IngestBatch next = null!;

    [Params(10_000, 1_000_000)]
    public int History { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        host = new AnalyticsBenchmarkHost();
        var spacing = TimeSpan.FromHours(48) / History;
        for (var i = 0; i < History; i++)
        {
            var start = AnalyticsBenchmarkHost.Now - i * spacing;
            host.Observer.Apply(host.Batch("agent", start));
        }
        next = host.Batch("agent", AnalyticsBenchmarkHost.Now);
    }

    [GlobalCleanup]
    public void Cleanup() => host.Dispose();

    /// <summary>What the writer's path pays: the observer accounting one committed invocation, call and evaluation.</summary>
    [Benchmark(Baseline = true)]
    public void Ingest() => host.Observer.Apply(next);

    /// <summary>Ingest plus re-deriving every value of both windows for that agent (the first scrape after it).</summary>
    [Benchmark]
    public double IngestAndDerive()
    {
        host.Observer.Apply(next);
        var agent = host.Windows.Find("default", "agent")!;
        return (host.Windows.Report(agent, 0).HealthScore ?? 0) + (host.Windows.Report(agent, 1).HealthScore ?? 0);
    }
}

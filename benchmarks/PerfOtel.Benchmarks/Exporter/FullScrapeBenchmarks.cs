using BenchmarkDotNet.Attributes;
using PerfOtel.Exporter;
using PerfOtel.Exporter.Implementation;
using PerfOtel.Exporter.Implementation.Serialization;

namespace PerfOtel.Benchmarks.Exporter;

/// <summary>
/// A whole scrape of 10 000 series without HTTP: SDK collection plus serialisation through the exporter's scrape
/// coordinator (cache disabled, so every scrape collects), against collection plus the naive serializer.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
[MinColumn]
[MedianColumn]
public class FullScrapeBenchmarks
{
    private ExporterWorkload workload = null!;
    private PerfOtelPrometheusExporter exporter = null!;

    [Params(10_000)]
    public int SeriesCount { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        workload = new ExporterWorkload(SeriesCount, builder => builder.AddPerfOtelPrometheusExporter(options =>
        {
            options.ScrapeResponseCacheDuration = TimeSpan.Zero;
            options.MaxSeries = int.MaxValue;
        }));
        exporter = PerfOtelPrometheusExporter.FindFor(workload.MeterProvider)!;
        Scrape(ExpositionFormat.PrometheusText);
    }

    [GlobalCleanup]
    public void Cleanup() => workload.Dispose();

    [Benchmark(Baseline = true)]
    public int CollectThenNaiveStringBuilder()
    {
        // The capturing reader collects; its batch is then serialised the naive way.
        workload.CollectCaptured();
        return NaiveStringBuilderSerializer.Serialize(workload.Batch).Length;
    }

    [Benchmark]
    public int PerfOtelScrapeText() => Scrape(ExpositionFormat.PrometheusText);

    [Benchmark]
    public int PerfOtelScrapeOpenMetrics() => Scrape(ExpositionFormat.OpenMetrics);

    private int Scrape(ExpositionFormat format)
    {
        using var lease = exporter.Scrapes.GetAsync(format, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return lease.Content.Length;
    }
}

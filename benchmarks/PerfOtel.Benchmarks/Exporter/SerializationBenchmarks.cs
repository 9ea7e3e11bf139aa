using BenchmarkDotNet.Attributes;
using PerfOtel.Exporter.Implementation.Serialization;

namespace PerfOtel.Benchmarks.Exporter;

/// <summary>
/// Serialisation of already-collected counter series (one exposition line per series), PerfOtel against the naive
/// StringBuilder baseline. Time per line = mean / SeriesCount.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
[MinColumn]
[MedianColumn]
public class SerializationBenchmarks
{
    private ExporterWorkload workload = null!;
    private ExpositionSerializer serializer = null!;
    private ExpositionBuffer buffer = null!;

    [Params(1_000, 10_000)]
    public int SeriesCount { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        workload = new ExporterWorkload(SeriesCount);
        serializer = new ExpositionSerializer(addTotalSuffix: true, emitScopeLabels: true, maxSeries: int.MaxValue);
        buffer = new ExpositionBuffer();

        // Warm the reused buffer and the per-stream caches, as every scrape after the first finds them.
        serializer.Write(buffer, workload.Batch, ExpositionFormat.PrometheusText, null);
        serializer.Write(buffer, workload.Batch, ExpositionFormat.OpenMetrics, null);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        buffer.Dispose();
        workload.Dispose();
    }

    [Benchmark(Baseline = true)]
    public int NaiveStringBuilderText() => NaiveStringBuilderSerializer.Serialize(workload.Batch).Length;

    [Benchmark]
    public int PerfOtelText()
    {
        serializer.Write(buffer, workload.Batch, ExpositionFormat.PrometheusText, null);
        return buffer.Length;
    }

    [Benchmark]
    public int PerfOtelOpenMetrics()
    {
        serializer.Write(buffer, workload.Batch, ExpositionFormat.OpenMetrics, null);
        return buffer.Length;
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using PerfOtel.Exporter;
using PerfOtel.Exporter.Implementation;
using PerfOtel.Exporter.Implementation.Serialization;

namespace PerfOtel.Benchmarks.Exporter;

/// <summary>
/// <c>serialize-cpu SERIES SECONDS [ROUNDS] [shifting]</c>: the exporter's own work per scrape without HTTP, in CPU time of the
/// measuring thread (so other processes on a busy machine, the GC's and the JIT's threads do not count): serialising an
/// already-collected batch (the <see cref="SerializationBenchmarks"/> workload) and a whole scrape (SDK collection plus
/// serialisation through the scrape coordinator, cache off, as <see cref="FullScrapeBenchmarks"/>), in text and
/// OpenMetrics, interleaved in blocks; with <c>shifting</c>, a text scrape whose first line changes length every time
/// instead (so no line is where the previous scrape left it). Per round and operation: thread-CPU microseconds per operation (median of the
/// blocks) and nanoseconds per series. For comparing two builds of the exporter on a shared machine, run alternately.
/// </summary>
internal static class SerializeCpuDriver
{
    public const string Command = "serialize-cpu";
    private const int OperationsPerBlock = 20;
    private const int ClockThreadCpuTime = 3;
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(5);

    public static int Run(string[] args)
    {
        if (args.Length is not (2 or 3 or 4) || !OperatingSystem.IsLinux())
        {
            Console.Error.WriteLine($"usage (Linux): {Command} SERIES SECONDS [ROUNDS] [shifting]");
            return 2;
        }

        var seriesCount = int.Parse(args[0], CultureInfo.InvariantCulture);
        var seconds = TimeSpan.FromSeconds(double.Parse(args[1], CultureInfo.InvariantCulture));
        var rounds = args.Length >= 3 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
        if (args.Length == 4)
        {
            return args[3] == "shifting" ? RunShifting(seriesCount, seconds, rounds) : 2;
        }

        using var collected = new ExporterWorkload(seriesCount);
        var serializer = new ExpositionSerializer(addTotalSuffix: true, emitScopeLabels: true, maxSeries: int.MaxValue);
        // One buffer per format, as the scrape coordinator keeps one per format for a single scraper.
        using var textBuffer = new ExpositionBuffer();
        using var openMetricsBuffer = new ExpositionBuffer();
        using var scraped = new ExporterWorkload(seriesCount, builder => builder.AddPerfOtelPrometheusExporter(options =>
        {
            options.ScrapeResponseCacheDuration = TimeSpan.Zero;
            options.MaxSeries = int.MaxValue;
        }));
        var exporter = PerfOtelPrometheusExporter.FindFor(scraped.MeterProvider)!;

        var operations = new (string Name, Func<int> Run)[]
        {
            ("serialise text", () => Serialise(ExpositionFormat.PrometheusText)),
            ("serialise om", () => Serialise(ExpositionFormat.OpenMetrics)),
            ("scrape text", () => Scrape(exporter, ExpositionFormat.PrometheusText)),
            ("scrape om", () => Scrape(exporter, ExpositionFormat.OpenMetrics)),
        };

        Measure(operations, seriesCount, seconds, rounds);
        return 0;

        int Serialise(ExpositionFormat format)
        {
            var buffer = format == ExpositionFormat.OpenMetrics ? openMetricsBuffer : textBuffer;
            serializer.Write(buffer, collected.Batch, format, null);
            return buffer.Length;
        }
    }

    private static int RunShifting(int seriesCount, TimeSpan seconds, int rounds)
    {
        using var steady = new ExporterWorkload(seriesCount, AddExporter);
        using var shifting = new ExporterWorkload(seriesCount, AddExporter, shiftingFirstLine: true);
        var steadyExporter = PerfOtelPrometheusExporter.FindFor(steady.MeterProvider)!;
        var shiftingExporter = PerfOtelPrometheusExporter.FindFor(shifting.MeterProvider)!;
        Measure(
            [
                ("scrape text", () => Scrape(steadyExporter, ExpositionFormat.PrometheusText)),
                ("scrape text, first line changes length", () => Scrape(shiftingExporter, ExpositionFormat.PrometheusText)),
            ],
            seriesCount, seconds, rounds);
        return 0;

        static void AddExporter(OpenTelemetry.Metrics.MeterProviderBuilder builder) => builder.AddPerfOtelPrometheusExporter(options =>
        {
            options.ScrapeResponseCacheDuration = TimeSpan.Zero;
            options.MaxSeries = int.MaxValue;
        });
    }

    private static void Measure((string Name, Func<int> Run)[] operations, int seriesCount, TimeSpan seconds, int rounds)
    {
        var warmUp = Stopwatch.StartNew();
        while (warmUp.Elapsed < WarmUp)
        {
            foreach (var (_, run) in operations)
            {
                run();
            }
        }

        for (var round = 0; round < rounds; round++)
        {
            var blocks = operations.Select(_ => new List<double>()).ToArray();
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < seconds)
            {
                for (var i = 0; i < operations.Length; i++)
                {
                    var before = ThreadCpuNanoseconds();
                    for (var n = 0; n < OperationsPerBlock; n++)
                    {
                        operations[i].Run();
                    }

                    blocks[i].Add((ThreadCpuNanoseconds() - before) / (double)OperationsPerBlock);
                }
            }

            for (var i = 0; i < operations.Length; i++)
            {
                blocks[i].Sort();
                var median = blocks[i][blocks[i].Count / 2];
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"round {round} {operations[i].Name}: {blocks[i].Count} blocks, thread cpu median {median / 1000:F1} us/op, "
                    + $"{median / seriesCount:F1} ns/series, min {blocks[i][0] / 1000:F1} us/op"));
            }
        }
    }

    private static int Scrape(PerfOtelPrometheusExporter exporter, ExpositionFormat format)
    {
        using var lease = exporter.Scrapes.GetAsync(format, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return lease.Content.Length;
    }

    private static long ThreadCpuNanoseconds()
    {
        if (ClockGetTime(ClockThreadCpuTime, out var time) != 0)
        {
            throw new InvalidOperationException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        }

        return (time.Seconds * 1_000_000_000) + time.Nanoseconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);
}

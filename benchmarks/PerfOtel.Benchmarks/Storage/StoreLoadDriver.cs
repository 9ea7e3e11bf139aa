using System.Diagnostics;
using System.Globalization;
using PerfOtel.Benchmarks.Load;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage.Postgres;
using PerfOtel.Collector.Storage.Sqlite;

namespace PerfOtel.Benchmarks.Storage;

/// <summary>
/// Store-level load (not the wire path: no HTTP, decoding, mapping or derivations; <c>ingest-load</c> measures those).
/// Sustained ingest into a real store through <see cref="IExecutionStore.WriteAsync"/>: concurrent writers, each
/// sending 100-span batches and waiting for the commit acknowledgment before the next, as receiver requests do.
/// Prints spans/s, acknowledgment latency and memory (GC heap, working set) every interval, then a summary.
/// </summary>
/// <example>
/// dotnet run -c Release --project benchmarks/PerfOtel.Benchmarks -- store-load --provider sqlite --seconds 300
/// </example>
public static class StoreLoadDriver
{
    public const string Command = "store-load";
    public const int SpansPerBatch = 100;

    public static async Task<int> RunAsync(string[] args)
    {
        var options = LoadOptions.Parse(args);
        if (options is null)
        {
            Console.Error.WriteLine("""
                usage: store-load [--provider sqlite|postgres] [--seconds 60] [--writers 8] [--interval 5]
                                  [--data-dir DIR] [--durability full|normal] [--connection NPGSQL_CONNECTION_STRING]
                                  [--links on|off] [--cache-mib 16]
                  --links on (default): each batch carries one span link per span, as the ingest writer stores them
                  --cache-mib: SQLite's writer cache (Storage:SqliteCacheMiB)
                """);
            return 2;
        }

        await using var store = CreateStore(options);
        await store.InitializeAsync(CancellationToken.None);
        Console.WriteLine($"store-load (store level: IExecutionStore.WriteAsync, no HTTP, decoding or derivations): {options.Provider} ({options.Describe()}), {options.Writers} writers, " +
                          $"{SpansPerBatch}-span batches, span links {(options.Links ? "on" : "off")}, {options.Seconds} s, {Environment.ProcessorCount} cores");
        // CPU use is printed beside throughput: on a shared machine spans per CPU-second is the comparable figure.
        Console.WriteLine("  elapsed_s   spans_per_s   cpu_cores   spans_per_cpu_s   ack_p50_ms   ack_p99_ms   gc_heap_mb   working_set_mb");
        var process = Process.GetCurrentProcess();

        var counters = new LoadCounters();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(options.Seconds));
        var writers = Enumerable.Range(0, options.Writers)
            .Select(writer => Task.Run(() => WriteUntilStoppedAsync(store, new BatchGenerator(writer, options.Links), counters, stop.Token)))
            .ToArray();

        var samples = new List<Sample>();
        var clock = Stopwatch.StartNew();
        long lastSpans = 0;
        var lastElapsed = TimeSpan.Zero;
        var lastCpu = process.TotalProcessorTime;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(options.IntervalSeconds), stop.Token);
            }
            catch (OperationCanceledException)
            {
            }

            var elapsed = clock.Elapsed;
            var spans = Interlocked.Read(ref counters.Spans);
            var (p50, p99) = counters.TakeLatencyPercentiles();
            process.Refresh();
            var cpu = process.TotalProcessorTime;
            var seconds = (elapsed - lastElapsed).TotalSeconds;
            var cpuSeconds = (cpu - lastCpu).TotalSeconds;
            var sample = new Sample(elapsed.TotalSeconds, (spans - lastSpans) / seconds, cpuSeconds / seconds,
                (spans - lastSpans) / Math.Max(cpuSeconds, 1e-9), p50, p99,
                GC.GetGCMemoryInfo().HeapSizeBytes / 1048576.0, Environment.WorkingSet / 1048576.0);
            samples.Add(sample);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {sample.Elapsed,9:F0}   {sample.SpansPerSecond,11:F0}   {sample.CpuCores,9:F2}   {sample.SpansPerCpuSecond,15:F0}   {sample.AckP50,10:F1}   {sample.AckP99,10:F1}   {sample.HeapMb,10:F1}   {sample.WorkingSetMb,14:F1}"));
            lastSpans = spans;
            lastElapsed = elapsed;
            lastCpu = cpu;
        }

        await Task.WhenAll(writers);
        var total = Interlocked.Read(ref counters.Spans);
        // The first interval includes JIT and cache warm-up; steady state is the rest.
        var steady = samples.Count > 1 ? samples.Skip(1).ToList() : samples;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            summary: {total} spans acknowledged in {clock.Elapsed.TotalSeconds:F0} s; {total / clock.Elapsed.TotalSeconds:F0} spans/s overall
              steady state: {steady.Average(s => s.SpansPerSecond):F0} spans/s mean, {steady.Min(s => s.SpansPerSecond):F0} min, using {steady.Average(s => s.CpuCores):F2} cores ({steady.Average(s => s.SpansPerCpuSecond):F0} spans per CPU-second); ack p99 up to {steady.Max(s => s.AckP99):F1} ms
              machine load average at the end: {LoadAverage()}
              GC heap {steady.Min(s => s.HeapMb):F1}-{steady.Max(s => s.HeapMb):F1} MB, working set {steady.Min(s => s.WorkingSetMb):F1}-{steady.Max(s => s.WorkingSetMb):F1} MB (first {steady[0].WorkingSetMb:F1}, last {steady[^1].WorkingSetMb:F1})
            """));
        return 0;
    }

    private static IExecutionStore CreateStore(LoadOptions options) => options.Provider switch
    {
        "postgres" => new PostgresExecutionStore(options.ConnectionString
            ?? throw new ArgumentException("--connection is required for --provider postgres")),
        _ => new SqliteExecutionStore(options.DataDirectory, options.Durability != "normal", cacheMiB: options.CacheMiB),
    };

    private static async Task WriteUntilStoppedAsync(IExecutionStore store, BatchGenerator generator, LoadCounters counters,
        CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var batch = generator.Next();
            var started = Stopwatch.GetTimestamp();
            await store.WriteAsync(batch, CancellationToken.None);
            counters.Record(batch.Count, Stopwatch.GetElapsedTime(started));
        }
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private sealed record Sample(double Elapsed, double SpansPerSecond, double CpuCores, double SpansPerCpuSecond,
        double AckP50, double AckP99, double HeapMb, double WorkingSetMb);

    private sealed class LoadCounters
    {
        public long Spans;

        public LatencyHistogram Latency { get; } = new();

        public void Record(int spans, TimeSpan latency)
        {
            Interlocked.Add(ref Spans, spans);
            Latency.Record(latency);
        }

        public (double P50, double P99) TakeLatencyPercentiles() => Latency.TakeInterval();
    }

    private sealed record LoadOptions(string Provider, int Seconds, int Writers, int IntervalSeconds,
        string DataDirectory, string Durability, string? ConnectionString, bool Links, int CacheMiB)
    {
        public string Describe() => Provider == "postgres"
            ? "PostgreSQL"
            : $"SQLite in {Path.GetFullPath(DataDirectory)}, durability {Durability}, cache {CacheMiB} MiB";

        public static LoadOptions? Parse(string[] args)
        {
            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i + 1 < args.Length; i += 2)
            {
                if (!args[i].StartsWith("--", StringComparison.Ordinal))
                {
                    return null;
                }

                values[args[i][2..]] = args[i + 1];
            }

            if (args.Length % 2 != 0)
            {
                return null;
            }

            var provider = values.GetValueOrDefault("provider", "sqlite");
            if (provider is not ("sqlite" or "postgres"))
            {
                return null;
            }

            var links = values.GetValueOrDefault("links", "on");
            if (links is not ("on" or "off"))
            {
                return null;
            }

            return new LoadOptions(
                provider,
                int.Parse(values.GetValueOrDefault("seconds", "60"), CultureInfo.InvariantCulture),
                int.Parse(values.GetValueOrDefault("writers", "8"), CultureInfo.InvariantCulture),
                int.Parse(values.GetValueOrDefault("interval", "5"), CultureInfo.InvariantCulture),
                values.GetValueOrDefault("data-dir", Path.Combine(Path.GetTempPath(), "perfotel-store-load")),
                values.GetValueOrDefault("durability", "full"),
                values.GetValueOrDefault("connection"),
                links == "on",
                int.Parse(values.GetValueOrDefault("cache-mib", SqliteExecutionStore.DefaultCacheMiB.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture));
        }
    }
}

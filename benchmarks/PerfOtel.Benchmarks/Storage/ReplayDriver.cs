using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using PerfOtel.Collector.Derived;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Hosting;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage.Postgres;
using PerfOtel.Collector.Storage.Sqlite;

namespace PerfOtel.Benchmarks.Storage;

/// <summary>
/// Start-up replay time: fills a real store with agent traffic (per invocation two or three provider calls, a tool
/// call and a quarter of the time an evaluation, as <see cref="BatchGenerator"/> makes them) until it holds the asked
/// number of invocations, then runs the collector's one replay (<see cref="DerivationReplay"/>) into every derivation the
/// composition root registers, and prints its time and memory. A minutes-long single measurement, not a BenchmarkDotNet run.
/// </summary>
/// <example>
/// dotnet run -c Release --project benchmarks/PerfOtel.Benchmarks -- replay --invocations 1000000 --data-dir /tmp/replay
/// </example>
public static class ReplayDriver
{
    public const string Command = "replay";

    public static async Task<int> RunAsync(string[] args)
    {
        var invocations = 1_000_000L;
        var provider = "sqlite";
        string? connection = null;
        var dataDirectory = Path.Combine(Path.GetTempPath(), "perfotel-replay");
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--invocations": invocations = long.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--provider": provider = args[i + 1]; break;
                case "--connection": connection = args[i + 1]; break;
                case "--data-dir": dataDirectory = args[i + 1]; break;
                case "--fill": break;
                default:
                    Console.Error.WriteLine("usage: replay [--invocations 1000000] [--provider sqlite|postgres] [--data-dir DIR] [--connection NPGSQL_CONNECTION_STRING --fill yes]");
                    return 2;
            }
        }

        await using var store = provider == "postgres"
            ? (IExecutionStore)new PostgresExecutionStore(connection ?? throw new ArgumentException("--connection is required for postgres"))
            : new SqliteExecutionStore(dataDirectory, fullDurability: false);
        // A store filled by an earlier run (same --data-dir, or a PostgreSQL database) is replayed as it is.
        var fresh = provider == "postgres" ? args.Contains("--fill") : !File.Exists(Path.Combine(dataDirectory, SqliteExecutionStore.FileName));
        await store.InitializeAsync(CancellationToken.None);
        long stored = 0;
        if (fresh)
        {
            var fill = Stopwatch.StartNew();
            // No span links: the store keeps only those of the last two attribution horizons, not a whole history of them.
            var generator = new BatchGenerator(writer: 0, links: false);
            while (stored < invocations)
            {
                var batch = generator.Next();
                await store.WriteAsync(batch, CancellationToken.None);
                stored += batch.Invocations.Count;
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"replay: filled the store to {stored} invocations in {fill.Elapsed.TotalSeconds:F0} s"));
        }

        using var services = new ServiceCollection()
            .AddLogging()
            .AddMetrics()
            .AddSingleton(TimeProvider.System)
            .AddSingleton(store)
            .AddPerfOtelDerived(new ConfigurationBuilder().Build())
            .BuildServiceProvider();
        var pipeline = services.GetRequiredService<DerivationPipeline>();
        GC.Collect();
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        // As the collector's own start-up (DerivationReplay.StartAsync): the stored span links first, and every batch
        // through the attribution, which holds the records whose ancestry is still incomplete.
        var report = await DerivationReplay.ReplayAsync(store, pipeline, CancellationToken.None,
            services.GetRequiredService<SpanAttribution>(), TimeProvider.System);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime - cpuBefore;
        var heapAfter = GC.GetTotalMemory(forceFullCollection: true);
        var records = report.Invocations + report.ProviderCalls + report.ToolCalls + report.Evaluations;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
            replay: {provider}, {string.Join(", ", pipeline.Derivations.Select(d => d.Name))}
              {report.Invocations} invocations, {report.ProviderCalls} provider calls, {report.ToolCalls} tool calls, {report.Evaluations} evaluations ({records} records)
              replayed in {report.Elapsed.TotalSeconds:F1} s ({records / report.Elapsed.TotalSeconds:F0} records/s), {cpu.TotalSeconds:F1} CPU-seconds
              GC heap after the replay {(heapAfter - heapBefore) / 1048576.0:F1} MB above before; load average {LoadAverage()}
            """));
        return 0;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}

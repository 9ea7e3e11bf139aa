using BenchmarkDotNet.Running;
using PerfOtel.Benchmarks.Ingest;
using PerfOtel.Benchmarks.Storage;

namespace PerfOtel.Benchmarks;

/// <summary>
/// Run all benchmarks, or pick with --filter '*Provider*' (BenchmarkDotNet switcher syntax). <c>store-load</c> runs
/// the sustained store-level load driver instead, <c>ingest-load</c> the end-to-end one over the wire against a
/// collector process (minutes-long runs with memory sampling, which BenchmarkDotNet is not for); <c>replay</c>
/// measures the start-up replay of a store of a million invocations; <c>run-list</c> fills a store for the
/// run-list query figures; <c>scrape-cpu</c> compares the exporters' CPU per scrape, <c>serialize-cpu</c> gives PerfOtel.Exporter's own thread-CPU
/// per scrape without HTTP; <c>ui-cpu</c> gives the pages'
/// CPU time per request; <c>wal-frames</c> attributes the frames of SQLite WAL copies to the B-trees that wrote them.
/// </summary>
public static class BenchmarkEntry
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == StoreLoadDriver.Command)
        {
            return await StoreLoadDriver.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == IngestLoadDriver.Command)
        {
            return await IngestLoadDriver.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == Runs.RunListFill.Command)
        {
            return await Runs.RunListFill.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == ReplayDriver.Command)
        {
            return await ReplayDriver.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == Pages.UiCpuDriver.Command)
        {
            return Pages.UiCpuDriver.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == Exporter.ScrapeCpuDriver.Command)
        {
            return await Exporter.ScrapeCpuDriver.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == Exporter.SerializeCpuDriver.Command)
        {
            return Exporter.SerializeCpuDriver.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == WalFramesDriver.Command)
        {
            return WalFramesDriver.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == GcAllocationsDriver.Command)
        {
            return GcAllocationsDriver.Run(args[1..]);
        }

        BenchmarkSwitcher.FromAssembly(typeof(BenchmarkEntry).Assembly).Run(args);
        return 0;
    }
}

using System.Diagnostics;
using System.Globalization;

namespace PerfOtel.Benchmarks.Pages;

/// <summary>
/// <c>ui-cpu [requests] [page]</c>: CPU time per page request (the whole process's user + system time from the kernel, so the
/// garbage collector's threads count too) beside wall time, for each page warm and after new data, on the same site as
/// <see cref="UiPageBenchmarks"/>. CPU time is what a busy machine changes least: other processes lengthen the wall
/// time of a request, not the CPU it uses. Prints the load average with the figures.
/// </summary>
internal static class UiCpuDriver
{
    public const string Command = "ui-cpu";

    public static int Run(string[] args)
    {
        var requests = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 200;
        var only = args.Length > 1 ? args[1] : null;
        using var site = new UiBenchmarkSite();
        var agent = "/ui/agents/" + UiBenchmarkSite.Agent;
        var turn = 0;
        var cases = new (string Name, Func<string> Request)[]
        {
            ("overview", () => site.Get("/ui/")),
            ("agent", () => site.Get(agent)),
            ("models", () => site.Get("/ui/models")),
            ("experiments", () => site.Get("/ui/experiments")),
            ("run", () => site.Get(site.RunPath)),
            ("overview, first request after new data", () =>
            {
                site.NewData($"agent-{turn++ % UiBenchmarkSite.Agents:0000}");
                return site.Get("/ui/");
            }),
            ("agent, first request after new data", () =>
            {
                site.NewData(UiBenchmarkSite.Agent);
                return site.Get(agent);
            }),
        };
        Console.WriteLine($"load average before: {LoadAverage()}");
        // The collector's own background work (the metrics exposition's refresh, the alert evaluation's timer) runs
        // whatever the pages do: measured idle first, its share of each case's wall time is taken off the CPU figure.
        var idle = Stopwatch.StartNew();
        var idleCpu = Cpu();
        Thread.Sleep(TimeSpan.FromSeconds(10));
        var background = (Cpu() - idleCpu).TotalMilliseconds / idle.Elapsed.TotalMilliseconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"idle collector: {background * 1000:0.0} CPU ms per second"));
        Console.WriteLine($"| Page ({UiBenchmarkSite.Agents} agents) | CPU ms / request | CPU ms / request, idle background taken off | wall ms / request (mean) | wall ms p50 | characters |");
        Console.WriteLine("|---|--:|--:|--:|--:|--:|");
        foreach (var (name, request) in cases.Where(c => only is null || c.Name.Contains(only, StringComparison.Ordinal)))
        {
            // Warm-up: JIT and the first render of each page.
            for (var i = 0; i < 20; i++)
            {
                request();
            }
            GC.Collect();
            var cpuBefore = Cpu();
            var walls = new double[requests];
            var length = 0;
            var total = Stopwatch.StartNew();
            for (var i = 0; i < requests; i++)
            {
                var started = Stopwatch.GetTimestamp();
                length = request().Length;
                walls[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
            total.Stop();
            var cpu = (Cpu() - cpuBefore).TotalMilliseconds / requests;
            var wall = total.Elapsed.TotalMilliseconds / requests;
            Array.Sort(walls);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {cpu:0.00} | {Math.Max(0, cpu - background * wall):0.00} | {wall:0.00} | {walls[requests / 2]:0.00} | {length} |"));
        }
        Console.WriteLine($"load average after: {LoadAverage()}");
        return 0;
    }

    /// <summary>User and system time of the whole process (every thread, the garbage collector's included).</summary>
    private static TimeSpan Cpu()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}

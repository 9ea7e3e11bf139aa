using System.Diagnostics;
using System.Globalization;

namespace PerfOtel.Benchmarks.Exporter;

/// <summary>
/// <c>scrape-cpu ENDPOINTS SERIES text|om SECONDS</c>: the <see cref="PeerScrapeBenchmarks"/> set-up, then each
/// endpoint (perfotel, floor, otel, prometheus-net) GET in a loop for SECONDS, three rounds, printing wall time and
/// process CPU time per GET. CPU per GET moves much less than wall time when other work shares the machine, so this
/// is the tool for comparing the exporter with the floor on a busy machine and for attaching a profiler
/// (perf with DOTNET_PerfMapEnabled=1); the README's table comes from the BenchmarkDotNet class on an idle machine.
/// </summary>
internal static class ScrapeCpuDriver
{
    public const string Command = "scrape-cpu";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length != 4)
        {
            Console.Error.WriteLine($"usage: {Command} perfotel,floor,otel,prometheus-net SERIES text|om SECONDS");
            return 2;
        }

        var benchmarks = new PeerScrapeBenchmarks
        {
            SeriesCount = int.Parse(args[1], CultureInfo.InvariantCulture),
            Format = args[2] == "om" ? ScrapeFormat.OpenMetrics : ScrapeFormat.Text,
        };
        var seconds = TimeSpan.FromSeconds(double.Parse(args[3], CultureInfo.InvariantCulture));
        benchmarks.Setup();
        try
        {
            for (var round = 0; round < 3; round++)
            {
                foreach (var endpoint in args[0].Split(','))
                {
                    using var process = Process.GetCurrentProcess();
                    var cpuBefore = process.TotalProcessorTime;
                    var clock = Stopwatch.StartNew();
                    var gets = 0;
                    while (clock.Elapsed < seconds)
                    {
                        await (endpoint switch
                        {
                            "floor" => benchmarks.HttpFloor(),
                            "otel" => benchmarks.OpenTelemetry(),
                            "perfotel-without-created" => benchmarks.PerfOtelWithoutCreated(),
                            "prometheus-net" => benchmarks.PrometheusNet(),
                            _ => benchmarks.PerfOtel(),
                        });
                        gets++;
                    }

                    process.Refresh();
                    var cpu = process.TotalProcessorTime - cpuBefore;
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"round {round} {endpoint}: {gets} GETs, wall {clock.Elapsed.TotalMilliseconds / gets:F3} ms/GET, cpu {cpu.TotalMilliseconds / gets:F3} ms/GET"));
                }
            }
        }
        finally
        {
            benchmarks.Cleanup();
        }

        return 0;
    }
}

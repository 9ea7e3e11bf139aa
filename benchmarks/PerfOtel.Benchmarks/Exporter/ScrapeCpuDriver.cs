using System.Diagnostics;
using System.Globalization;

namespace PerfOtel.Benchmarks.Exporter;

/// <summary>
/// <c>scrape-cpu ENDPOINTS SERIES text|om SECONDS [ROUNDS] [shuffled|fixed]</c>: the <see cref="PeerScrapeBenchmarks"/>
/// set-up, a warm-up until the JIT has tiered the scrape paths up, then ROUNDS (default 3) rounds of SECONDS each in which
/// the endpoints (perfotel, perfotel-without-created, floor, otel, prometheus-net, prometheus-net-meter-adapter; for
/// diagnosis also collect-then-floor, PerfOtel's real collection followed by the floor's bytes, collect-hold-floor, the
/// same with the floor's bytes sent while the lease is held, and collect-then-own, the collection's own buffer sent as
/// the floor sends) take turns in blocks of a few GETs, in an order shuffled every pass (default) or fixed as given.
/// Interleaving puts every endpoint under the same machine load, so the ratios to the floor printed per round are fair
/// even when other work shares the machine (measuring one endpoint after the other is not: the load moves in between);
/// shuffling gives every endpoint the same mix of predecessors. Per endpoint and round: the wall-time median, mean,
/// minimum and 90th percentile per GET, the median time to the response headers, the median by place in the block,
/// process CPU per GET, bytes allocated per GET and garbage collections per 1 000 GETs. Also the tool for attaching a
/// profiler (perf with <c>DOTNET_PerfMapEnabled=1</c>).
/// </summary>
internal static class ScrapeCpuDriver
{
    public const string Command = "scrape-cpu";
    private const int GetsPerBlock = 10;
    private static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(10);

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length is not (4 or 5 or 6) || (args.Length == 6 && args[5] is not ("shuffled" or "fixed")))
        {
            Console.Error.WriteLine($"usage: {Command} perfotel,floor,otel,prometheus-net,prometheus-net-meter-adapter SERIES text|om SECONDS [ROUNDS] [shuffled|fixed]");
            return 2;
        }

        var benchmarks = new PeerScrapeBenchmarks
        {
            SeriesCount = int.Parse(args[1], CultureInfo.InvariantCulture),
            Format = args[2] == "om" ? ScrapeFormat.OpenMetrics : ScrapeFormat.Text,
        };
        var seconds = TimeSpan.FromSeconds(double.Parse(args[3], CultureInfo.InvariantCulture));
        var rounds = args.Length >= 5 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 3;
        var shuffled = args.Length < 6 || args[5] == "shuffled";
        var endpoints = args[0].Split(',');

        // In a fixed order every endpoint always follows the same one: the endpoint after the peers' blocks (whose
        // collections and garbage evict everything from the caches) pays for a cold first GET in every block, the one
        // after the floor never does. Shuffled per pass (fixed seed, so runs repeat), every endpoint follows every other
        // equally often.
        var order = (string[])endpoints.Clone();
        var random = new Random(19);
        Console.WriteLine($"order: {(shuffled ? "shuffled every pass" : "fixed, as given")}");
        benchmarks.Setup();
        try
        {
            // Tiered compilation takes seconds to reach the optimised code on a busy machine; measuring before that
            // compares instrumented code of one endpoint with optimised code of another.
            var warmUp = Stopwatch.StartNew();
            while (warmUp.Elapsed < WarmUp)
            {
                foreach (var endpoint in endpoints)
                {
                    await GetAsync(benchmarks, endpoint);
                }
            }

            for (var round = 0; round < rounds; round++)
            {
                var stats = endpoints.ToDictionary(e => e, _ => new EndpointStats());
                var clock = Stopwatch.StartNew();
                while (clock.Elapsed < seconds)
                {
                    if (shuffled)
                    {
                        random.Shuffle(order);
                    }

                    foreach (var endpoint in order)
                    {
                        await RunBlockAsync(benchmarks, endpoint, stats[endpoint]);
                    }
                }

                var floor = stats.TryGetValue("floor", out var f) ? f : null;
                foreach (var endpoint in endpoints)
                {
                    var s = stats[endpoint];
                    var ratios = floor is null || ReferenceEquals(s, floor)
                        ? string.Empty
                        : string.Create(CultureInfo.InvariantCulture,
                            $", to floor: median {s.Median / floor.Median:F2}x mean {s.Mean / floor.Mean:F2}x cpu {s.CpuPerGet / floor.CpuPerGet:F2}x"
                            + $" (by place: 1st {EndpointStats.MedianOf(s.ByPlace[0]) / EndpointStats.MedianOf(floor.ByPlace[0]):F2}x later {EndpointStats.MedianOf(s.ByPlace[2]) / EndpointStats.MedianOf(floor.ByPlace[2]):F2}x)");
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"round {round} {endpoint}: {s.Times.Count} GETs, wall median {s.Median:F3} mean {s.Mean:F3} min {s.Min:F3} "
                        + $"p90 {s.P90:F3} ms (headers median {s.HeadersMedian:F3}; median by place in block: 1st {EndpointStats.MedianOf(s.ByPlace[0]):F3}, 2nd {EndpointStats.MedianOf(s.ByPlace[1]):F3}, later {EndpointStats.MedianOf(s.ByPlace[2]):F3}), cpu {s.CpuPerGet:F3} ms/GET, allocated {s.Allocated / s.Times.Count} B/GET, "
                        + $"GCs per 1000 GETs gen0 {1000.0 * s.Gen0 / s.Times.Count:F1} gen1 {1000.0 * s.Gen1 / s.Times.Count:F1} "
                        + $"gen2 {1000.0 * s.Gen2 / s.Times.Count:F1}{ratios}"));
                }
            }
        }
        finally
        {
            benchmarks.Cleanup();
        }

        return 0;
    }

    private static async Task RunBlockAsync(PeerScrapeBenchmarks benchmarks, string endpoint, EndpointStats stats)
    {
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: false);
        var gen0Before = GC.CollectionCount(0);
        var gen1Before = GC.CollectionCount(1);
        var gen2Before = GC.CollectionCount(2);
        for (var i = 0; i < GetsPerBlock; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await GetAsync(benchmarks, endpoint);
            stats.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds, benchmarks.LastHeadersMilliseconds, Math.Min(i, 2));
        }

        process.Refresh();
        stats.Cpu += process.TotalProcessorTime - cpuBefore;
        stats.Allocated += GC.GetTotalAllocatedBytes(precise: false) - allocatedBefore;
        stats.Gen0 += GC.CollectionCount(0) - gen0Before;
        stats.Gen1 += GC.CollectionCount(1) - gen1Before;
        stats.Gen2 += GC.CollectionCount(2) - gen2Before;
    }

    private static Task<int> GetAsync(PeerScrapeBenchmarks benchmarks, string endpoint) => endpoint switch
    {
        "floor" => benchmarks.HttpFloor(),
        "otel" => benchmarks.OpenTelemetry(),
        "perfotel-without-created" => benchmarks.PerfOtelWithoutCreated(),
        "prometheus-net" => benchmarks.PrometheusNet(),
        "prometheus-net-meter-adapter" => benchmarks.PrometheusNetMeterAdapter(),
        "perfotel" => benchmarks.PerfOtel(),
        "collect-then-floor" => benchmarks.CollectThenFloor(),
        "collect-hold-floor" => benchmarks.CollectHoldFloor(),
        "collect-then-own" => benchmarks.CollectThenOwn(),
        _ => throw new ArgumentException($"unknown endpoint {endpoint}"),
    };

    private sealed class EndpointStats
    {
        private bool sorted;
        private double sum;

        public List<double> Times { get; } = new(capacity: 16_384);

        // Time to the response headers: for a buffered exporter the collection and serialisation, for the floor next
        // to nothing; the rest of the GET is the body's transfer.
        public List<double> HeaderTimes { get; } = new(capacity: 16_384);

        public double HeadersMedian
        {
            get
            {
                HeaderTimes.Sort();
                return HeaderTimes[HeaderTimes.Count / 2];
            }
        }

        public TimeSpan Cpu { get; set; }

        public long Allocated { get; set; }

        public int Gen0 { get; set; }

        public int Gen1 { get; set; }

        public int Gen2 { get; set; }

        public double Median => Sorted()[Times.Count / 2];

        public double Min => Sorted()[0];

        public double P90 => Sorted()[Times.Count * 9 / 10];

        public double Mean => sum / Times.Count;

        public double CpuPerGet => Cpu.TotalMilliseconds / Times.Count;

        // Wall times by place in the block: the first GET follows another endpoint's block (cold caches after a peer),
        // the second follows one GET of its own, the later ones are its steady state.
        public List<double>[] ByPlace { get; } = [new(2_048), new(2_048), new(16_384)];

        public static double MedianOf(List<double> values)
        {
            values.Sort();
            return values[values.Count / 2];
        }

        public void Add(double milliseconds, double headersMilliseconds, int place)
        {
            ByPlace[place].Add(milliseconds);
            Times.Add(milliseconds);
            HeaderTimes.Add(headersMilliseconds);
            sum += milliseconds;
            sorted = false;
        }

        private List<double> Sorted()
        {
            if (!sorted)
            {
                Times.Sort();
                sorted = true;
            }

            return Times;
        }
    }
}

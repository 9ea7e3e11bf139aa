using System.Globalization;
using Microsoft.Diagnostics.Tracing;
using Microsoft.Diagnostics.Tracing.Parsers.Clr;

namespace PerfOtel.Benchmarks.Ingest;

/// <summary>
/// What the collector allocates and which collections that costs (#21): reads an EventPipe trace of the runtime's GC
/// events (<c>dotnet-trace collect --providers Microsoft-Windows-DotNETRuntime:0x1:5</c>, the GC keyword at verbose,
/// which samples an allocation tick about every 100 KB a heap allocates, with the type that crossed it) and prints the
/// collections by generation, reason and type, then the sampled bytes by type for the small and the large object
/// heaps, and, given the spans the collector acknowledged over the trace, the bytes a span.
/// scripts/load/collector-gc-allocations.sh takes the trace during an <c>ingest-load</c> run and runs this.
/// </summary>
/// <example>
/// dotnet benchmarks/PerfOtel.Benchmarks/bin/Release/net10.0/PerfOtel.Benchmarks.dll gc-allocations --trace run.nettrace
///     --spans 1200000 --top 30
/// </example>
public static class GcAllocationsDriver
{
    public const string Command = "gc-allocations";

    private const string Usage = """
        usage: gc-allocations --trace PATH [--spans N] [--top N]
          --trace  an EventPipe trace with the runtime's GC keyword at verbose level (allocation ticks)
          --spans  spans the collector acknowledged while the trace ran: adds bytes a span
          --top    types listed per heap (default 25)
        """;

    public static int Run(string[] args)
    {
        string? trace = null;
        long spans = 0;
        var top = 25;
        for (var i = 0; i < args.Length; i += 2)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--trace" when value is not null: trace = value; break;
                case "--spans" when value is not null && long.TryParse(value, CultureInfo.InvariantCulture, out var n) && n >= 0: spans = n; break;
                case "--top" when value is not null && int.TryParse(value, CultureInfo.InvariantCulture, out var t) && t > 0: top = t; break;
                default:
                    Console.Error.WriteLine($"gc-allocations: cannot read '{args[i]}' {value}");
                    Console.Error.WriteLine(Usage);
                    return 2;
            }
        }
        if (trace is null || !File.Exists(trace))
        {
            Console.Error.WriteLine(trace is null ? "gc-allocations: --trace is required" : $"gc-allocations: no file {trace}");
            Console.Error.WriteLine(Usage);
            return 2;
        }

        var heaps = new Dictionary<string, Dictionary<string, long>>(StringComparer.Ordinal);
        var collections = new Dictionary<string, int>(StringComparer.Ordinal);
        using (var source = new EventPipeEventSource(trace))
        {
            source.Clr.GCAllocationTick += tick =>
            {
                var heap = tick.AllocationKind switch
                {
                    GCAllocationKind.Large => "large object heap",
                    GCAllocationKind.Pinned => "pinned object heap",
                    _ => "small object heap",
                };
                var types = heaps.TryGetValue(heap, out var known) ? known : heaps[heap] = new(StringComparer.Ordinal);
                var type = string.IsNullOrEmpty(tick.TypeName) ? "(unnamed)" : tick.TypeName;
                types[type] = types.GetValueOrDefault(type) + tick.AllocationAmount64;
            };
            source.Clr.GCStart += start =>
            {
                var key = string.Create(CultureInfo.InvariantCulture, $"gen{start.Depth} {start.Type} ({start.Reason})");
                collections[key] = collections.GetValueOrDefault(key) + 1;
            };
            source.Process();
        }

        Console.WriteLine("collections (generation, kind, reason):");
        foreach (var (key, count) in collections.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {count,7}  {key}"));
        }
        var total = heaps.Values.Sum(types => types.Values.Sum());
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sampled allocations: {total / 1e6:F1} MB{(spans > 0 ? $", {total / (double)spans:F0} bytes a span over {spans} spans" : "")}"));
        foreach (var (heap, types) in heaps.OrderByDescending(h => h.Value.Values.Sum()))
        {
            var sum = types.Values.Sum();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{heap}: {sum / 1e6:F1} MB ({100.0 * sum / total:F1} %)"));
            foreach (var (type, bytes) in types.OrderByDescending(t => t.Value).ThenBy(t => t.Key, StringComparer.Ordinal).Take(top))
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {bytes / 1e6,9:F1} MB {100.0 * bytes / sum,5:F1} %{(spans > 0 ? $" {bytes / (double)spans,7:F1} B/span" : "")}  {type}"));
            }
        }
        return 0;
    }
}

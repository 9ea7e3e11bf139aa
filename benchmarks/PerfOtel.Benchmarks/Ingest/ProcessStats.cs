using System.Diagnostics;
using System.Globalization;

namespace PerfOtel.Benchmarks.Ingest;

/// <summary>
/// Another process's CPU time and resident memory, read from <c>/proc/&lt;pid&gt;/stat</c> and <c>/proc/&lt;pid&gt;/status</c>,
/// so the collector's cost per span does not depend on how much of the machine the sender (or anyone else) took.
/// </summary>
internal sealed class ProcessStats(int pid)
{
    private static readonly double TicksPerSecond = ReadClockTicks();

    /// <summary>User plus system CPU seconds the process has used so far.</summary>
    public double CpuSeconds()
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // Field 2 (comm) is parenthesised and may hold spaces: count fields from the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // After comm: fields[0] is state (field 3), so utime (field 14) is fields[11] and stime (field 15) fields[12].
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks / TicksPerSecond;
    }

    /// <summary>Resident set size (VmRSS) in MiB.</summary>
    public double ResidentMb() => Memory().ResidentMb;

    /// <summary>
    /// Resident memory and its parts from <c>/proc/&lt;pid&gt;/status</c>, in MiB: anonymous (the GC heap, native
    /// allocations such as SQLite's page cache, thread stacks), file-backed (mapped assemblies and libraries) and shared
    /// (the runtime's double-mapped JIT code, SQLite's WAL index).
    /// </summary>
    public ResidentMemory Memory()
    {
        double rss = double.NaN, anon = double.NaN, file = double.NaN, shmem = double.NaN;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }

            ref var target = ref rss;
            switch (line[..colon])
            {
                case "VmRSS": target = ref rss; break;
                case "RssAnon": target = ref anon; break;
                case "RssFile": target = ref file; break;
                case "RssShmem": target = ref shmem; break;
                default: continue;
            }

            target = long.Parse(line[(colon + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) / 1024.0;
        }

        return new ResidentMemory(rss, anon, file, shmem);
    }

    private static double ReadClockTicks()
    {
        // USER_HZ: 100 on every Linux build that matters, but asked rather than assumed.
        try
        {
            using var getconf = Process.Start(new ProcessStartInfo("getconf", "CLK_TCK") { RedirectStandardOutput = true });
            var text = getconf?.StandardOutput.ReadToEnd().Trim();
            getconf?.WaitForExit();
            return double.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ticks) && ticks > 0 ? ticks : 100;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return 100;
        }
    }
}

/// <summary>A process's resident memory in MiB: the total and its anonymous, file-backed and shared parts.</summary>
internal readonly record struct ResidentMemory(double ResidentMb, double AnonMb, double FileMb, double ShmemMb);

using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;

namespace PerfOtel.Collector.Ingest;

/// <summary>
/// glibc's <c>malloc_trim(0)</c>: hands the whole free pages inside the malloc arenas back to the kernel. glibc returns
/// memory by itself only from the top of an arena; SQLite's page cache, statements and the runtime's native allocations
/// free blocks in the middle, which then stay resident until malloc reuses them. Under sustained ingest about 43 MB of
/// the collector's 66 MB of malloc arenas were free blocks, and one <c>malloc_trim(0)</c> lowered its resident memory by
/// 24 MB (docs/collector/ingest-performance.md, "Native memory handed back to the kernel, and what the rest of the plateau is").
/// </summary>
internal static class NativeMemoryTrim
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int MallocTrim(nuint pad);

    private static readonly Lazy<MallocTrim?> Function = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Whether this process's C library has <c>malloc_trim</c> (glibc on Linux; not musl, macOS or Windows).</summary>
    public static bool Available => Function.Value is not null;

    /// <summary>Calls <c>malloc_trim(0)</c>; false when unavailable or when glibc found nothing to hand back.</summary>
    public static bool Trim() => Function.Value is { } trim && trim(0) == 1;

    private static MallocTrim? Load()
    {
        if (!OperatingSystem.IsLinux()
            || !NativeLibrary.TryLoad("libc.so.6", out var libc)
            || !NativeLibrary.TryGetExport(libc, "malloc_trim", out var address))
        {
            return null;
        }

        return Marshal.GetDelegateForFunctionPointer<MallocTrim>(address);
    }
}

/// <summary>
/// Trims the malloc arenas every <see cref="IngestOptions.NativeMemoryTrimInterval"/> (off at zero, or where the C library
/// has no <c>malloc_trim</c>). A trim walks the arenas' free lists under their locks and advises the kernel to drop their
/// whole free pages: a few milliseconds at the sizes seen; the pages malloc reuses afterwards are faulted in again.
/// </summary>
internal sealed class NativeMemoryTrimmer(IOptions<IngestOptions> options, TimeProvider time,
    ILogger<NativeMemoryTrimmer> logger) : BackgroundService
{
    private long trims;
    private PeriodicTimer? timer;

    /// <summary>Trims made so far.</summary>
    public long Trims => Interlocked.Read(ref trims);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Here rather than in ExecuteAsync (which runs on its own task): the interval counts from the host's start.
        var interval = options.Value.NativeMemoryTrimInterval;
        if (interval != TimeSpan.Zero)
        {
            if (NativeMemoryTrim.Available)
            {
                timer = new PeriodicTimer(interval, time);
            }
            else
            {
                logger.LogDebug("Ingest:NativeMemoryTrimInterval has no effect here: the C library has no malloc_trim");
            }
        }

        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (timer is null)
        {
            return;
        }

        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            NativeMemoryTrim.Trim();
            Interlocked.Increment(ref trims);
        }
    }

    public override void Dispose()
    {
        timer?.Dispose();
        base.Dispose();
    }
}

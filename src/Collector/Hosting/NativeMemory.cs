using System.Runtime.InteropServices;

namespace PerfOtel.Collector.Hosting;

/// <summary>
/// Caps glibc's malloc arenas at start-up. glibc gives every thread that meets contention an arena of its own (up to
/// eight per core); SQLite, the TLS stack and the runtime allocate natively from whichever thread-pool thread runs
/// them, and each arena keeps its peak once its blocks are freed. Under ingest load that grew the collector's resident
/// memory by about 100 MB within a minute beyond its managed heap (docs/collector/otlp-ingest.md, "Memory under sustained
/// load"). Two arenas, as <c>MALLOC_ARENA_MAX=2</c> gives, is the usual setting for .NET services on Linux.
/// </summary>
internal static class NativeMemory
{
    /// <summary>Arenas kept when the environment does not say otherwise.</summary>
    public const int ArenaMax = 2;

    // glibc's malloc.h: M_ARENA_MAX.
    private const int MallocArenaMaxOption = -8;

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int Mallopt(int option, int value);

    /// <summary>
    /// Applies <see cref="ArenaMax"/> unless <c>MALLOC_ARENA_MAX</c> is set (glibc read it at process start, and it
    /// wins) or the C library is not glibc (musl has no per-thread arenas).
    /// </summary>
    /// <returns>Whether the cap was applied here.</returns>
    public static bool CapMallocArenas()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is { Length: > 0 })
        {
            return false;
        }
        if (!NativeLibrary.TryLoad("libc.so.6", out var libc) || !NativeLibrary.TryGetExport(libc, "mallopt", out var address))
        {
            return false;
        }
        return Marshal.GetDelegateForFunctionPointer<Mallopt>(address)(MallocArenaMaxOption, ArenaMax) == 1;
    }
}

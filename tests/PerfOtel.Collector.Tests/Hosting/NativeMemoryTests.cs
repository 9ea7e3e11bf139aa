using PerfOtel.Collector.Hosting;

namespace PerfOtel.Collector.Tests.Hosting;

/// <summary>
/// The collector caps glibc's malloc arenas at start-up (docs/collector/otlp-ingest.md, "Memory under sustained load"),
/// unless <c>MALLOC_ARENA_MAX</c> says otherwise.
/// </summary>
public sealed class NativeMemoryTests
{
    [Fact]
    public void On_glibc_the_arena_cap_is_applied_unless_the_environment_sets_one()
    {
        var glibc = OperatingSystem.IsLinux() && File.Exists("/proc/self/maps")
            && File.ReadLines("/proc/self/maps").Any(line => line.EndsWith("/libc.so.6", StringComparison.Ordinal));
        var fromEnvironment = Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is { Length: > 0 };

        Assert.Equal(glibc && !fromEnvironment, NativeMemory.CapMallocArenas());
    }
}

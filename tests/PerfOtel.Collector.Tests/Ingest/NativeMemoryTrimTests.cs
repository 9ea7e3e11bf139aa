using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PerfOtel.Collector.Hosting;
using PerfOtel.Collector.Ingest;
using PerfOtel.Collector.Tests.Otlp.Support;

namespace PerfOtel.Collector.Tests.Ingest;

/// <summary>
/// The malloc arenas' free pages are handed back to the kernel every <c>Ingest:NativeMemoryTrimInterval</c>
/// (docs/collector/otlp-ingest.md, "Memory under sustained load"): glibc keeps blocks freed in the middle of an arena
/// resident, and under ingest that was about 40 MB of the collector's resident memory.
/// </summary>
public sealed class NativeMemoryTrimTests
{
    [Fact]
    public void A_trim_hands_blocks_freed_in_the_middle_of_an_arena_back_to_the_kernel()
    {
        // The collector's platforms (the container image, CI) run glibc: the trim must be there.
        Assert.True(NativeMemoryTrim.Available);
        const int blockBytes = 96 * 1024; // below glibc's mmap threshold: served from an arena
        const int blocks = 768;           // 72 MiB
        var held = new IntPtr[blocks];
        try
        {
            for (var i = 0; i < blocks; i++)
            {
                held[i] = Marshal.AllocHGlobal(blockBytes);
                for (var offset = 0; offset < blockBytes; offset += 4096)
                {
                    Marshal.WriteByte(held[i], offset, 1);
                }
            }

            // The last block stays: it keeps the arena's top above the freed ones (allocated one after another from
            // the top), so glibc cannot give them back by shrinking the top when they are freed.
            for (var i = 0; i < blocks - 1; i++)
            {
                Marshal.FreeHGlobal(held[i]);
                held[i] = IntPtr.Zero;
            }

            var before = AnonymousResidentKiB();
            NativeMemoryTrim.Trim();
            var after = AnonymousResidentKiB();

            // Freed and still resident before the trim; at least two thirds of the 72 MiB gone after it.
            Assert.True(before - after >= 48 * 1024, $"anonymous resident memory {before} KiB before the trim, {after} KiB after");
        }
        finally
        {
            foreach (var block in held.Where(b => b != IntPtr.Zero))
            {
                Marshal.FreeHGlobal(block);
            }
        }
    }

    [Fact]
    public async Task The_trimmer_trims_once_per_interval()
    {
        var time = new FakeTimeProvider();
        using var trimmer = Trimmer(TimeSpan.FromSeconds(10), time);
        await trimmer.StartAsync(CancellationToken.None);

        for (var tick = 1; tick <= 3; tick++)
        {
            time.Advance(TimeSpan.FromSeconds(9));
            await Task.Delay(50);
            Assert.Equal(tick - 1, trimmer.Trims);
            time.Advance(TimeSpan.FromSeconds(1));
            await Eventually(() => trimmer.Trims == tick);
        }

        await trimmer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task At_zero_the_trimmer_is_off()
    {
        var time = new FakeTimeProvider();
        using var trimmer = Trimmer(TimeSpan.Zero, time);
        await trimmer.StartAsync(CancellationToken.None);

        time.Advance(TimeSpan.FromHours(1));

        await Eventually(() => trimmer.ExecuteTask!.IsCompleted);
        Assert.Equal(0, trimmer.Trims);
    }

    [Fact]
    public async Task The_collector_runs_the_trimmer_every_2_seconds_by_default_and_takes_the_setting()
    {
        await using (var defaults = new CollectorFactory())
        {
            using var client = defaults.CreateClient();
            Assert.Contains(defaults.Services.GetServices<IHostedService>(), s => s is NativeMemoryTrimmer);
            Assert.Equal(TimeSpan.FromSeconds(2), defaults.Services.GetRequiredService<IOptions<IngestOptions>>().Value.NativeMemoryTrimInterval);
        }

        await using var configured = new CollectorFactory(new() { ["Ingest:NativeMemoryTrimInterval"] = "00:01:00" });
        using var configuredClient = configured.CreateClient();
        Assert.Equal(TimeSpan.FromMinutes(1), configured.Services.GetRequiredService<IOptions<IngestOptions>>().Value.NativeMemoryTrimInterval);
    }

    private static NativeMemoryTrimmer Trimmer(TimeSpan interval, TimeProvider time) =>
        new(Options.Create(new IngestOptions { NativeMemoryTrimInterval = interval }), time, NullLogger<NativeMemoryTrimmer>.Instance);

    private static async Task Eventually(Func<bool> condition)
    {
        for (var i = 0; i < 200 && !condition(); i++)
        {
            await Task.Delay(25);
        }

        Assert.True(condition());
    }

    private static long AnonymousResidentKiB()
    {
        var line = File.ReadLines("/proc/self/status").Single(l => l.StartsWith("RssAnon:", StringComparison.Ordinal));
        return long.Parse(line["RssAnon:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }
}

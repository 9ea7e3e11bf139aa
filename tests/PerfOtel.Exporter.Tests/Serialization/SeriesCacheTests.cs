using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using OpenTelemetry;
using System.Text.RegularExpressions;
using PerfOtel.Exporter.Implementation.Serialization;
using PerfOtel.Exporter.Tests.TestSupport;
using Xunit;

namespace PerfOtel.Exporter.Tests.Serialization;

/// <summary>
/// The encoded-series cache recognises a steady series by the SDK's tag array of its metric point. If an OpenTelemetry
/// upgrade renames that field, the cache silently falls back to comparing every key and value (correct, but about
/// twice the serialisation cost at 10 000 series): this test makes the upgrade say so.
/// </summary>
public sealed class SeriesCacheTests
{
    [Fact]
    public void TheCacheReadsTheSdksTagArray()
    {
        Assert.True(EncodedSeriesCache.ComparesTagArrays);
    }

    [Fact]
    public void CachedSeriesKeepTheirOwnLabelsAndFollowTheirValuesAcrossScrapes()
    {
        using var harness = new ExporterHarness();
        var counter = harness.Meter.CreateCounter<long>("requests");
        for (var i = 0; i < 50; i++)
        {
            counter.Add(i + 1, new KeyValuePair<string, object?>("route", "r" + i), new KeyValuePair<string, object?>("code", i % 2 == 0 ? "200" : "500"));
        }

        var first = harness.Scrape(ExpositionFormat.PrometheusText);
        for (var i = 0; i < 50; i += 7)
        {
            counter.Add(1000, new KeyValuePair<string, object?>("code", i % 2 == 0 ? "200" : "500"), new KeyValuePair<string, object?>("route", "r" + i));
        }

        var second = harness.Scrape(ExpositionFormat.PrometheusText);
        var before = Samples(first);
        var after = Samples(second);
        Assert.Equal(50, before.Count);
        Assert.Equal(50, after.Count);
        for (var i = 0; i < 50; i++)
        {
            var series = ("r" + i, i % 2 == 0 ? "200" : "500");
            Assert.Equal(i + 1, before[series]);
            Assert.Equal(i + 1 + (i % 7 == 0 ? 1000 : 0), after[series]);
        }
    }

    [Fact]
    public void EncodingsThatGrowMoveAndTheArenaCompactsWithoutLosingAnySeries()
    {
        // 2 000 series stored once (about 90 KB of arena), then every other one re-encoded longer (moved to the end)
        // three times over, with created lines in between: the dead ranges pass half the arena and force compactions.
        var cache = new EncodedSeriesCache();
        const int count = 2000;
        var tags = new ReadOnlyTagCollection[count];
        var expected = new byte[count][];
        var created = new byte[count][];
        var start = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        for (var i = 0; i < count; i++)
        {
            tags[i] = NewTags([new("route", "r" + i)]);
            expected[i] = Encoding.UTF8.GetBytes($"requests_total{{route=\"r{i}\"}} ");
            Assert.True(cache.Store(i, tags[i], expected[i]));
            created[i] = Encoding.UTF8.GetBytes($"requests_created{{route=\"r{i}\"}} 1700000000\n");
            cache.StoreCreated(i, start, created[i]);
        }

        var highWater = cache.ArenaUsed;
        for (var round = 1; round <= 3; round++)
        {
            for (var i = 0; i < count; i += 2)
            {
                tags[i] = NewTags([new("route", "r" + i), new("round", new string('x', round * 8))]);
                expected[i] = Encoding.UTF8.GetBytes($"requests_total{{route=\"r{i}\",round=\"{new string('x', round * 8)}\"}} ");
                Assert.False(cache.TryGet(i, tags[i], out _));
                Assert.True(cache.Store(i, tags[i], expected[i]));
                Assert.False(cache.TryGetCreated(i, start, out _));
            }

            for (var i = 0; i < count; i++)
            {
                Assert.True(cache.TryGet(i, tags[i], out var encoded), $"series {i} after round {round}");
                Assert.Equal(expected[i], encoded.ToArray());
                Assert.Equal(i % 2 == 1, cache.TryGetCreated(i, start, out var line));
                if (i % 2 == 1)
                {
                    Assert.Equal(created[i], line.ToArray());
                }
            }

            highWater = Math.Max(highWater, cache.ArenaUsed);
        }

        // Compaction kept the arena near its live size instead of growing by every moved encoding.
        var live = expected.Sum(e => e.Length) + created.Where((_, i) => i % 2 == 1).Sum(c => c.Length);
        Assert.True(cache.ArenaUsed <= 2 * live, $"arena {cache.ArenaUsed} B for {live} live bytes");

        // Untrusted values (a mutable object) are never cached, and drop what the slot held.
        var mutable = NewTags([new("route", new StringBuilder("r0"))]);
        Assert.False(cache.Store(0, mutable, expected[0]));
        Assert.False(cache.TryGet(0, tags[0], out _));
    }

    [UnsafeAccessor(UnsafeAccessorKind.Constructor)]
    private static extern ReadOnlyTagCollection NewTags(KeyValuePair<string, object?>[]? keyAndValues);

    private static Dictionary<(string Route, string Code), long> Samples(string scrape)
    {
        var samples = new Dictionary<(string, string), long>();
        foreach (var line in scrape.Split('\n'))
        {
            if (!line.StartsWith("requests_total{", StringComparison.Ordinal))
            {
                continue;
            }

            var route = Regex.Match(line, "route=\"([^\"]*)\"").Groups[1].Value;
            var code = Regex.Match(line, "code=\"([^\"]*)\"").Groups[1].Value;
            samples.Add((route, code), long.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
        }

        return samples;
    }
}

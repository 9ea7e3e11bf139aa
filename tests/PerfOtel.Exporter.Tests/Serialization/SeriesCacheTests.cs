using System.Globalization;
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

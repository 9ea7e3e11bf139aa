using System.Diagnostics.Metrics;
using PerfOtel.Exporter.Implementation.Serialization;
using PerfOtel.Exporter.Tests.TestSupport;

namespace PerfOtel.Exporter.Tests.Scraping;

public class ScrapeCacheTests
{
    [Fact]
    public void ScrapesWithinTheCacheDurationReuseOneCollection()
    {
        using var harness = new ExporterHarness(options => options.ScrapeResponseCacheDuration = TimeSpan.FromHours(1));
        var counter = harness.Meter.CreateCounter<long>("perfotel.invocations");
        counter.Add(1);

        var first = harness.Scrape(ExpositionFormat.PrometheusText);
        counter.Add(1);
        var second = harness.Scrape(ExpositionFormat.PrometheusText);

        Assert.Equal(first, second);
        Assert.Equal(1, harness.Exporter.Scrapes.Collections);
    }

    [Fact]
    public void EachFormatHasItsOwnCachedDocument()
    {
        using var harness = new ExporterHarness(options => options.ScrapeResponseCacheDuration = TimeSpan.FromHours(1));
        harness.Meter.CreateCounter<long>("perfotel.invocations").Add(1);

        var text = harness.Scrape(ExpositionFormat.PrometheusText);
        var openMetrics = harness.Scrape(ExpositionFormat.OpenMetrics);
        harness.Scrape(ExpositionFormat.OpenMetrics);

        Assert.DoesNotContain("# EOF", text, StringComparison.Ordinal);
        Assert.EndsWith("# EOF\n", openMetrics, StringComparison.Ordinal);
        Assert.Equal(2, harness.Exporter.Scrapes.Collections);
    }

    [Fact]
    public void ZeroCacheDurationCollectsForEverySequentialScrape()
    {
        using var harness = new ExporterHarness(options => options.ScrapeResponseCacheDuration = TimeSpan.Zero);
        var counter = harness.Meter.CreateCounter<long>("perfotel.invocations");
        counter.Add(1);

        harness.Scrape(ExpositionFormat.PrometheusText);
        counter.Add(1);
        var second = harness.Scrape(ExpositionFormat.PrometheusText);

        Assert.Contains("} 2\n", second, StringComparison.Ordinal);
        Assert.Equal(2, harness.Exporter.Scrapes.Collections);
    }

    [Fact]
    public async Task ConcurrentScrapesWaitForAndShareTheRunningCollection()
    {
        using var releaseCollection = new ManualResetEventSlim(false);
        using var collectionStarted = new ManualResetEventSlim(false);
        using var harness = new ExporterHarness(options => options.ScrapeResponseCacheDuration = TimeSpan.Zero);
        var callbacks = 0;
        harness.Meter.CreateObservableGauge("perfotel.slow.gauge", () =>
        {
            Interlocked.Increment(ref callbacks);
            collectionStarted.Set();
            // Holds the collection open until every other scrape is queued behind it.
            releaseCollection.Wait(TimeSpan.FromSeconds(30));
            return new Measurement<long>(7);
        });

        const int scrapes = 8;
        var first = Task.Run(() => harness.Scrape(ExpositionFormat.PrometheusText));
        Assert.True(collectionStarted.Wait(TimeSpan.FromSeconds(30)), "the first collection never started");
        var others = Enumerable.Range(0, scrapes - 1).Select(_ => Task.Run(() => harness.Scrape(ExpositionFormat.PrometheusText))).ToArray();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (harness.Exporter.Scrapes.WaitingScrapes < scrapes - 1 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.Equal(scrapes - 1, harness.Exporter.Scrapes.WaitingScrapes);
        releaseCollection.Set();
        var results = await Task.WhenAll(others.Prepend(first));

        Assert.Equal(1, harness.Exporter.Scrapes.Collections);
        Assert.Equal(1, callbacks);
        Assert.All(results, result => Assert.Equal(results[0], result));
        Assert.Contains("perfotel_slow_gauge{otel_scope_name=", results[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALeasedDocumentIsNotOverwrittenByTheNextCollection()
    {
        using var harness = new ExporterHarness(options => options.ScrapeResponseCacheDuration = TimeSpan.Zero);
        var counter = harness.Meter.CreateCounter<long>("perfotel.invocations");
        counter.Add(1);

        using var held = await harness.Exporter.Scrapes.GetAsync(ExpositionFormat.PrometheusText, CancellationToken.None);
        var before = System.Text.Encoding.UTF8.GetString(held.Content.Span);
        counter.Add(100);
        var newer = harness.Scrape(ExpositionFormat.PrometheusText);

        Assert.Equal(before, System.Text.Encoding.UTF8.GetString(held.Content.Span));
        Assert.Contains("} 101\n", newer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SequentialScrapesOfOneFormatWriteIntoOneBufferAndAHeldOneIsLeftAlone()
    {
        using var harness = new ExporterHarness(options => options.ScrapeResponseCacheDuration = TimeSpan.Zero);
        var counter = harness.Meter.CreateCounter<long>("perfotel.invocations");
        for (var i = 1; i <= 5; i++)
        {
            counter.Add(1);
            Assert.Contains($"}} {i}\n", harness.Scrape(ExpositionFormat.PrometheusText), StringComparison.Ordinal);
        }

        // The last response's buffer is the next collection's: one series-sized buffer, not two alternating ones.
        Assert.Equal(1, harness.Exporter.Scrapes.BuffersCreated);

        using (var held = await harness.Exporter.Scrapes.GetAsync(ExpositionFormat.PrometheusText, CancellationToken.None))
        {
            var before = System.Text.Encoding.UTF8.GetString(held.Content.Span);
            counter.Add(1);
            Assert.Contains("} 6\n", harness.Scrape(ExpositionFormat.PrometheusText), StringComparison.Ordinal);
            Assert.Equal(before, System.Text.Encoding.UTF8.GetString(held.Content.Span));
            Assert.Equal(2, harness.Exporter.Scrapes.BuffersCreated);
        }

        harness.Scrape(ExpositionFormat.OpenMetrics);
        harness.Scrape(ExpositionFormat.PrometheusText);
        harness.Scrape(ExpositionFormat.OpenMetrics);
        Assert.Equal(2, harness.Exporter.Scrapes.BuffersCreated);
    }

    [Fact]
    public void RepeatedScrapesStayCorrectAsSeriesAreAddedAndValuesChange()
    {
        using var harness = new ExporterHarness(options => options.EmitScopeLabels = false);
        var counter = harness.Meter.CreateCounter<long>("perfotel.invocations");
        var histogram = harness.Meter.CreateHistogram<double>("perfotel.latency", "s", null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1] });
        counter.Add(1, new KeyValuePair<string, object?>("agent", "b"));
        histogram.Record(0.5, new KeyValuePair<string, object?>("agent", "b"));
        harness.Scrape(ExpositionFormat.PrometheusText);

        counter.Add(2, new KeyValuePair<string, object?>("agent", "a"), new KeyValuePair<string, object?>("retry", 1L));
        counter.Add(10, new KeyValuePair<string, object?>("agent", new string('b', 1)));
        histogram.Record(2, new KeyValuePair<string, object?>("agent", "a"));
        var second = harness.Scrape(ExpositionFormat.PrometheusText);

        Assert.Contains("perfotel_invocations_total{agent=\"b\"} 11\n", second, StringComparison.Ordinal);
        Assert.Contains("perfotel_invocations_total{agent=\"a\",retry=\"1\"} 2\n", second, StringComparison.Ordinal);
        Assert.Contains("perfotel_latency_seconds_bucket{agent=\"b\",le=\"1\"} 1\n", second, StringComparison.Ordinal);
        Assert.Contains("perfotel_latency_seconds_bucket{agent=\"a\",le=\"1\"} 0\n", second, StringComparison.Ordinal);
        Assert.Contains("perfotel_latency_seconds_count{agent=\"a\"} 1\n", second, StringComparison.Ordinal);
        Assert.Equal(second, harness.Scrape(ExpositionFormat.PrometheusText));
    }
}

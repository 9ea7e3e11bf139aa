using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Derived.Models;

namespace PerfOtel.Collector.Tests.DerivedKernel;

public class LatencyHistogramTests
{
    [Theory]
    // Bucket i >= 1 holds [1 ms * 1.1^(i-1), 1 ms * 1.1^i): 1 ms opens bucket 1, 1.1 ms bucket 2, 1.21 ms bucket 3.
    [InlineData(0.0005, 0)]
    [InlineData(0.001, 1)]
    [InlineData(0.00109, 1)]
    [InlineData(0.0011, 2)]
    [InlineData(0.00121, 3)]
    [InlineData(1e9, LatencyHistogram.BucketCount - 1)]
    [InlineData(double.NaN, 0)]
    public void BucketBounds(double seconds, int bucket) => Assert.Equal(bucket, LatencyHistogram.BucketOf(seconds));

    [Fact]
    public void EveryPercentileIsWithinTheStatedRelativeErrorOfTheExactOne()
    {
        // sqrt(1.1) - 1 = 0.0488
        Assert.Equal(0.0488, LatencyHistogram.RelativeErrorBound, 4);
        var random = new Random(42);
        var samples = Enumerable.Range(0, 5000).Select(_ => Math.Exp((random.NextDouble() * 9) - 6)).ToArray(); // 2.5 ms .. 20 s
        var histogram = new LatencyHistogram();
        foreach (var sample in samples)
        {
            histogram.Record(sample);
        }
        Array.Sort(samples);
        foreach (var q in new[] { 0.01, 0.5, 0.9, 0.95, 0.99, 1.0 })
        {
            var exact = samples[(int)Math.Ceiling(q * samples.Length) - 1]; // nearest rank
            var reported = histogram.Quantile(q)!.Value;
            Assert.True(Math.Abs(reported - exact) / exact <= LatencyHistogram.RelativeErrorBound + 1e-12,
                $"q={q}: reported {reported}, exact {exact}");
        }
    }

    [Fact]
    public void MergingEqualsRecordingEverything()
    {
        var left = new LatencyHistogram();
        var right = new LatencyHistogram();
        var both = new LatencyHistogram();
        foreach (var s in new[] { 0.002, 0.5, 3.0 })
        {
            left.Record(s);
            both.Record(s);
        }
        foreach (var s in new[] { 40.0, 0.0001, 7.5 })
        {
            right.Record(s);
            both.Record(s);
        }
        left.Merge(right);

        Assert.Equal(6, left.Count);
        foreach (var q in new[] { 0.1, 0.5, 0.95, 1.0 })
        {
            Assert.Equal(both.Quantile(q), left.Quantile(q));
        }
        Assert.Null(new LatencyHistogram().Quantile(0.95));
    }

    [Fact]
    public void Every_covered_latency_is_reported_within_the_stated_error_bound()
    {
        Assert.True(LatencyHistogram.RelativeErrorBound < 0.049);
        for (var seconds = 0.001; seconds < 3_000; seconds *= 1.013)
        {
            var reported = LatencyHistogram.ValueOf(LatencyHistogram.BucketOf(seconds));
            Assert.True(Math.Abs(reported - seconds) / seconds <= LatencyHistogram.RelativeErrorBound + 1e-12,
                $"{seconds} s reported as {reported} s");
        }
    }

    [Fact]
    public void Percentiles_use_the_nearest_rank()
    {
        var histogram = new LatencyHistogram();
        for (var i = 1; i <= 100; i++)
        {
            histogram.Record(i * 0.1);
        }
        // Ranks 50, 95, 99: 5.0 s, 9.5 s, 9.9 s.
        AssertWithinBound(5.0, histogram.Quantile(0.50));
        AssertWithinBound(9.5, histogram.Quantile(0.95));
        AssertWithinBound(9.9, histogram.Quantile(0.99));
        Assert.Null(new LatencyHistogram().Quantile(0.95));
    }

    [Fact]
    public void Merged_histograms_equal_one_histogram_of_all_samples()
    {
        var all = new LatencyHistogram();
        var fast = new LatencyHistogram();
        var slow = new LatencyHistogram();
        for (var i = 0; i < 50; i++)
        {
            fast.Record(0.01 + i * 0.001);
            all.Record(0.01 + i * 0.001);
            slow.Record(30 + i);
            all.Record(30 + i);
        }
        var merged = new LatencyHistogram();
        merged.Merge(slow);
        merged.Merge(fast);
        Assert.Equal(all.Count, merged.Count);
        foreach (var q in new[] { 0.1, 0.5, 0.51, 0.95, 0.99 })
        {
            Assert.Equal(all.Quantile(q), merged.Quantile(q));
        }
    }

    private static void AssertWithinBound(double expected, double? actual) =>
        Assert.InRange(actual!.Value, expected * (1 - LatencyHistogram.RelativeErrorBound), expected * (1 + LatencyHistogram.RelativeErrorBound));
}

public class TimeBucketRingTests
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 16, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void DataOlderThanTheWindowIsDroppedAndExpires()
    {
        // One hour in 1-minute buckets.
        var ring = new TimeBucketRing<ModelWindowStats>(TimeSpan.FromHours(1), TimeSpan.FromMinutes(1), () => new ModelWindowStats());
        ring.Record(Noon.AddMinutes(-59), Noon, s => s.Calls += 1);   // the oldest bucket still in the window
        ring.Record(Noon.AddMinutes(-61), Noon, s => s.Calls += 10);  // before the window: dropped
        ring.Record(Noon.AddMinutes(5), Noon, s => s.Calls += 100);   // a skewed future time counts now

        Assert.Equal(101, ring.Sum(Noon)!.Calls);
        Assert.Equal(100, ring.Sum(Noon.AddMinutes(1))!.Calls);       // the -59 minute bucket left the window
        Assert.Null(ring.Sum(Noon.AddHours(1)));

        // A slot reused an hour later starts from zero.
        ring.Record(Noon.AddHours(1), Noon.AddHours(1), s => s.Calls += 1000);
        Assert.Equal(1000, ring.Sum(Noon.AddHours(1))!.Calls);
    }

    [Fact]
    public void A_ring_of_two_windows_keeps_the_previous_window_for_trends_and_then_forgets_it()
    {
        // Agent windows: 10 minutes in 1-minute buckets, the current and the previous window.
        var ring = new TimeBucketRing<WindowStats>(TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(1), () => new WindowStats(10), windowsKept: 2);
        var now = ring.BucketOf(Noon);
        ring.ForWriting(Noon.AddMinutes(-15), now)!.AddToolCall();  // previous window
        ring.ForWriting(Noon.AddMinutes(-3), now)!.AddToolCall();   // current window
        ring.ForWriting(Noon.AddMinutes(-3), now)!.AddToolCall();
        Assert.Null(ring.ForWriting(Noon.AddMinutes(-20), now));    // older than both windows

        var current = new WindowStats(10);
        var previous = new WindowStats(10);
        ring.MergeWindow(now, current);
        ring.MergeWindow(now - ring.BucketsPerWindow, previous);
        Assert.Equal(2, current.ToolCalls);
        Assert.Equal(1, previous.ToolCalls);

        // Ten minutes later the -15 minute bucket has left both windows: the previous window holds only the -3 minute
        // bucket, and the -15 minute bucket's slot starts from zero when reused.
        var later = ring.BucketOf(Noon.AddMinutes(10));
        var previousLater = new WindowStats(10);
        ring.MergeWindow(later - ring.BucketsPerWindow, previousLater);
        Assert.Equal(2, previousLater.ToolCalls);
        Assert.Equal(0, ring.ForWriting(Noon.AddMinutes(5), later)!.ToolCalls);
    }
}

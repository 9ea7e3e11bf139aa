using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Derived.Models;
using PerfOtel.Collector.Exposure.Metrics;

namespace PerfOtel.Collector.Tests.Cost;

public class LogLatencyHistogramTests
{
    [Theory]
    // Bucket i >= 1 holds [1 ms * 1.1^(i-1), 1 ms * 1.1^i): 1 ms opens bucket 1, 1.1 ms bucket 2, 1.21 ms bucket 3.
    [InlineData(0.0005, 0)]
    [InlineData(0.001, 1)]
    [InlineData(0.00109, 1)]
    [InlineData(0.0011, 2)]
    [InlineData(0.00121, 3)]
    [InlineData(1e9, LogLatencyHistogram.BucketCount - 1)]
    [InlineData(double.NaN, 0)]
    public void BucketBounds(double seconds, int bucket) => Assert.Equal(bucket, LogLatencyHistogram.BucketOf(seconds));

    [Fact]
    public void EveryPercentileIsWithinTheStatedRelativeErrorOfTheExactOne()
    {
        // sqrt(1.1) - 1 = 0.0488
        Assert.Equal(0.0488, LogLatencyHistogram.RelativeErrorBound, 4);
        var random = new Random(42);
        var samples = Enumerable.Range(0, 5000).Select(_ => Math.Exp((random.NextDouble() * 9) - 6)).ToArray(); // 2.5 ms .. 20 s
        var histogram = new LogLatencyHistogram();
        foreach (var sample in samples)
        {
            histogram.Record(sample);
        }
        Array.Sort(samples);
        foreach (var q in new[] { 0.01, 0.5, 0.9, 0.95, 0.99, 1.0 })
        {
            var exact = samples[(int)Math.Ceiling(q * samples.Length) - 1]; // nearest rank
            var reported = histogram.Quantile(q)!.Value;
            Assert.True(Math.Abs(reported - exact) / exact <= LogLatencyHistogram.RelativeErrorBound + 1e-12,
                $"q={q}: reported {reported}, exact {exact}");
        }
    }

    [Fact]
    public void MergingEqualsRecordingEverything()
    {
        var left = new LogLatencyHistogram();
        var right = new LogLatencyHistogram();
        var both = new LogLatencyHistogram();
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
        Assert.Null(new LogLatencyHistogram().Quantile(0.95));
    }
}

public class TimeBucketRingTests
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 16, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void DataOlderThanTheWindowIsDroppedAndExpires()
    {
        // One hour in 1-minute buckets.
        var ring = new TimeBucketRing<ModelWindowStats>(TimeSpan.FromHours(1), TimeSpan.FromMinutes(1));
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
}

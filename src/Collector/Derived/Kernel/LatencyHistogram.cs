namespace PerfOtel.Collector.Derived.Kernel;

/// <summary>
/// The one log-bucketed latency histogram of every derivation (agent windows, model comparison, experiment
/// variants): percentiles in bounded memory with one stated error bound. Bucket 0 holds latencies below 1 ms;
/// bucket i (1..158) holds [1 ms * 1.1^(i-1), 1 ms * 1.1^i); bucket 159 everything from 1 ms * 1.1^158 (about
/// 54 minutes) up. A percentile is the nearest-rank sample's bucket reported at its geometric middle,
/// lower * sqrt(1.1), whose relative error to any latency in the bucket is at most sqrt(1.1) - 1 = 4.88 % (outside
/// the under- and overflow buckets; docs/collector/analytics.md). Counts live in an array spanning only the buckets
/// seen, so an agent's or a model's usual two or three decades of latency cost a few dozen counters. Bucket counts
/// add, so merged histograms equal one histogram of all samples whatever the order.
/// </summary>
public sealed class LatencyHistogram
{
    /// <summary>Ratio between consecutive bucket bounds.</summary>
    public const double Growth = 1.1;

    /// <summary>Lower bound of bucket 1, in seconds.</summary>
    public const double MinimumSeconds = 0.001;

    /// <summary>Buckets, including under- and overflow.</summary>
    public const int BucketCount = 160;

    /// <summary>Worst relative error of a reported percentile inside the covered range.</summary>
    public static readonly double RelativeErrorBound = Math.Sqrt(Growth) - 1;

    private static readonly double LogGrowth = Math.Log(Growth);

    /// <summary>
    /// The upper bound in seconds of every bucket but the overflow one (<see cref="BucketCount"/> - 1 of them, ascending):
    /// bucket 0 ends at 1 ms, bucket i at 1 ms * 1.1^i. Exposed as the <c>le</c> bounds of a Prometheus histogram whose
    /// buckets are exactly these (docs/collector/experiments.md, "Latency histogram"). A bucket holds [lower, upper),
    /// so a latency exactly on a bound counts in the bucket above it, where Prometheus' <c>le</c> would count it below.
    /// </summary>
    public static readonly IReadOnlyList<double> UpperBounds = Enumerable.Range(0, BucketCount - 1)
        .Select(i => MinimumSeconds * Math.Pow(Growth, i)).ToArray();

    private long[] counts = [];
    private int first;

    /// <summary>Latencies recorded.</summary>
    public long Count { get; private set; }

    /// <summary>The bucket of a latency in seconds (NaN and negatives fall in bucket 0).</summary>
    public static int BucketOf(double seconds)
    {
        if (!(seconds >= MinimumSeconds))
        {
            return 0;
        }
        // The ratio is computed in logs; a tiny epsilon keeps exact bounds (e.g. 1.1 ms) from falling one bucket low.
        var index = 1 + (int)Math.Floor((Math.Log(seconds / MinimumSeconds) / LogGrowth) + 1e-9);
        return Math.Min(index, BucketCount - 1);
    }

    /// <summary>The latency reported for a bucket.</summary>
    public static double ValueOf(int bucket) => bucket == 0
        ? MinimumSeconds / 2
        : MinimumSeconds * Math.Pow(Growth, bucket - 1) * Math.Sqrt(Growth);

    /// <summary>Records a latency.</summary>
    public void Record(double seconds) => Add(BucketOf(seconds), 1);

    /// <summary>Records one latency that stands for <paramref name="count"/> samples (a sampled span's count; 0 adds nothing).</summary>
    public void Record(double seconds, int count)
    {
        if (count > 0)
        {
            Add(BucketOf(seconds), count);
        }
    }

    /// <summary>Adds another histogram's counts (merging time buckets into a window).</summary>
    public void Merge(LatencyHistogram other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Count == 0)
        {
            return;
        }
        // Cover the other's range once, then add counter by counter.
        Cover(other.first);
        Cover(other.first + other.counts.Length - 1);
        var shift = other.first - first;
        for (var i = 0; i < other.counts.Length; i++)
        {
            counts[shift + i] += other.counts[i];
        }
        Count += other.Count;
    }

    /// <summary>Writes the count of every bucket (<see cref="BucketCount"/> of them) into <paramref name="destination"/>.</summary>
    public void CopyCounts(Span<ulong> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, BucketCount, nameof(destination));
        destination[..BucketCount].Clear();
        for (var i = 0; i < counts.Length; i++)
        {
            destination[first + i] = (ulong)counts[i];
        }
    }

    /// <summary>Forgets everything, keeping the allocated array.</summary>
    public void Clear()
    {
        Array.Clear(counts);
        Count = 0;
    }

    /// <summary>The latency at quantile <paramref name="q"/> in (0, 1] by nearest rank; null when empty.</summary>
    public double? Quantile(double q) => Count == 0 ? null : OrderStatistic(Math.Max(1, (long)Math.Ceiling(q * Count)));

    /// <summary>
    /// The <paramref name="rank"/>-th smallest latency (1-based, clamped to [1, Count]) as its bucket's value; null when
    /// empty. Confidence intervals of a quantile read the order statistics at the ranks that bracket it.
    /// </summary>
    public double? OrderStatistic(long rank)
    {
        if (Count == 0)
        {
            return null;
        }
        rank = Math.Clamp(rank, 1, Count);
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= rank)
            {
                return ValueOf(first + i);
            }
        }
        return ValueOf(first + counts.Length - 1);
    }

    private void Add(int bucket, long count)
    {
        Cover(bucket);
        counts[bucket - first] += count;
        Count += count;
    }

    /// <summary>Grows the array (with slack on both sides, so a drifting latency does not reallocate every time).</summary>
    private void Cover(int bucket)
    {
        if (counts.Length == 0)
        {
            counts = new long[8];
            first = Math.Clamp(bucket - 4, 0, BucketCount - counts.Length);
            return;
        }
        if (bucket >= first && bucket < first + counts.Length)
        {
            return;
        }
        var low = Math.Max(0, Math.Min(first, bucket) - 4);
        var high = Math.Min(BucketCount - 1, Math.Max(first + counts.Length - 1, bucket) + 4);
        var grown = new long[high - low + 1];
        Array.Copy(counts, 0, grown, first - low, counts.Length);
        counts = grown;
        first = low;
    }
}

using PerfOtel.Collector.Derived.Analytics;
using PerfOtel.Collector.Derived.Analytics.Formulas;
namespace PerfOtel.Collector.Derived.Kernel;

/// <summary>
/// A fixed log-bucketed latency histogram for percentiles in bounded memory. Bucket i (i &gt;= 1) holds latencies in
/// [m * g^(i-1), m * g^i) with g = 2^(1/4) and m = 1 ms; bucket 0 holds everything below 1 ms; the last bucket
/// holds everything from m * g^98 ≈ 6.6 hours up. A percentile is the nearest-rank sample's bucket reported at
/// 2 * lower * g / (1 + g), the point whose relative error to any value in the bucket is at most (g - 1) / (g + 1),
/// about 8.6 %: the stated error bound of every latency percentile (outside the under- and overflow buckets).
/// Counts are kept in an array that only spans the buckets seen so far, so one agent's typical latencies
/// (two or three decades) cost a few dozen counters per time bucket.
/// </summary>
public sealed class LatencyHistogram
{
    /// <summary>Growth factor between bucket bounds.</summary>
    public static readonly double Growth = Math.Pow(2, 0.25);

    /// <summary>Lower bound of bucket 1 in seconds.</summary>
    public const double MinimumSeconds = 0.001;

    /// <summary>Number of buckets including under- and overflow.</summary>
    public const int BucketCount = 100;

    /// <summary>Worst relative error of a percentile inside the covered range.</summary>
    public static readonly double RelativeErrorBound = (Growth - 1) / (Growth + 1);

    private static readonly double LogGrowth = Math.Log(Growth);

    private int[] counts = [];
    private int offset;

    /// <summary>Samples recorded.</summary>
    public long Count { get; private set; }

    /// <summary>The bucket a latency falls in.</summary>
    public static int BucketOf(double seconds)
    {
        if (!(seconds >= MinimumSeconds))
        {
            return 0;
        }
        var index = 1 + (int)Math.Floor(Math.Log(seconds / MinimumSeconds) / LogGrowth);
        return Math.Min(index, BucketCount - 1);
    }

    /// <summary>The value reported for a bucket.</summary>
    public static double RepresentativeOf(int bucket)
    {
        if (bucket == 0)
        {
            return MinimumSeconds / 2;
        }
        var lower = MinimumSeconds * Math.Pow(Growth, bucket - 1);
        return 2 * lower * Growth / (1 + Growth);
    }

    /// <summary>Records one latency.</summary>
    public void Record(double seconds) => Add(BucketOf(seconds), 1);

    /// <summary>Records one latency that stands for <paramref name="count"/> samples (a sampled span's count; 0 adds nothing).</summary>
    public void Record(double seconds, int count)
    {
        if (count > 0)
        {
            Add(BucketOf(seconds), count);
        }
    }

    /// <summary>Removes everything.</summary>
    public void Clear()
    {
        Array.Clear(counts);
        Count = 0;
    }

    /// <summary>Adds another histogram's counts (merging time buckets).</summary>
    public void Merge(LatencyHistogram other)
    {
        if (other.Count == 0)
        {
            return;
        }
        if (counts.Length == 0)
        {
            counts = (int[])other.counts.Clone();
            offset = other.offset;
            Count = other.Count;
            return;
        }
        // Cover the other's range once, then add counter by counter.
        if (other.offset < offset)
        {
            Grow(other.offset);
        }
        if (other.offset + other.counts.Length > offset + counts.Length)
        {
            Grow(other.offset + other.counts.Length - 1);
        }
        var shift = other.offset - offset;
        for (var i = 0; i < other.counts.Length; i++)
        {
            counts[shift + i] += other.counts[i];
        }
        Count += other.Count;
    }

    /// <summary>The latency at quantile q in (0, 1] by nearest rank; null when empty.</summary>
    public double? Quantile(double q)
    {
        if (Count == 0)
        {
            return null;
        }
        var rank = Math.Max(1, (long)Math.Ceiling(q * Count));
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            seen += counts[i];
            if (seen >= rank)
            {
                return RepresentativeOf(offset + i);
            }
        }
        return RepresentativeOf(offset + counts.Length - 1);
    }

    private void Add(int bucket, int count)
    {
        if (counts.Length == 0)
        {
            counts = new int[4];
            offset = Math.Max(0, Math.Min(bucket, BucketCount - counts.Length));
        }
        if (bucket < offset || bucket >= offset + counts.Length)
        {
            Grow(bucket);
        }
        counts[bucket - offset] += count;
        Count += count;
    }

    private void Grow(int bucket)
    {
        var low = Math.Min(offset, bucket);
        var high = Math.Max(offset + counts.Length - 1, bucket);
        // Grow with slack on both sides so a drifting latency does not reallocate on every new bucket.
        var slack = Math.Max(2, (high - low + 1) / 4);
        low = Math.Max(0, low - slack);
        high = Math.Min(BucketCount - 1, high + slack);
        var grown = new int[high - low + 1];
        Array.Copy(counts, 0, grown, offset - low, counts.Length);
        counts = grown;
        offset = low;
    }
}

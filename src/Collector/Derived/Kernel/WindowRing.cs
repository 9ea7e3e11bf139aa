using PerfOtel.Collector.Derived.Analytics;
using PerfOtel.Collector.Derived.Analytics.Windows;
namespace PerfOtel.Collector.Derived.Kernel;

/// <summary>
/// The time buckets of one rolling window for one agent: a ring of 2N buckets (N = duration / bucket width), holding
/// the current window and the previous one (for trends). Bucket k covers [k * width, (k + 1) * width) of UTC time, so
/// every replica and every restart cuts time at the same instants. A slot remembers which bucket it holds; a slot
/// holding a bucket that has left both windows reads as empty and is reset when reused, which is all expiry is.
/// </summary>
internal sealed class WindowRing
{
    private readonly WindowStats[] slots;
    private readonly long[] slotBucket;
    private readonly long widthTicks;

    public WindowRing(RollingWindowOptions options, int calibrationBins)
    {
        Options = options;
        widthTicks = options.BucketWidth.Ticks;
        BucketsPerWindow = (int)(options.Duration.Ticks / widthTicks);
        slots = new WindowStats[2 * BucketsPerWindow];
        slotBucket = new long[slots.Length];
        Array.Fill(slotBucket, long.MinValue);
        CalibrationBins = calibrationBins;
    }

    public RollingWindowOptions Options { get; }

    public int BucketsPerWindow { get; }

    public int CalibrationBins { get; }

    public long BucketOf(DateTimeOffset time) => time.UtcTicks / widthTicks;

    /// <summary>
    /// The bucket to record an event of <paramref name="time"/> in, or null when it is older than both windows.
    /// Events stamped ahead of the collector's clock (clock skew) count in the current bucket.
    /// </summary>
    public WindowStats? ForWriting(DateTimeOffset time, long currentBucket)
    {
        var bucket = Math.Min(BucketOf(time), currentBucket);
        if (bucket <= currentBucket - slots.Length)
        {
            return null;
        }
        var slot = (int)(bucket % slots.Length);
        if (slotBucket[slot] != bucket)
        {
            slots[slot] ??= new WindowStats(CalibrationBins);
            slots[slot].Clear();
            slotBucket[slot] = bucket;
        }
        return slots[slot];
    }

    /// <summary>The stats of a bucket if the ring still holds it.</summary>
    public WindowStats? Read(long bucket)
    {
        if (bucket < 0)
        {
            return null;
        }
        var slot = (int)(bucket % slots.Length);
        return slotBucket[slot] == bucket ? slots[slot] : null;
    }

    /// <summary>Merges the buckets of the window ending with <paramref name="lastBucket"/> into <paramref name="into"/>.</summary>
    public void MergeWindow(long lastBucket, WindowStats into)
    {
        for (var bucket = lastBucket - BucketsPerWindow + 1; bucket <= lastBucket; bucket++)
        {
            if (Read(bucket) is { } stats)
            {
                into.Merge(stats);
            }
        }
    }
}

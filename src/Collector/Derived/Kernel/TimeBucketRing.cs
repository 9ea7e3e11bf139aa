using PerfOtel.Collector.Derived.Cost;
namespace PerfOtel.Collector.Derived.Kernel;

/// <summary>
/// A rolling window as a ring of fixed-width time buckets: data is added to the bucket of its time, and a bucket is
/// reused (cleared) when time comes round to it again. Memory is the bucket count, whatever the traffic. Not
/// thread-safe: owners lock.
/// </summary>
/// <typeparam name="TStats">What a bucket holds.</typeparam>
public sealed class TimeBucketRing<TStats> where TStats : class, IWindowStats<TStats>, new()
{
    private readonly TStats?[] buckets;
    private readonly long[] bucketIds;
    private readonly long widthTicks;

    /// <summary>A ring of <paramref name="duration"/> / <paramref name="bucketWidth"/> buckets.</summary>
    public TimeBucketRing(TimeSpan duration, TimeSpan bucketWidth)
    {
        if (bucketWidth <= TimeSpan.Zero || duration < bucketWidth)
        {
            throw new ArgumentOutOfRangeException(nameof(duration), "The window must be at least one positive bucket wide.");
        }
        widthTicks = bucketWidth.Ticks;
        var count = checked((int)(duration.Ticks / widthTicks));
        buckets = new TStats?[count];
        bucketIds = new long[count];
        Array.Fill(bucketIds, long.MinValue);
    }

    /// <summary>
    /// Applies <paramref name="update"/> to the bucket of <paramref name="time"/>; times after <paramref name="now"/>
    /// count now, times before the window are dropped.
    /// </summary>
    public void Record(DateTimeOffset time, DateTimeOffset now, Action<TStats> update)
    {
        ArgumentNullException.ThrowIfNull(update);
        var nowId = now.UtcTicks / widthTicks;
        var id = Math.Min(time.UtcTicks / widthTicks, nowId);
        if (id <= nowId - buckets.Length)
        {
            return;
        }
        var slot = (int)(((id % buckets.Length) + buckets.Length) % buckets.Length);
        if (bucketIds[slot] != id)
        {
            if (bucketIds[slot] > id)
            {
                // The slot already holds a newer bucket: this time is older than the window.
                return;
            }
            (buckets[slot] ??= new TStats()).Clear();
            bucketIds[slot] = id;
        }
        update(buckets[slot]!);
    }

    /// <summary>The sum of the buckets inside the window ending at <paramref name="now"/>, or null when none has data.</summary>
    public TStats? Sum(DateTimeOffset now)
    {
        var nowId = now.UtcTicks / widthTicks;
        TStats? sum = null;
        for (var i = 0; i < buckets.Length; i++)
        {
            if (buckets[i] is { } bucket && bucketIds[i] > nowId - buckets.Length && bucketIds[i] <= nowId)
            {
                (sum ??= new TStats()).Merge(bucket);
            }
        }
        return sum;
    }
}

/// <summary>Statistics that a time bucket holds: additive, so buckets merge into a window.</summary>
public interface IWindowStats<in TSelf>
{
    /// <summary>Adds another bucket's statistics.</summary>
    void Merge(TSelf other);

    /// <summary>Forgets everything (the bucket is being reused).</summary>
    void Clear();
}

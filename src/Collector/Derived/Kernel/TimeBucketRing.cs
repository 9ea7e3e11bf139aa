namespace PerfOtel.Collector.Derived.Kernel;

/// <summary>
/// The one time-bucket ring of every rolling window (agent windows, model comparison): a ring of fixed-width time
/// buckets holding <see cref="WindowsKept"/> consecutive windows (the agent windows keep two, the current one and the
/// previous one for trends). Bucket k covers [k * width, (k + 1) * width) of UTC time, so every replica and every
/// restart cuts time at the same instants. A slot remembers which bucket it holds; a slot holding a bucket that has
/// left the ring reads as empty and is reset when reused, which is all expiry is. Memory is the slot count, whatever
/// the traffic. Not thread-safe: owners lock.
/// </summary>
/// <typeparam name="TStats">What a bucket holds: additive, so buckets merge into a window.</typeparam>
public sealed class TimeBucketRing<TStats> where TStats : class, IWindowStats<TStats>
{
    private readonly TStats?[] slots;
    private readonly long[] slotBucket;
    private readonly long widthTicks;
    private readonly Func<TStats> create;

    /// <summary>A ring of <paramref name="windowsKept"/> windows of <paramref name="duration"/> / <paramref name="bucketWidth"/> buckets.</summary>
    /// <param name="duration">One window's duration.</param>
    /// <param name="bucketWidth">The width of one bucket.</param>
    /// <param name="create">Makes an empty bucket.</param>
    /// <param name="windowsKept">Consecutive windows the ring holds (1, or 2 to compare with the previous window).</param>
    public TimeBucketRing(TimeSpan duration, TimeSpan bucketWidth, Func<TStats> create, int windowsKept = 1)
    {
        ArgumentNullException.ThrowIfNull(create);
        if (bucketWidth <= TimeSpan.Zero || duration < bucketWidth)
        {
            throw new ArgumentOutOfRangeException(nameof(duration), "The window must be at least one positive bucket wide.");
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(windowsKept, 1);
        widthTicks = bucketWidth.Ticks;
        BucketsPerWindow = checked((int)(duration.Ticks / widthTicks));
        WindowsKept = windowsKept;
        slots = new TStats?[checked(BucketsPerWindow * windowsKept)];
        slotBucket = new long[slots.Length];
        Array.Fill(slotBucket, long.MinValue);
        this.create = create;
    }

    /// <summary>Buckets in one window.</summary>
    public int BucketsPerWindow { get; }

    /// <summary>Consecutive windows the ring holds.</summary>
    public int WindowsKept { get; }

    /// <summary>The bucket number of a time.</summary>
    public long BucketOf(DateTimeOffset time) => Math.DivRem(time.UtcTicks, widthTicks, out var rest) - (rest < 0 ? 1 : 0);

    /// <summary>
    /// The bucket to record an event of <paramref name="time"/> in, or null when it is older than the ring holds.
    /// Events stamped ahead of the collector's clock (clock skew) count in the current bucket.
    /// </summary>
    public TStats? ForWriting(DateTimeOffset time, long currentBucket)
    {
        var bucket = Math.Min(BucketOf(time), currentBucket);
        if (bucket <= currentBucket - slots.Length)
        {
            return null;
        }
        var slot = SlotOf(bucket);
        if (slotBucket[slot] != bucket)
        {
            if (slotBucket[slot] > bucket)
            {
                // The slot already holds a newer bucket (the clock went back): this time is older than the ring.
                return null;
            }
            (slots[slot] ??= create()).Clear();
            slotBucket[slot] = bucket;
        }
        return slots[slot];
    }

    /// <summary>
    /// Applies <paramref name="update"/> to the bucket of <paramref name="time"/>; times after <paramref name="now"/>
    /// count now, times before the ring are dropped.
    /// </summary>
    public void Record(DateTimeOffset time, DateTimeOffset now, Action<TStats> update)
    {
        ArgumentNullException.ThrowIfNull(update);
        Record(time, now, update, static (stats, apply) => apply(stats));
    }

    /// <summary>
    /// Applies a static <paramref name="update"/> given its <paramref name="state"/> to the bucket of
    /// <paramref name="time"/>, as <see cref="Record(DateTimeOffset, DateTimeOffset, Action{TStats})"/> does: no closure
    /// a call on the hot paths.
    /// </summary>
    public void Record<TState>(DateTimeOffset time, DateTimeOffset now, TState state, Action<TStats, TState> update)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (ForWriting(time, BucketOf(now)) is { } stats)
        {
            update(stats, state);
        }
    }

    /// <summary>The stats of a bucket if the ring still holds it.</summary>
    public TStats? Read(long bucket)
    {
        var slot = SlotOf(bucket);
        return slotBucket[slot] == bucket ? slots[slot] : null;
    }

    /// <summary>Merges the buckets of the window ending with <paramref name="lastBucket"/> into <paramref name="into"/>.</summary>
    public void MergeWindow(long lastBucket, TStats into)
    {
        ArgumentNullException.ThrowIfNull(into);
        for (var bucket = lastBucket - BucketsPerWindow + 1; bucket <= lastBucket; bucket++)
        {
            if (Read(bucket) is { } stats)
            {
                into.Merge(stats);
            }
        }
    }

    /// <summary>The sum of the buckets of the window ending at <paramref name="now"/>, or null when none has data.</summary>
    public TStats? Sum(DateTimeOffset now)
    {
        var last = BucketOf(now);
        TStats? sum = null;
        for (var bucket = last - BucketsPerWindow + 1; bucket <= last; bucket++)
        {
            if (Read(bucket) is { } stats)
            {
                (sum ??= create()).Merge(stats);
            }
        }
        return sum;
    }

    private int SlotOf(long bucket) => (int)(((bucket % slots.Length) + slots.Length) % slots.Length);
}

/// <summary>Statistics that a time bucket holds: additive, so buckets merge into a window.</summary>
public interface IWindowStats<in TSelf>
{
    /// <summary>Adds another bucket's statistics.</summary>
    void Merge(TSelf other);

    /// <summary>Forgets everything (the bucket is being reused).</summary>
    void Clear();
}

namespace PerfOtel.Collector.Derived.Kernel;

/// <summary>
/// How the slot tables of the bounded in-memory indexes (<see cref="SpanLinkTable"/>, <see cref="BoundedLru{TValue}"/>)
/// grow. Doubling all the way (a dictionary's way) ends up to 40 % past the bound and leaves every smaller table behind
/// as large-object garbage while the index fills: about as much again as the final table, 20 MB for the span links,
/// alive until the next gen2 collection and on top of the resident memory of a collector's first minute. So a table
/// doubles only while small, then goes straight to its bound (plus <see cref="Headroom"/> where entries are held past
/// it), and past that by an eighth at a time. A fresh large array costs no resident memory until its slots are written,
/// and they are written in order as the index fills. docs/collector/ingest-performance.md, "Bounded tables sized once",
/// has the measurements.
/// </summary>
internal static class BoundedTable
{
    /// <summary>Share of the bound added to a table that holds entries past its bound until they are evicted.</summary>
    public const int Headroom = 16;

    /// <summary>The first size of a table.</summary>
    public const int FirstSize = 16;

    /// <summary>The size from which a growing table goes straight to its bound.</summary>
    public const int DoublingUpTo = 4_096;

    /// <summary>
    /// The next size of a full table of <paramref name="length"/> slots whose bound (with any headroom) is
    /// <paramref name="cap"/>: doubled while under <see cref="DoublingUpTo"/>, then the cap, then an eighth more at a time.
    /// </summary>
    public static int NextSize(int length, int cap)
    {
        if (length >= cap)
        {
            return length + Math.Max(length / 8, FirstSize);
        }
        return length < DoublingUpTo ? Math.Min(Math.Max(2 * length, FirstSize), cap) : cap;
    }
}

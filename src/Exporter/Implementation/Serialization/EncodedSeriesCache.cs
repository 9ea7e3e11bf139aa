using System.Runtime.CompilerServices;
using OpenTelemetry;

namespace PerfOtel.Exporter.Implementation.Serialization;

/// <summary>
/// The encoded label set (<c>{scope labels,attributes</c>) of each series of a stream, by position in the SDK's point
/// enumeration. The SDK keeps a point's attribute key and value objects for the point's lifetime, so a series whose
/// keys and values are the same references as last scrape reuses its bytes; anything else is encoded again. Only
/// immutable values (strings and boxed primitives) are trusted this way. A counter's entry also keeps its OpenMetrics
/// <c>_created</c> line: a cumulative series keeps its start time from scrape to scrape, so the line is written once and
/// then copied while the entry and the start time both hold.
/// </summary>
/// <remarks>
/// Layout: two arrays of structs in index order (the 16 bytes a lookup reads, and the rest of each slot) and one byte
/// arena holding every encoding, also in index order as the first scrape stored them. A scrape walks them front to back,
/// so a steady series costs a reference compare on the entry it is already reading and a copy from the next bytes of
/// the arena, instead of two pointer chases to a per-series entry object and a per-series array (at 10 000 series
/// those were cache misses). An encoding that grows
/// moves to the end of the arena; the arena is compacted, in index order again, when more than half of it is dead.
/// </remarks>
internal sealed class EncodedSeriesCache
{
    private const int CompactAbove = 64 * 1024;

    private Hot[] hot = new Hot[16];
    private Slot[] slots = new Slot[16];
    private byte[] arena = new byte[4096];
    private int used;
    private int dead;

    // Per format: where each series' encoding starts in the last document of that format (-1: not written there from
    // this cache's current encoding), and that document's stamp.
    private readonly int[][] documentOffsets = [[], []];
    private readonly long[] documentStamps = new long[2];

    /// <summary>The cached encoding of the series at <paramref name="index"/> when its tags are still those it was encoded for.</summary>
    public bool TryGet(int index, ReadOnlyTagCollection tags, out ReadOnlySpan<byte> encoded)
    {
        if ((uint)index >= (uint)hot.Length)
        {
            encoded = default;
            return false;
        }

        ref var entry = ref hot[index];

        // The SDK gives a metric point its tag array once, when the point is created for those tags, and never writes
        // to it afterwards: the same array is the same series, known without touching the keys and values. A point
        // reclaimed for other tags gets another array.
        if (entry.TagArray is { } known && ReferenceEquals(known, TagArrayOf(tags)))
        {
            encoded = arena.AsSpan(entry.Offset, entry.Length);
            return true;
        }

        return TryGetByKeysAndValues(index, tags, out encoded);
    }

    /// <summary>The lookup of an SDK without the tag-array field: every key and value compared by reference.</summary>
    private bool TryGetByKeysAndValues(int index, ReadOnlyTagCollection tags, out ReadOnlySpan<byte> encoded)
    {
        ref var slot = ref slots[index];
        if (slot.Keys is not { } keys || keys.Length != tags.Count)
        {
            encoded = default;
            return false;
        }

        var values = slot.Values!;
        var i = 0;
        foreach (var tag in tags)
        {
            if (!ReferenceEquals(keys[i], tag.Key) || !ReferenceEquals(values[i], tag.Value))
            {
                encoded = default;
                return false;
            }

            i++;
        }

        ref var entry = ref hot[index];
        encoded = arena.AsSpan(entry.Offset, entry.Length);
        return true;
    }

    /// <summary>Caches the encoding of the series at <paramref name="index"/>; false (and nothing cached) when its values are not trusted.</summary>
    public bool Store(int index, ReadOnlyTagCollection tags, ReadOnlySpan<byte> encoded)
    {
        var keys = new string[tags.Count];
        var values = new object?[tags.Count];
        var i = 0;
        foreach (var tag in tags)
        {
            if (tag.Value is not (string or long or int or double or bool or null))
            {
                // The slot may hold another series' entry; drop it so nothing is attached to it for this one.
                if (index < slots.Length)
                {
                    Forget(index);
                }

                return false;
            }

            keys[i] = tag.Key;
            values[i] = tag.Value;
            i++;
        }

        if (index >= slots.Length)
        {
            var length = Math.Max(index + 1, slots.Length * 2);
            Array.Resize(ref slots, length);
            Array.Resize(ref hot, length);
        }

        ForgetDocumentOffsets(index);
        ref var slot = ref slots[index];
        ref var entry = ref hot[index];
        slot.Keys = keys;
        slot.Values = values;
        entry.TagArray = TagArrayOf(tags);
        (entry.Offset, entry.Length, slot.Capacity) = Place(entry.Offset, slot.Capacity, encoded);

        // A new series has no start time written yet.
        dead += slot.CreatedCapacity;
        slot.CreatedOffset = slot.CreatedLength = slot.CreatedCapacity = 0;
        slot.CreatedStart = default;
        CompactIfMostlyDead();
        return true;
    }

    /// <summary>
    /// The <c>_created</c> line of the series at <paramref name="index"/> when it was encoded for this start time; call
    /// only for a series that <see cref="TryGet"/> or <see cref="Store"/> just matched.
    /// </summary>
    public bool TryGetCreated(int index, DateTimeOffset start, out ReadOnlySpan<byte> line)
    {
        ref var slot = ref slots[index];
        if (slot.CreatedLength > 0 && slot.CreatedStart == start)
        {
            line = arena.AsSpan(slot.CreatedOffset, slot.CreatedLength);
            return true;
        }

        line = default;
        return false;
    }

    /// <summary>Keeps the <c>_created</c> line of a series that <see cref="TryGet"/> or <see cref="Store"/> just matched.</summary>
    public void StoreCreated(int index, DateTimeOffset start, ReadOnlySpan<byte> line)
    {
        ref var slot = ref slots[index];
        slot.CreatedStart = start;
        (slot.CreatedOffset, slot.CreatedLength, slot.CreatedCapacity) = Place(slot.CreatedOffset, slot.CreatedCapacity, line);
        CompactIfMostlyDead();
    }

    /// <summary>Bytes of the arena in use, dead ones included (for tests).</summary>
    internal int ArenaUsed => used;

    /// <summary>
    /// Writes <paramref name="bytes"/> over the range at <paramref name="offset"/> when it fits there, else at the end
    /// of the arena (the old range is then dead).
    /// </summary>
    private (int Offset, int Length, int Capacity) Place(int offset, int capacity, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length <= capacity)
        {
            bytes.CopyTo(arena.AsSpan(offset));
            return (offset, bytes.Length, capacity);
        }

        dead += capacity;
        if (used + bytes.Length > arena.Length)
        {
            Array.Resize(ref arena, Math.Max(used + bytes.Length, arena.Length * 2));
        }

        var at = used;
        bytes.CopyTo(arena.AsSpan(at));
        used += bytes.Length;
        return (at, bytes.Length, bytes.Length);
    }

    /// <summary>
    /// Where each series' encoding starts in the document of <paramref name="format"/> that had stamp
    /// <paramref name="stamp"/> (-1 for a series not written there from its current encoding; series beyond the array
    /// were not written there), or null when the offsets are of another document. A writer that stamps a new document calls <see cref="BeginDocument"/> and then fills in every series of
    /// the stream it writes (-1 for a series whose bytes it did not copy from this cache unchanged).
    /// </summary>
    public int[]? OffsetsIn(ExpositionFormat format, long stamp) =>
        stamp != 0 && documentStamps[(int)format] == stamp ? documentOffsets[(int)format] : null;

    /// <summary>Starts recording the offsets of document <paramref name="stamp"/>; returns the array to fill in.</summary>
    public int[] BeginDocument(ExpositionFormat format, long stamp)
    {
        documentStamps[(int)format] = stamp;
        return documentOffsets[(int)format];
    }

    /// <summary>Grows the offsets of <paramref name="format"/> to hold <paramref name="count"/> series (new ones -1).</summary>
    public int[] GrowOffsets(ExpositionFormat format, int count)
    {
        ref var offsets = ref documentOffsets[(int)format];
        var grown = new int[Math.Max(count, offsets.Length * 2)];
        offsets.CopyTo(grown, 0);
        grown.AsSpan(offsets.Length).Fill(-1);
        offsets = grown;
        return grown;
    }

    // A series encoded anew is not what any earlier document holds at its offset.
    private void ForgetDocumentOffsets(int index)
    {
        foreach (var offsets in documentOffsets)
        {
            if (index < offsets.Length)
            {
                offsets[index] = -1;
            }
        }
    }

    private void Forget(int index)
    {
        ForgetDocumentOffsets(index);
        ref var slot = ref slots[index];
        dead += slot.Capacity + slot.CreatedCapacity;
        slot = default;
        hot[index] = default;
    }

    /// <summary>Copies the live ranges to a new arena in index order once more than half of the arena is dead.</summary>
    private void CompactIfMostlyDead()
    {
        if (used < CompactAbove || dead * 2 <= used)
        {
            return;
        }

        var live = used - dead;
        var compacted = new byte[Math.Max(4096, live + (live / 4))];
        var at = 0;
        for (var i = 0; i < slots.Length; i++)
        {
            ref var slot = ref slots[i];
            Move(ref hot[i].Offset, hot[i].Length, ref slot.Capacity);
            Move(ref slot.CreatedOffset, slot.CreatedLength, ref slot.CreatedCapacity);
        }

        arena = compacted;
        used = at;
        dead = 0;

        void Move(ref int offset, int length, ref int capacity)
        {
            if (capacity == 0)
            {
                offset = 0;
                return;
            }

            arena.AsSpan(offset, length).CopyTo(compacted.AsSpan(at));
            offset = at;
            capacity = length;
            at += length;
        }
    }

    /// <summary>
    /// The array behind <paramref name="tags"/>, or null when this SDK version does not have the field (then every
    /// lookup compares keys and values one by one, as before). Runs once per series per scrape: the field's presence is
    /// probed once, so this is a field load (a static readonly flag is a constant to the optimising JIT, and no
    /// exception handler keeps the method from being inlined).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static object? TagArrayOf(ReadOnlyTagCollection tags) => TagArraysReadable ? KeyAndValues(ref tags) : null;

    private static readonly bool TagArraysReadable = ProbeTagArrays();

    /// <summary>Whether lookups compare tag arrays (this SDK has the field) rather than keys and values.</summary>
    internal static bool ComparesTagArrays => TagArraysReadable;

    private static bool ProbeTagArrays()
    {
        var none = default(ReadOnlyTagCollection);
        try
        {
            _ = KeyAndValues(ref none);
            return true;
        }
        catch (MissingFieldException)
        {
            return false;
        }
    }

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "KeyAndValues")]
    private static extern ref KeyValuePair<string, object?>[] KeyAndValues(ref ReadOnlyTagCollection tags);

    /// <summary>
    /// What a steady series' lookup reads: its tag array and where its encoding is. Kept apart from <see cref="Slot"/> so
    /// that a scrape walks 16 bytes per series instead of a 64-byte slot (at 10 000 series, 160 KB instead of 640 KB).
    /// </summary>
    private struct Hot
    {
        public object? TagArray;
        public int Offset;
        public int Length;
    }

    /// <summary>The rest of a series' entry: its arena capacity, its <c>_created</c> line, and its keys and values.</summary>
    private struct Slot
    {
        public int Capacity;
        public int CreatedOffset;
        public int CreatedLength;
        public int CreatedCapacity;
        public DateTimeOffset CreatedStart;
        public string[]? Keys;
        public object?[]? Values;
    }
}

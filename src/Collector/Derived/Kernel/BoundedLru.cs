namespace PerfOtel.Collector.Derived.Kernel;

/// <summary>
/// A least-recently-used index from <see cref="CompactSpanKey"/> to a value, holding at most its capacity: the hash
/// chains and the recency order live in one array of slots (an intrusive list by slot number), so an entry costs one
/// 64-byte slot and a bucket instead of a dictionary entry, a linked-list node and an entry record (about 180 bytes,
/// three of them objects the GC traces). Not thread-safe: the caller locks.
/// </summary>
/// <remarks>
/// Entries are never removed but by eviction, so a slot once used stays used: the slot of the least recently used entry
/// is taken over by the new one. The arrays grow by doubling up to the capacity, never past it.
/// docs/collector/ingest-performance.md, "Requests that die young, and smaller bounded structures", has the measurements.
/// </remarks>
internal sealed class BoundedLru<TValue>
    where TValue : class
{
    private const int None = -1;
    private const int FirstSize = 16;

    private readonly int capacity;
    private Slot[] slots = [];
    // Head of each bucket's chain (a slot number), None when empty; a power of two at least the slots' length.
    private int[] buckets = [];
    private int count;
    // Most and least recently used slots, None while empty.
    private int newest = None;
    private int oldest = None;

    public BoundedLru(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        this.capacity = capacity;
    }

    /// <summary>Entries held.</summary>
    public int Count => count;

    /// <summary>Slots allocated (at most the capacity).</summary>
    internal int SlotsAllocated => slots.Length;

    /// <summary>The value under <paramref name="key"/>, without changing its recency; null when not held.</summary>
    public TValue? Find(in CompactSpanKey key)
    {
        var index = IndexOf(key, key.GetHashCode());
        return index == None ? null : slots[index].Value;
    }

    /// <summary>The value under <paramref name="key"/>, made the most recently used; null when not held.</summary>
    public TValue? Touch(in CompactSpanKey key)
    {
        var index = IndexOf(key, key.GetHashCode());
        if (index == None)
        {
            return null;
        }
        MoveToFront(index);
        return slots[index].Value;
    }

    /// <summary>
    /// Adds <paramref name="value"/> under <paramref name="key"/>, which is not held (the caller has just looked), as the
    /// most recently used entry; when full, the least recently used entry is evicted and its slot taken over.
    /// </summary>
    public void Add(in CompactSpanKey key, TValue value)
    {
        ArgumentNullException.ThrowIfNull(value);
        int index;
        if (count == capacity)
        {
            index = oldest;
            Unlink(index);
            RemoveFromChain(index);
        }
        else
        {
            if (count == slots.Length)
            {
                Grow();
            }
            index = count++;
        }

        var hash = key.GetHashCode();
        ref var slot = ref slots[index];
        slot.Key = key;
        slot.Value = value;
        slot.Hash = hash;
        var bucket = hash & (buckets.Length - 1);
        slot.NextInChain = buckets[bucket];
        buckets[bucket] = index;
        LinkFront(index);
    }

    private int IndexOf(in CompactSpanKey key, int hash)
    {
        if (count == 0)
        {
            return None;
        }
        for (var index = buckets[hash & (buckets.Length - 1)]; index != None; index = slots[index].NextInChain)
        {
            ref var slot = ref slots[index];
            if (slot.Hash == hash && slot.Key.Equals(key))
            {
                return index;
            }
        }
        return None;
    }

    private void MoveToFront(int index)
    {
        if (index != newest)
        {
            Unlink(index);
            LinkFront(index);
        }
    }

    private void LinkFront(int index)
    {
        ref var slot = ref slots[index];
        slot.Older = newest;
        slot.Newer = None;
        if (newest != None)
        {
            slots[newest].Newer = index;
        }
        newest = index;
        if (oldest == None)
        {
            oldest = index;
        }
    }

    private void Unlink(int index)
    {
        ref var slot = ref slots[index];
        if (slot.Newer != None)
        {
            slots[slot.Newer].Older = slot.Older;
        }
        else
        {
            newest = slot.Older;
        }
        if (slot.Older != None)
        {
            slots[slot.Older].Newer = slot.Newer;
        }
        else
        {
            oldest = slot.Newer;
        }
    }

    private void RemoveFromChain(int index)
    {
        ref var head = ref buckets[slots[index].Hash & (buckets.Length - 1)];
        if (head == index)
        {
            head = slots[index].NextInChain;
            return;
        }
        for (var at = head; at != None; at = slots[at].NextInChain)
        {
            if (slots[at].NextInChain == index)
            {
                slots[at].NextInChain = slots[index].NextInChain;
                return;
            }
        }
    }

    private void Grow()
    {
        var size = (int)Math.Min(capacity, Math.Max(FirstSize, 2L * slots.Length));
        Array.Resize(ref slots, size);
        buckets = new int[(int)Math.Min(1 << 30, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)size))];
        Array.Fill(buckets, None);
        for (var index = 0; index < count; index++)
        {
            ref var slot = ref slots[index];
            var bucket = slot.Hash & (buckets.Length - 1);
            slot.NextInChain = buckets[bucket];
            buckets[bucket] = index;
        }
    }

    private struct Slot
    {
        public CompactSpanKey Key;
        public TValue? Value;
        public int Hash;
        public int NextInChain;
        public int Newer;
        public int Older;
    }
}

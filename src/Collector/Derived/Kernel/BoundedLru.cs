using System.Runtime.CompilerServices;

namespace PerfOtel.Collector.Derived.Kernel;

/// <summary>
/// A least-recently-used index from <see cref="CompactSpanKey"/> to a value, holding at most its capacity: the hash
/// chains (<see cref="HashChains{TSlot}"/>) and the recency order live in one array of slots (an intrusive list by slot
/// number), so an entry costs one slot and a bucket instead of a dictionary entry, a linked-list node and an entry record
/// (about 180 bytes, three of them objects the GC traces). A struct value lives in the slot itself and is read and
/// changed in place through the <c>ref</c> methods. Not thread-safe: the caller locks.
/// </summary>
/// <remarks>
/// Entries are never removed but by eviction, so a slot once used stays used: the slot of the least recently used entry
/// is taken over by the new one. The arrays grow as <see cref="BoundedTable"/> says, to the capacity and never past
/// it.
/// docs/collector/ingest-performance.md, "Requests that die young, and smaller bounded structures", has the measurements.
/// </remarks>
internal sealed class BoundedLru<TValue>
{
    private const int None = HashChains<Slot>.None;

    private readonly int capacity;
    private HashChains<Slot> chains = new();
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
    internal int SlotsAllocated => chains.Slots.Length;

    /// <summary>The value under <paramref name="key"/>, without changing its recency; the default when not held.</summary>
    public TValue? Find(in CompactSpanKey key)
    {
        var index = chains.IndexOf(key, key.GetHashCode());
        return index == None ? default : chains.Slots[index].Value;
    }

    /// <summary>
    /// The value under <paramref name="key"/> in its slot, without changing its recency; a null reference
    /// (<see cref="Unsafe.IsNullRef{T}(ref readonly T)"/>) when not held. Valid until the next addition.
    /// </summary>
    public ref TValue FindRef(scoped in CompactSpanKey key)
    {
        var index = chains.IndexOf(key, key.GetHashCode());
        if (index == None)
        {
            return ref Unsafe.NullRef<TValue>();
        }
        return ref chains.Slots[index].Value;
    }

    /// <summary>The value under <paramref name="key"/>, made the most recently used; the default when not held.</summary>
    public TValue? Touch(in CompactSpanKey key)
    {
        ref var value = ref TouchRef(key);
        return Unsafe.IsNullRef(ref value) ? default : value;
    }

    /// <summary>
    /// The value under <paramref name="key"/> in its slot, made the most recently used; a null reference when not held.
    /// Valid until the next addition.
    /// </summary>
    public ref TValue TouchRef(scoped in CompactSpanKey key)
    {
        var index = chains.IndexOf(key, key.GetHashCode());
        if (index == None)
        {
            return ref Unsafe.NullRef<TValue>();
        }
        MoveToFront(index);
        return ref chains.Slots[index].Value;
    }

    /// <summary>
    /// Adds <paramref name="value"/> under <paramref name="key"/>, which is not held (the caller has just looked), as the
    /// most recently used entry; when full, the least recently used entry is evicted and its slot taken over.
    /// </summary>
    public void Add(in CompactSpanKey key, TValue value)
    {
        if (value is null)
        {
            throw new ArgumentNullException(nameof(value));
        }
        AddRef(key) = value;
    }

    /// <summary>
    /// Adds <paramref name="key"/>, which is not held, as <see cref="Add"/> does, and returns its value in its slot, the
    /// default (an evicted entry's value is gone), to be set in place. Valid until the next addition.
    /// </summary>
    public ref TValue AddRef(scoped in CompactSpanKey key)
    {
        int index;
        if (count == capacity)
        {
            index = oldest;
            Unlink(index);
            chains.Unlink(index);
        }
        else
        {
            if (count == chains.Slots.Length)
            {
                chains.Resize(BoundedTable.NextSize(chains.Slots.Length, capacity), count);
            }
            index = count++;
        }

        ref var slot = ref chains.Slots[index];
        slot.Key = key;
        slot.Value = default!;
        slot.Hash = key.GetHashCode();
        chains.Link(index);
        LinkFront(index);
        return ref slot.Value;
    }

    /// <summary>
    /// The least recently used entry's value in its slot, and its key: the entry the next addition evicts when full. A null
    /// reference (and the default key) when empty. Valid until the next addition.
    /// </summary>
    public ref TValue OldestRef(out CompactSpanKey key)
    {
        if (oldest == None)
        {
            key = default;
            return ref Unsafe.NullRef<TValue>();
        }
        ref var slot = ref chains.Slots[oldest];
        key = slot.Key;
        return ref slot.Value;
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
        var slots = chains.Slots;
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
        var slots = chains.Slots;
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

    private struct Slot : IChainedSlot
    {
        public CompactSpanKey Key;
        public TValue Value;
        public int Newer;
        public int Older;

        public int Hash { get; set; }

        public int NextInChain { get; set; }

        public readonly bool HasKey(in CompactSpanKey key) => Key.Equals(key);
    }
}

using System.Numerics;

namespace PerfOtel.Collector.Derived.Kernel;

/// <summary>A slot of <see cref="HashChains{TSlot}"/>: its key's hash, the next slot of its bucket's chain, its key.</summary>
internal interface IChainedSlot
{
    /// <summary>The key's hash (<see cref="CompactSpanKey.GetHashCode"/>).</summary>
    int Hash { get; }

    /// <summary>The next slot in the bucket's chain (a slot number), -1 at the end.</summary>
    int NextInChain { get; set; }

    /// <summary>Whether the slot holds <paramref name="key"/>.</summary>
    bool HasKey(in CompactSpanKey key);
}

/// <summary>
/// The chained hash core of <see cref="BoundedLru{TValue}"/> and <see cref="SpanLinkTable"/>: one array of slots and a
/// power-of-two array of chain heads (slot numbers). Each table keeps its own extra links in its slots (the recency
/// order, a commit's group) and decides which slot an entry takes; this finds a key, links and unlinks a slot, and
/// rehashes when the slots grow.
/// </summary>
/// <remarks>
/// The slot type is a struct type argument, so the JIT compiles a copy of this code for each table's slot and the
/// slot's members are direct calls (inlined), not interface calls per probe. A mutable struct held in a field of its
/// table: never copy it.
/// </remarks>
internal struct HashChains<TSlot>
    where TSlot : struct, IChainedSlot
{
    /// <summary>No slot: an empty chain's head, a chain's end.</summary>
    public const int None = -1;

    // Head of each bucket's chain (a slot number), None when empty; a power of two at least the slots' length.
    private int[] buckets;

    public HashChains()
    {
        Slots = [];
        buckets = [];
    }

    /// <summary>The slots, indexed by slot number.</summary>
    public TSlot[] Slots { get; private set; }

    /// <summary>The slot holding <paramref name="key"/> (whose hash is <paramref name="hash"/>), or <see cref="None"/>.</summary>
    public readonly int IndexOf(in CompactSpanKey key, int hash)
    {
        var heads = buckets;
        if (heads.Length == 0)
        {
            return None;
        }
        var slots = Slots;
        for (var index = heads[hash & (heads.Length - 1)]; index != None; index = slots[index].NextInChain)
        {
            ref var slot = ref slots[index];
            if (slot.Hash == hash && slot.HasKey(key))
            {
                return index;
            }
        }
        return None;
    }

    /// <summary>Puts slot <paramref name="index"/>, whose hash is set, at the head of its bucket's chain.</summary>
    public readonly void Link(int index)
    {
        ref var slot = ref Slots[index];
        ref var head = ref buckets[slot.Hash & (buckets.Length - 1)];
        slot.NextInChain = head;
        head = index;
    }

    /// <summary>Takes slot <paramref name="index"/> out of its bucket's chain (its own link is left as it was).</summary>
    public readonly void Unlink(int index)
    {
        var slots = Slots;
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

    /// <summary>
    /// Resizes the slots to <paramref name="size"/> and rehashes: the slots below <paramref name="linked"/> are all
    /// linked and relinked, the others (new) are not.
    /// </summary>
    public void Resize(int size, int linked)
    {
        var slots = Slots;
        Array.Resize(ref slots, size);
        Slots = slots;
        buckets = new int[(int)Math.Min(1 << 30, BitOperations.RoundUpToPowerOf2((uint)size))];
        Array.Fill(buckets, None);
        for (var index = 0; index < linked; index++)
        {
            Link(index);
        }
    }
}

namespace PerfOtel.Collector.Derived.Kernel;

/// <summary>
/// The attribution's span links: a hash table from <see cref="CompactSpanKey"/> to a span's parent, its agent (an
/// invoke_agent span) and when its writer first saw it, whose entries are also threaded, by slot number, into the
/// groups of one commit each (<see cref="LinkGroup"/>). One array of 80-byte slots and a bucket array
/// (<see cref="HashChains{TSlot}"/>, the hash core it shares with <see cref="BoundedLru{TValue}"/>) hold it all: a
/// <c>Dictionary</c> entry of key and link took 96 bytes and the commit's list of keys 40 more per link.
/// Not thread-safe: the caller locks.
/// </summary>
/// <remarks>
/// Removed slots go on a free list and are reused by the next additions. The slot array grows as
/// <see cref="BoundedTable"/> says, to the bound and its sixteenth of headroom, and by an eighth at a time past it (a
/// commit's links held before their eviction). docs/collector/ingest-performance.md, "Toward 250
/// MB: mapped files and packed span links", has the measurements.
/// </remarks>
internal sealed class SpanLinkTable
{
    private const int None = HashChains<Slot>.None;

    private readonly int bound;
    private HashChains<Slot> chains = new();
    // Slots used so far (the free list holds those of them removed since).
    private int used;
    private int freeList = None;
    private int count;

    /// <summary>A table meant to hold about <paramref name="bound"/> links (it holds more if asked).</summary>
    public SpanLinkTable(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bound, 1);
        this.bound = bound;
    }

    /// <summary>Links held.</summary>
    public int Count => count;

    /// <summary>Slots allocated.</summary>
    internal int SlotsAllocated => chains.Slots.Length;

    /// <summary>Whether <paramref name="key"/> is linked.</summary>
    public bool Contains(in CompactSpanKey key) => chains.IndexOf(key, key.GetHashCode()) != None;

    /// <summary>The link of <paramref name="key"/>, when it is held.</summary>
    public bool TryGet(in CompactSpanKey key, out SpanLinkEntry entry)
    {
        var index = chains.IndexOf(key, key.GetHashCode());
        if (index == None)
        {
            entry = default;
            return false;
        }
        entry = Read(index);
        return true;
    }

    /// <summary>
    /// When <paramref name="key"/> was first seen, if it is linked; <paramref name="hash"/> is its hash either way, for
    /// <see cref="AddNew"/> (one hash per span whether it is new or not).
    /// </summary>
    public bool TryGetSeenAt(in CompactSpanKey key, out int hash, out DateTimeOffset seenAt)
    {
        hash = key.GetHashCode();
        var index = chains.IndexOf(key, hash);
        seenAt = index == None ? default : SeenAtOf(index);
        return index != None;
    }

    /// <summary>
    /// Links <paramref name="key"/>, which is not linked (the caller has just looked, <see cref="TryGetSeenAt"/>, and
    /// passes the hash it gave), appending it to <paramref name="group"/>.
    /// </summary>
    public void AddNew(in CompactSpanKey key, int hash, SpanIdValue? parent, string? invocationAgent, DateTimeOffset seenAt, LinkGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        int index;
        if (freeList != None)
        {
            index = freeList;
            freeList = chains.Slots[index].NextInChain;
        }
        else
        {
            if (used == chains.Slots.Length)
            {
                Grow();
            }
            index = used++;
        }

        var slots = chains.Slots;
        ref var slot = ref slots[index];
        slot.Key = key;
        slot.Hash = hash;
        slot.Parent = parent is { } p ? p.Value : 0;
        slot.HasParent = parent is not null;
        // The text of a parent id that is not canonical is rare: it shares one field with the agent name.
        slot.AgentOrOdd = parent is { Text: { } text } ? new OddParent(text, invocationAgent) : invocationAgent;
        slot.SeenAtTicks = seenAt.Ticks;
        slot.OffsetMinutes = (short)seenAt.TotalOffsetMinutes;
        slot.NextInGroup = None;
        chains.Link(index);
        count++;

        if (group.Tail == None)
        {
            group.Head = index;
        }
        else
        {
            slots[group.Tail].NextInGroup = index;
        }
        group.Tail = index;
        group.Count++;
    }

    /// <summary>Unlinks <paramref name="key"/>; false when it was not linked.</summary>
    public bool Remove(in CompactSpanKey key)
    {
        var index = chains.IndexOf(key, key.GetHashCode());
        if (index == None)
        {
            return false;
        }
        RemoveAt(index);
        return true;
    }

    /// <summary>
    /// Drops the links of <paramref name="group"/> except those <paramref name="keep"/> says to keep (they stay linked,
    /// in no group); returns how many went. The group is empty afterwards.
    /// </summary>
    public int DropGroup(LinkGroup group, Func<CompactSpanKey, bool> keep)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(keep);
        var dropped = 0;
        var slots = chains.Slots;
        for (var index = group.Head; index != None;)
        {
            var next = slots[index].NextInGroup;
            slots[index].NextInGroup = None;
            if (!keep(slots[index].Key))
            {
                RemoveAt(index);
                dropped++;
            }
            index = next;
        }
        group.Head = group.Tail = None;
        group.Count = 0;
        return dropped;
    }

    /// <summary>The keys of <paramref name="group"/>, in the order they were added.</summary>
    public IEnumerable<CompactSpanKey> KeysOf(LinkGroup group)
    {
        for (var index = group.Head; index != None; index = chains.Slots[index].NextInGroup)
        {
            yield return chains.Slots[index].Key;
        }
    }

    private SpanLinkEntry Read(int index)
    {
        ref var slot = ref chains.Slots[index];
        SpanIdValue? parent = null;
        string? agent;
        if (slot.AgentOrOdd is OddParent odd)
        {
            parent = SpanIdValue.OfText(odd.Text);
            agent = odd.Agent;
        }
        else
        {
            agent = (string?)slot.AgentOrOdd;
            if (slot.HasParent)
            {
                parent = SpanIdValue.OfValue(slot.Parent);
            }
        }
        return new SpanLinkEntry(parent, agent, SeenAtOf(index));
    }

    private DateTimeOffset SeenAtOf(int index)
    {
        ref var slot = ref chains.Slots[index];
        return new(slot.SeenAtTicks, TimeSpan.FromMinutes(slot.OffsetMinutes));
    }

    private void RemoveAt(int index)
    {
        chains.Unlink(index);
        // The references go at once: a free slot keeps no tenant, odd id or agent alive.
        var slots = chains.Slots;
        slots[index] = default;
        slots[index].NextInChain = freeList;
        freeList = index;
        count--;
    }

    private void Grow()
    {
        // Grown only when the free list is empty: every slot up to `used` is linked.
        chains.Resize(BoundedTable.NextSize(chains.Slots.Length, bound + (bound / BoundedTable.Headroom)), used);
    }

    private struct Slot : IChainedSlot
    {
        public CompactSpanKey Key;
        // The agent name (string), or an OddParent when the parent id is not canonical hex.
        public object? AgentOrOdd;
        public ulong Parent;
        public long SeenAtTicks;
        public int NextInGroup;
        public short OffsetMinutes;
        public bool HasParent;

        public int Hash { get; set; }

        // The next slot in the bucket's chain, or in the free list.
        public int NextInChain { get; set; }

        public readonly bool HasKey(in CompactSpanKey key) => Key.Equals(key);
    }

    private sealed record OddParent(string Text, string? Agent);
}

/// <summary>The links one commit brought (one writer's time), threaded through <see cref="SpanLinkTable"/>'s slots.</summary>
internal sealed class LinkGroup
{
    public int Head { get; set; } = -1;

    public int Tail { get; set; } = -1;

    public int Count { get; set; }
}

/// <summary>A span's link: its parent (null for a root), its agent when it is an invoke_agent span, and when its
/// writer first saw it.</summary>
internal readonly record struct SpanLinkEntry(SpanIdValue? Parent, string? InvocationAgent, DateTimeOffset SeenAt);

using System.Globalization;
using System.Runtime.CompilerServices;
using PerfOtel.Collector.Derived.Kernel;

namespace PerfOtel.Collector.Tests.DerivedKernel;

/// <summary>
/// The span links' table (<see cref="SpanLinkTable"/>: slots threaded into hash chains, commit groups and a free list)
/// holds exactly what a dictionary and one list of keys per commit held: every link's parent, agent and first-seen
/// time, every group's keys in order, whatever the adds, resends, removals and group drops (#21, rss).
/// </summary>
public class SpanLinkTableTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 17, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(37, 2)]
    [InlineData(1_000, 3)]
    public void The_table_holds_what_a_dictionary_and_lists_of_keys_hold_after_every_step(int bound, int seed)
    {
        var random = new Random(seed);
        var table = new SpanLinkTable(bound);
        var expected = new Dictionary<CompactSpanKey, SpanLinkEntry>();
        var groups = new SortedDictionary<int, (LinkGroup Group, List<CompactSpanKey> Keys)>();
        var known = new List<(string Tenant, string Trace, string Span)>();

        for (var step = 0; step < 20_000; step++)
        {
            var op = random.Next(100);
            if (op < 60 || known.Count == 0)
            {
                // A new span, or one seen before (a resend: the first sighting stands), into a group of its commit.
                var (tenant, trace, span) = known.Count > 0 && random.Next(4) == 0 ? known[random.Next(known.Count)] : NewSpan(random);
                known.Add((tenant, trace, span));
                var key = CompactSpanKey.Of(tenant, trace, span);
                var commit = random.Next(Math.Max(1, step / 50 - 5), step / 50 + 1);
                if (!groups.TryGetValue(commit, out var group))
                {
                    groups[commit] = group = (new LinkGroup(), []);
                }
                SpanIdValue? parent = random.Next(5) switch
                {
                    0 => null,
                    1 => SpanIdValue.Of(Odd(random)),
                    _ => SpanIdValue.Of(Hex(random, 16)),
                };
                var agent = random.Next(4) == 0 ? "agent-" + random.Next(3) : null;
                // Any offset a clock may carry comes back as it went in.
                var seenAt = new DateTimeOffset(T0.Ticks + commit * TimeSpan.TicksPerSecond, TimeSpan.FromMinutes(random.Next(3) * 330));

                var found = table.TryGetSeenAt(key, out var hash, out var firstSeenAt);
                Assert.Equal(expected.TryGetValue(key, out var held), found);
                if (found)
                {
                    AssertSame(held.SeenAt, firstSeenAt);
                }
                else
                {
                    table.AddNew(key, hash, parent, agent, seenAt, group.Group);
                    expected[key] = new SpanLinkEntry(parent, agent, seenAt);
                    group.Keys.Add(key);
                }
            }
            else if (op < 75)
            {
                // A pinned link released: removed by key, its group long gone or not.
                var (tenant, trace, span) = known[random.Next(known.Count)];
                var key = CompactSpanKey.Of(tenant, trace, span);
                var inGroup = groups.Values.Any(g => g.Keys.Contains(key));
                if (!inGroup)
                {
                    Assert.Equal(expected.Remove(key), table.Remove(key));
                }
            }
            else if (op < 80 && groups.Count > 0)
            {
                // The oldest group dropped, some of its links kept (pinned): those stay linked, in no group.
                var (commit, group) = groups.First();
                Assert.Equal(group.Keys, table.KeysOf(group.Group));
                Assert.Equal(group.Keys.Count, group.Group.Count);
                var keep = group.Keys.Where(_ => random.Next(5) == 0).ToHashSet();
                var dropped = table.DropGroup(group.Group, keep.Contains);
                var expectedDropped = 0;
                foreach (var key in group.Keys.Where(k => !keep.Contains(k)))
                {
                    expectedDropped += expected.Remove(key) ? 1 : 0;
                }
                Assert.Equal(expectedDropped, dropped);
                Assert.Empty(table.KeysOf(group.Group));
                groups.Remove(commit);
            }

            Assert.Equal(expected.Count, table.Count);
            if (step % 97 == 0 || step > 19_900)
            {
                foreach (var (key, entry) in expected)
                {
                    Assert.True(table.TryGet(key, out var actual));
                    AssertSame(entry, actual);
                }
                foreach (var (_, group) in groups)
                {
                    Assert.Equal(group.Keys, table.KeysOf(group.Group));
                }
            }
        }
    }

    [Fact]
    public void Odd_ids_and_parents_keep_their_text_and_a_free_slot_keeps_nothing_alive()
    {
        var table = new SpanLinkTable(4);
        var group = new LinkGroup();
        var agent = AddOddLink(table, group);

        Assert.Equal(1, table.DropGroup(group, _ => false));
        Assert.Equal(0, table.Count);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(agent.IsAlive);
    }

    [Fact]
    public void Filling_the_default_table_allocates_its_slots_about_once()
    {
        const int bound = SpanAttribution.DefaultLinkCapacity;
        var keys = new CompactSpanKey[bound];
        for (var i = 0; i < bound; i++)
        {
            keys[i] = CompactSpanKey.Of("t", "0af7651916cd43dd8448eb211c80319c", i.ToString("x16", CultureInfo.InvariantCulture));
        }
        var table = new SpanLinkTable(bound);
        var group = new LinkGroup();
        var parent = SpanIdValue.Of("b7ad6b7169203331");

        var before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var key in keys)
        {
            table.TryGetSeenAt(key, out var hash, out _);
            table.AddNew(key, hash, parent, "agent", T0, group);
        }
        var perSlot = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)table.SlotsAllocated;

        // An 80-byte slot and its share of the buckets (4 bytes each, a power of two at least the slots) is about 88
        // bytes. Doubling to the bound allocated every smaller table too, about twice that, which a collector's first
        // minute carried as large-object garbage until a gen2 collection.
        Assert.Equal(bound, table.Count);
        Assert.InRange(table.SlotsAllocated, bound, bound + bound / BoundedTable.Headroom);
        Assert.InRange(perSlot, 80, 100);
    }

    // Adds a link with odd ids, an odd parent and a fresh agent string; returns a weak reference to the agent.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference AddOddLink(SpanLinkTable table, LinkGroup group)
    {
        var agent = new string("agent-x".AsSpan());
        var key = CompactSpanKey.Of("t", "ABC", "not-hex");
        table.TryGetSeenAt(key, out var hash, out _);
        table.AddNew(key, hash, SpanIdValue.Of("PARENT"), agent, T0, group);
        Assert.True(table.TryGet(CompactSpanKey.Of("t", "ABC", "not-hex"), out var entry));
        Assert.Equal("PARENT", entry.Parent!.Value.ToString());
        Assert.Equal("PARENT", entry.Parent!.Value.Text);
        Assert.Equal("agent-x", entry.InvocationAgent);
        Assert.False(table.TryGet(CompactSpanKey.Of("t", "abc", "not-hex"), out _));
        return new WeakReference(agent);
    }

    private static void AssertSame(SpanLinkEntry expected, SpanLinkEntry actual)
    {
        Assert.Equal(expected.Parent?.Value, actual.Parent?.Value);
        Assert.Equal(expected.Parent?.Text, actual.Parent?.Text);
        Assert.Equal(expected.Parent is null, actual.Parent is null);
        Assert.Equal(expected.InvocationAgent, actual.InvocationAgent);
        AssertSame(expected.SeenAt, actual.SeenAt);
    }

    private static void AssertSame(DateTimeOffset expected, DateTimeOffset actual)
    {
        Assert.Equal(expected, actual);
        Assert.Equal(expected.Offset, actual.Offset);
    }

    private static (string Tenant, string Trace, string Span) NewSpan(Random random) => random.Next(10) switch
    {
        0 => ("tenant-b", Odd(random), Hex(random, 16)),
        1 => ("tenant-a", Hex(random, 32), Odd(random)),
        _ => (random.Next(3) == 0 ? "tenant-b" : "tenant-a", Hex(random, 32), Hex(random, 16)),
    };

    private static string Hex(Random random, int length)
    {
        var bytes = new byte[length / 2];
        random.NextBytes(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    // Ids that are not canonical lowercase hex: uppercase, short, or not hex at all.
    private static string Odd(Random random) => random.Next(3) switch
    {
        0 => Hex(random, 16).ToUpperInvariant(),
        1 => random.Next(1000).ToString(CultureInfo.InvariantCulture),
        _ => "span-" + random.Next(100),
    };
}

using System.Globalization;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage;

namespace PerfOtel.Collector.Tests.Storage;

/// <summary>The packed form of a commit's span links (both stores' <c>span_link_packs</c> rows) reads back every link as written.</summary>
public sealed class SpanLinkPackTests
{
    private static readonly DateTimeOffset Seen = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void EveryLinkReadsBackExactly_whatever_its_ids_look_like()
    {
        SpanLink[] links =
        [
            // OpenTelemetry ids (lowercase hex, packed as bytes), an agent, a root.
            new() { Tenant = "default", TraceId = "4bf92f3577b34da6a3ce929d0e0e4736", SpanId = "00f067aa0ba902b7", InvocationAgent = "planner", SeenAt = Seen },
            new() { Tenant = "default", TraceId = "4bf92f3577b34da6a3ce929d0e0e4736", SpanId = "b7ad6b7169203331", ParentSpanId = "00f067aa0ba902b7", SeenAt = Seen },
            // Ids that are not lowercase hex of whole bytes stay text: upper case, odd length, empty, other characters.
            new() { Tenant = "globex-ü", TraceId = "4BF92F3577B34DA6A3CE929D0E0E4736", SpanId = "abc", ParentSpanId = "", SeenAt = Seen },
            new() { Tenant = "globex-ü", TraceId = "trace 9 ✓", SpanId = "0g", ParentSpanId = "ABC", InvocationAgent = "", SeenAt = Seen },
            // A long name (its length takes two bytes).
            new() { Tenant = new string('t', 300), TraceId = "ab", SpanId = "cd", InvocationAgent = new string('a', 200), SeenAt = Seen },
        ];

        Assert.Equal(links, SpanLinkPack.Decode(SpanLinkPack.Encode(links), Seen));
    }

    [Fact]
    public void ManyLinksPackSmall_and_share_their_repeated_strings()
    {
        // 1 000 links of 200 traces (more strings than a one-byte reference reaches), as a large merged commit.
        var links = AgentTraces(1_000, i => "agent-" + (i % 3), Seen);

        var pack = SpanLinkPack.Encode(links);
        var read = SpanLinkPack.Decode(pack, Seen);

        Assert.Equal(links, read);
        // Per link about 8 bytes of span id, references and a share of its trace's 16 bytes: not the ~80 of text.
        Assert.InRange(pack.Length, 10_000, 25_000);
        Assert.Same(read[0].TraceId, read[1].TraceId);
        Assert.Same(read[0].SpanId, read[1].ParentSpanId);
    }

    [Fact]
    public void AWriteIsPackedPerSeenAtTime_in_the_order_its_links_came()
    {
        var link = new SpanLink { Tenant = "default", TraceId = "t", SpanId = "s1", SeenAt = Seen };
        var earlier = Seen.AddSeconds(-30);
        List<SpanLink> links = [link, link with { SpanId = "s2", SeenAt = earlier }, link with { SpanId = "s3" },
            // Within one microsecond of the first: the stores keep microseconds, so it belongs to the first's pack.
            link with { SpanId = "s4", SeenAt = Seen.AddTicks(5) }];

        var packs = SpanLinkPack.Group(links).ToList();

        Assert.Equal([Seen, earlier], packs.Select(p => p.SeenAt));
        Assert.Equal(["s1", "s3", "s4"], SpanLinkPack.Decode(packs[0].Pack, Seen).Select(l => l.SpanId));
        Assert.Equal(["s2"], SpanLinkPack.Decode(packs[1].Pack, earlier).Select(l => l.SpanId));
        Assert.Empty(SpanLinkPack.Group([]));
    }

    [Fact]
    public void AStoredFirstSightingStands_and_decisions_mark_their_links()
    {
        var link = new SpanLink { Tenant = "default", TraceId = "t", SpanId = "s1", SeenAt = Seen };
        var reader = new SpanLinkPack.Reader([("default", "t", "s2")]);

        var first = reader.Read(SpanLinkPack.Encode([link, link with { SpanId = "s2" }]), Seen).ToList();
        var again = reader.Read(SpanLinkPack.Encode([link, link with { SpanId = "s3" }]), Seen.AddMinutes(1)).ToList();

        Assert.Equal([link, link with { SpanId = "s2", Expired = true }], first);
        Assert.Equal([link with { SpanId = "s3", SeenAt = Seen.AddMinutes(1) }], again);
    }

    [Theory]
    [InlineData(new byte[0], "format (empty)")]
    [InlineData(new byte[] { 2, 0 }, "format 2")]
    [InlineData(new byte[] { 1, 1, 1, 4, 0xab }, "past its end")]
    [InlineData(new byte[] { 1, 1, 3 }, "a reference to string 3 of 0")]
    [InlineData(new byte[] { 1, 0, 7 }, "after its 0 links")]
    public void ACorruptPackIsRefusedWithWhatIsWrong(byte[] pack, string message)
    {
        var error = Assert.Throws<InvalidDataException>(() => SpanLinkPack.Decode(pack, Seen));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// <paramref name="count"/> links of traces of five spans each: an invocation span (its agent
    /// from <paramref name="agentOf"/>, given the span's number) and four children under it, ids as lowercase hex.
    /// </summary>
    internal static List<SpanLink> AgentTraces(int count, Func<int, string> agentOf, DateTimeOffset seenAt) =>
        Enumerable.Range(0, count).Select(i => new SpanLink
        {
            Tenant = "default",
            TraceId = (i / 5).ToString("x32", CultureInfo.InvariantCulture),
            SpanId = i.ToString("x16", CultureInfo.InvariantCulture),
            ParentSpanId = i % 5 == 0 ? null : (i - (i % 5)).ToString("x16", CultureInfo.InvariantCulture),
            InvocationAgent = i % 5 == 0 ? agentOf(i) : null,
            SeenAt = seenAt,
        }).ToList();
}

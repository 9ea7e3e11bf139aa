using System.Buffers;
using System.Text;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Storage;

/// <summary>
/// The span links of one commit that share one <see cref="SpanLink.SeenAt"/>, packed into one value: what both stores
/// keep in a <c>span_link_packs</c> row (docs/collector/storage.md, "Span links"). Nobody looks a single link up in SQL:
/// links are read whole (the start-up replay, the derivation leader's commit ranges) and pruned by time, so one row per
/// commit replaces one row and its index entries per span.
/// </summary>
/// <remarks>
/// Format (version 1): the version byte, the link count, then per link five strings (tenant, trace id, span id, parent
/// span id, agent), each a reference into the pack's own string table: 0 is null, k is the (k-1)th string, and the
/// next unused index introduces a new string, which follows as a tag (byte length times two, plus one when the string
/// is lowercase hex and is stored as its bytes) and the bytes. So a trace id, a tenant, an agent or a parent span id is
/// written once per pack, and the ids OpenTelemetry gives (lowercase hex) take half their text. Numbers are unsigned
/// LEB128. The seen-at time and the expiry decisions are not in the pack: the first is the row's, the second a table of
/// its own (a decision is made after the links were stored).
/// </remarks>
internal static class SpanLinkPack
{
    private const byte Version = 1;

    private static readonly SearchValues<char> LowerHexDigits = SearchValues.Create("0123456789abcdef");

    /// <summary>
    /// The links grouped by <see cref="SpanLink.SeenAt"/> (a write's links share one, except links seen again that keep
    /// their first sighting), each group in batch order, groups in the order their first link came.
    /// </summary>
    public static IEnumerable<(DateTimeOffset SeenAt, byte[] Pack)> Group(IReadOnlyList<SpanLink> links)
    {
        ArgumentNullException.ThrowIfNull(links);
        if (links.Count == 0)
        {
            yield break;
        }
        var first = links[0].SeenAt;
        var single = true;
        for (var i = 1; i < links.Count && single; i++)
        {
            single = links[i].SeenAt.UtcTicks == first.UtcTicks;
        }
        if (single)
        {
            yield return (first, Encode(links));
            yield break;
        }
        // By the microsecond, the precision both stores keep: two groups of one write never share a stored seen_at.
        var groups = new List<(DateTimeOffset SeenAt, List<SpanLink> Links)>();
        var index = new Dictionary<long, int>();
        foreach (var link in links)
        {
            var micros = link.SeenAt.UtcTicks / TimeSpan.TicksPerMicrosecond;
            if (!index.TryGetValue(micros, out var at))
            {
                index[micros] = at = groups.Count;
                groups.Add((link.SeenAt, []));
            }
            groups[at].Links.Add(link);
        }
        foreach (var (seenAt, group) in groups)
        {
            yield return (seenAt, Encode(group));
        }
    }

    /// <summary>Packs <paramref name="links"/> (their SeenAt and Expired are not kept).</summary>
    public static byte[] Encode(IReadOnlyList<SpanLink> links)
    {
        ArgumentNullException.ThrowIfNull(links);
        // The writer and the string table are the thread's, reused pack after pack: a commit's table of a few thousand
        // ids grew through a large-object-heap array, and those arrays alone set off most of the collector's gen2
        // collections at full rate (#21). Neither is kept once it has grown past what an ordinary commit needs.
        var writer = Interim.Writer ??= new ArrayBufferWriter<byte>(InterimBytes);
        var strings = Interim.Strings ??= new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            Write(writer, strings, links);
            return writer.WrittenSpan.ToArray();
        }
        finally
        {
            writer.ResetWrittenCount();
            strings.Clear();
            if (writer.Capacity > InterimBytes * 4)
            {
                Interim.Writer = null;
            }
            if (strings.EnsureCapacity(0) > InterimStrings)
            {
                Interim.Strings = null;
            }
        }
    }

    // What a thread keeps between packs: room for about 2 500 links and 8 000 distinct strings.
    private const int InterimBytes = 1 << 16;
    private const int InterimStrings = 1 << 13;

    private static class Interim
    {
        [ThreadStatic]
        public static ArrayBufferWriter<byte>? Writer;

        [ThreadStatic]
        public static Dictionary<string, int>? Strings;
    }

    private static void Write(ArrayBufferWriter<byte> writer, Dictionary<string, int> strings, IReadOnlyList<SpanLink> links)
    {
        writer.Write([Version]);
        WriteNumber(writer, (ulong)links.Count);
        foreach (var link in links)
        {
            WriteString(writer, strings, link.Tenant);
            WriteString(writer, strings, link.TraceId);
            WriteString(writer, strings, link.SpanId);
            WriteString(writer, strings, link.ParentSpanId);
            WriteString(writer, strings, link.InvocationAgent);
        }
    }

    /// <summary>Unpacks the links of a pack seen at <paramref name="seenAt"/> (none expired: decisions are stored apart).</summary>
    public static List<SpanLink> Decode(ReadOnlySpan<byte> pack, DateTimeOffset seenAt)
    {
        var at = 0;
        if (pack.Length == 0 || pack[at++] != Version)
        {
            throw new InvalidDataException(
                $"A span_link_packs row holds format {(pack.Length == 0 ? "(empty)" : pack[0].ToString(System.Globalization.CultureInfo.InvariantCulture))}, which this collector does not read (it reads {Version}).");
        }
        var count = checked((int)ReadNumber(pack, ref at));
        var links = new List<SpanLink>(Math.Min(count, pack.Length));
        var strings = new List<string>();
        for (var i = 0; i < count; i++)
        {
            links.Add(new SpanLink
            {
                Tenant = ReadString(pack, ref at, strings) ?? throw Corrupt("a link without a tenant"),
                TraceId = ReadString(pack, ref at, strings) ?? throw Corrupt("a link without a trace id"),
                SpanId = ReadString(pack, ref at, strings) ?? throw Corrupt("a link without a span id"),
                ParentSpanId = ReadString(pack, ref at, strings),
                InvocationAgent = ReadString(pack, ref at, strings),
                SeenAt = seenAt,
            });
        }
        if (at != pack.Length)
        {
            throw Corrupt($"{pack.Length - at} bytes after its {count} links");
        }
        return links;
    }

    /// <summary>
    /// Unpacks stored packs, read in the order they were stored, into links as one table keyed by span would hold them:
    /// a span's first sighting stands (later packs may repeat a span that was sent again), marked expired when a
    /// decision names it.
    /// </summary>
    public sealed class Reader(HashSet<(string Tenant, string TraceId, string SpanId)> expired)
    {
        private readonly HashSet<(string, string, string)> _seen = [];

        public IEnumerable<SpanLink> Read(byte[] pack, DateTimeOffset seenAt)
        {
            foreach (var link in Decode(pack, seenAt))
            {
                var key = (link.Tenant, link.TraceId, link.SpanId);
                if (_seen.Add(key))
                {
                    yield return expired.Contains(key) ? link with { Expired = true } : link;
                }
            }
        }
    }

    private static void WriteString(ArrayBufferWriter<byte> writer, Dictionary<string, int> strings, string? value)
    {
        if (value is null)
        {
            WriteNumber(writer, 0);
            return;
        }
        if (strings.TryGetValue(value, out var index))
        {
            WriteNumber(writer, (ulong)index + 1);
            return;
        }
        strings[value] = strings.Count;
        WriteNumber(writer, (ulong)strings.Count);
        if (IsLowerHex(value))
        {
            var length = value.Length / 2;
            WriteNumber(writer, ((ulong)length << 1) | 1);
            Convert.FromHexString(value, writer.GetSpan(length), out _, out _);
            writer.Advance(length);
        }
        else
        {
            var length = Encoding.UTF8.GetByteCount(value);
            WriteNumber(writer, (ulong)length << 1);
            Encoding.UTF8.GetBytes(value, writer.GetSpan(length));
            writer.Advance(length);
        }
    }

    private static string? ReadString(ReadOnlySpan<byte> pack, ref int at, List<string> strings)
    {
        var reference = ReadNumber(pack, ref at);
        if (reference == 0)
        {
            return null;
        }
        if (reference <= (ulong)strings.Count)
        {
            return strings[(int)reference - 1];
        }
        if (reference != (ulong)strings.Count + 1)
        {
            throw Corrupt($"a reference to string {reference} of {strings.Count}");
        }
        var tag = ReadNumber(pack, ref at);
        var length = tag >> 1;
        if (length > (ulong)(pack.Length - at))
        {
            throw Corrupt($"a string of {length} bytes past its end");
        }
        var bytes = pack.Slice(at, (int)length);
        at += (int)length;
        var value = (tag & 1) == 1 ? Convert.ToHexStringLower(bytes) : Encoding.UTF8.GetString(bytes);
        strings.Add(value);
        return value;
    }

    /// <summary>Lowercase hex of whole bytes, as OpenTelemetry ids are written: stored as the bytes, read back the same.</summary>
    private static bool IsLowerHex(string value)
    {
        // Vectorised: every span's link has two or three ids to check (cpu21, #21).
        return value.Length != 0 && value.Length % 2 == 0 && !value.AsSpan().ContainsAnyExcept(LowerHexDigits);
    }


    private static void WriteNumber(ArrayBufferWriter<byte> writer, ulong value)
    {
        var span = writer.GetSpan(10);
        var written = 0;
        while (value >= 0x80)
        {
            span[written++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[written++] = (byte)value;
        writer.Advance(written);
    }

    private static ulong ReadNumber(ReadOnlySpan<byte> pack, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (at >= pack.Length)
            {
                throw Corrupt("a number past its end");
            }
            var b = pack[at++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
        throw Corrupt("a number longer than 64 bits");
    }

    private static InvalidDataException Corrupt(string what) => new($"A span_link_packs row is corrupt: {what}.");
}

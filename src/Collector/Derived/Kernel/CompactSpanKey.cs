using System.Buffers.Binary;
using System.Globalization;

namespace PerfOtel.Collector.Derived.Kernel;

/// <summary>
/// A span's identity (tenant, trace id, span id) in 40 bytes without objects of its own, for the bounded in-memory
/// indexes that hold hundreds of thousands of them (the attribution's span links). Ids in their canonical form,
/// lowercase hex of 32 characters for a trace and 16 for a span (what the OTLP mapping and both stores produce), are
/// held as three ulongs; any other id (an odd length, uppercase or non-hex text from a stored row or a JSON producer)
/// keeps its text, so two keys are equal exactly when their three strings are (ordinal), as the string keys were.
/// </summary>
/// <remarks>
/// As strings the same key took two or three objects (about 90 bytes for a trace id, 56 for a span id) beside its
/// entry; docs/collector/ingest-performance.md, "Resident memory under sustained load: measurements", has the measurements.
/// </remarks>
internal readonly struct CompactSpanKey : IEquatable<CompactSpanKey>
{
    private const int TraceHexLength = 32;
    private const int SpanHexLength = 16;

    private readonly ulong traceHigh;
    private readonly ulong traceLow;
    private readonly ulong span;
    // Null for canonical ids; otherwise "<trace id length>:<trace id><span id>" (unambiguous), the ulongs zero.
    private readonly string? odd;

    private CompactSpanKey(string tenant, ulong traceHigh, ulong traceLow, ulong span, string? odd)
    {
        Tenant = tenant;
        this.traceHigh = traceHigh;
        this.traceLow = traceLow;
        this.span = span;
        this.odd = odd;
    }

    public string Tenant { get; }

    /// <summary>The key of a span; allocates only for ids that are not canonical.</summary>
    public static CompactSpanKey Of(string tenant, string traceId, string spanId)
    {
        Span<byte> bytes = stackalloc byte[24];
        if (traceId.Length == TraceHexLength && spanId.Length == SpanHexLength
            && TryParseHex(traceId, bytes[..16]) && TryParseHex(spanId, bytes[16..]))
        {
            return new CompactSpanKey(tenant, BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]),
                BinaryPrimitives.ReadUInt64BigEndian(bytes[16..]), null);
        }
        return new CompactSpanKey(tenant, 0, 0, 0, string.Concat(traceId.Length.ToString(CultureInfo.InvariantCulture), ":", traceId, spanId));
    }

    /// <summary>The key of a span of the same tenant and trace (a parent); allocates only for ids that are not canonical.</summary>
    public CompactSpanKey WithSpan(SpanIdValue spanId) =>
        odd is null && spanId.Text is null
            ? new CompactSpanKey(Tenant, traceHigh, traceLow, spanId.Value, null)
            : Of(Tenant, TraceId, spanId.ToString());

    /// <summary>The trace id as text (allocates).</summary>
    public string TraceId => odd is null ? string.Concat(Hex(traceHigh), Hex(traceLow)) : odd.Substring(OddSplit().Start, OddSplit().Length);

    /// <summary>The span id as text (allocates for canonical ids).</summary>
    public string SpanId => odd is null ? Hex(span) : odd[(OddSplit().Start + OddSplit().Length)..];

    /// <summary>The key with string ids (allocates).</summary>
    public SpanKey ToSpanKey() => new(Tenant, TraceId, SpanId);

    public bool Equals(CompactSpanKey other) =>
        span == other.span && traceLow == other.traceLow && traceHigh == other.traceHigh
        && string.Equals(odd, other.odd, StringComparison.Ordinal)
        && string.Equals(Tenant, other.Tenant, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is CompactSpanKey other && Equals(other);

    // HashCode is seeded per process, so producers cannot choose ids that collide (the string keys had randomised
    // hashing too). Every bit of both ids goes in: a span id is unique within its trace only, so keys hashed on the span
    // id and the trace id's low half collide whenever traces differ in their first half only. The ingest-load driver's
    // requests were such copies of 16 templates until 2026-12-03 18:00 UTC (only the trace id's first half renumbered):
    // the span links and the invocation facts then held chains of dozens of entries at their bounds, and the attribution
    // took a sixth of the collector's CPU (storage-performance.md, "Where the SQLite collector's CPU goes now"). SDKs'
    // random trace ids did not collide. The tenant decides equality only.
    public override int GetHashCode() => odd is null ? HashCode.Combine(span, traceLow, traceHigh) : HashCode.Combine(odd);

    public static bool operator ==(CompactSpanKey left, CompactSpanKey right) => left.Equals(right);

    public static bool operator !=(CompactSpanKey left, CompactSpanKey right) => !left.Equals(right);

    private (int Start, int Length) OddSplit()
    {
        var colon = odd!.IndexOf(':', StringComparison.Ordinal);
        return (colon + 1, int.Parse(odd.AsSpan(0, colon), CultureInfo.InvariantCulture));
    }

    internal static string Hex(ulong value) => string.Create(16, value, static (chars, v) => v.TryFormat(chars, out _, "x16", CultureInfo.InvariantCulture));

    /// <summary>Parses exactly 16 lowercase hex digits (uppercase would not format back to the same text).</summary>
    internal static bool TryParseHex(ReadOnlySpan<char> text, out ulong value)
    {
        Span<byte> bytes = stackalloc byte[8];
        if (text.Length == SpanHexLength && TryParseHex(text, bytes))
        {
            value = BinaryPrimitives.ReadUInt64BigEndian(bytes);
            return true;
        }
        value = 0;
        return false;
    }

    /// <summary>Lowercase hex digits, two per byte of <paramref name="bytes"/>.</summary>
    /// <remarks>
    /// A loop of our own: the runtime's <c>Convert.FromHexString</c> into a span, as called here, allocated 96 bytes per
    /// id (measured with <c>GC.GetAllocatedBytesForCurrentThread</c>), 192 per key, several keys per span: garbage that
    /// every commit made for nothing (docs/collector/ingest-performance.md, "Requests that die young, and smaller bounded
    /// structures").
    /// </remarks>
    private static bool TryParseHex(ReadOnlySpan<char> text, Span<byte> bytes)
    {
        if (text.Length != 2 * bytes.Length)
        {
            return false;
        }
        for (var i = 0; i < bytes.Length; i++)
        {
            var high = LowercaseHexDigit(text[2 * i]);
            var low = LowercaseHexDigit(text[(2 * i) + 1]);
            if ((high | low) < 0)
            {
                return false;
            }
            bytes[i] = (byte)((high << 4) | low);
        }
        return true;
    }

    private static int LowercaseHexDigit(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        _ => -1,
    };
}

/// <summary>A span id within a trace: 16 lowercase hex digits as a ulong, any other text as itself.</summary>
internal readonly struct SpanIdValue
{
    private SpanIdValue(ulong value, string? text)
    {
        Value = value;
        Text = text;
    }

    public ulong Value { get; }

    /// <summary>Null for a canonical id.</summary>
    public string? Text { get; }

    public static SpanIdValue Of(string spanId) =>
        CompactSpanKey.TryParseHex(spanId, out var value) ? new SpanIdValue(value, null) : new SpanIdValue(0, spanId);

    /// <summary>A canonical id by its value.</summary>
    public static SpanIdValue OfValue(ulong value) => new(value, null);

    /// <summary>An id that is not canonical, by its text.</summary>
    public static SpanIdValue OfText(string text) => new(0, text);

    public override string ToString() => Text ?? CompactSpanKey.Hex(Value);
}

using Google.Protobuf;

namespace PerfOtel.Collector.Receiving.Mapping;

/// <summary>Trace and span id checks and their lowercase-hex form, as the model stores them.</summary>
internal static class OtlpIds
{
    public const int TraceIdBytes = 16;
    public const int SpanIdBytes = 8;

    public static bool IsValidTraceId(ByteString id) => id.Length == TraceIdBytes && !IsAllZero(id.Span);

    public static bool IsValidSpanId(ByteString id) => id.Length == SpanIdBytes && !IsAllZero(id.Span);

    public static bool IsValidTraceId(ReadOnlySpan<byte> id) => id.Length == TraceIdBytes && !IsAllZero(id);

    public static bool IsValidSpanId(ReadOnlySpan<byte> id) => id.Length == SpanIdBytes && !IsAllZero(id);

    public static string Hex(ByteString id) => Convert.ToHexStringLower(id.Span);

    public static string Hex(ReadOnlySpan<byte> id) => Convert.ToHexStringLower(id);

    public static string? HexOrNull(ReadOnlySpan<byte> id) => id.IsEmpty ? null : Convert.ToHexStringLower(id);

    public static string? HexOrNull(ByteString id) => id.IsEmpty ? null : Convert.ToHexStringLower(id.Span);

    public static DateTimeOffset Time(ulong unixNanos) =>
        DateTimeOffset.UnixEpoch.AddTicks((long)Math.Min(unixNanos / 100, (ulong)(DateTimeOffset.MaxValue - DateTimeOffset.UnixEpoch).Ticks));

    private static bool IsAllZero(ReadOnlySpan<byte> bytes) => !bytes.ContainsAnyExcept((byte)0);
}

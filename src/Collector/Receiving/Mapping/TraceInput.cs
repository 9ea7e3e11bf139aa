using System.Text;
using Google.Protobuf.Collections;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Trace.V1;

namespace PerfOtel.Collector.Receiving.Mapping;

/// <summary>
/// What <see cref="SpanMapper"/> reads of an OTLP trace request, whichever decoder produced it: the request's own bytes
/// read by <see cref="OtlpTraceWireReader"/> (OTLP/HTTP protobuf, OTLP/gRPC) or Google.Protobuf's object graph
/// (OTLP/JSON, tests). One mapping over both: the rules live in the mapper, the two decoders only say where each field is.
/// </summary>
internal sealed class TraceRequestInput(List<SpanInput> spans, IDisposable? pooled = null) : IDisposable
{
    /// <summary>Every span of the request, in the request's order.</summary>
    public List<SpanInput> Spans { get; } = spans;

    /// <summary>Gives pooled memory back (the wire reader's attribute entries): call once the request is mapped.</summary>
    public void Dispose() => pooled?.Dispose();

    public static TraceRequestInput From(ExportTraceServiceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var spans = new List<SpanInput>();
        foreach (var resourceSpans in request.ResourceSpans)
        {
            var resource = AttributeBag.From(resourceSpans.Resource?.Attributes);
            foreach (var scopeSpans in resourceSpans.ScopeSpans)
            {
                foreach (var span in scopeSpans.Spans)
                {
                    spans.Add(SpanInput.From(span, resource));
                }
            }
        }

        return new TraceRequestInput(spans);
    }
}

/// <summary>One span as the mapper reads it: ids as bytes, the name and tracestate decoded only when read.</summary>
internal sealed class SpanInput
{
    private static readonly SpanEventInput[] NoEvents = [];

    private string? _name;
    private ReadOnlyMemory<byte> _nameUtf8;
    private string? _traceState;
    private ReadOnlyMemory<byte> _traceStateUtf8;

    /// <summary>The attributes of the span's resource (shared by the spans of one ResourceSpans).</summary>
    public required AttributeBag Resource { get; init; }

    public required AttributeBag Attributes { get; init; }

    public ReadOnlyMemory<byte> TraceId { get; init; }

    public ReadOnlyMemory<byte> SpanId { get; init; }

    public ReadOnlyMemory<byte> ParentSpanId { get; init; }

    public ulong StartTimeUnixNano { get; init; }

    public ulong EndTimeUnixNano { get; init; }

    public uint Flags { get; init; }

    /// <summary>Whether the span's status code is STATUS_CODE_ERROR.</summary>
    public bool StatusIsError { get; init; }

    public SpanEventInput[] Events { get; init; } = NoEvents;

    public string Name => _name ??= _nameUtf8.IsEmpty ? string.Empty : Encoding.UTF8.GetString(_nameUtf8.Span);

    public string TraceState => _traceState ??= _traceStateUtf8.IsEmpty ? string.Empty : Encoding.UTF8.GetString(_traceStateUtf8.Span);

    /// <summary>The name's UTF-8 bytes, decoded on first read of <see cref="Name"/>.</summary>
    public ReadOnlyMemory<byte> NameUtf8 { init => _nameUtf8 = value; }

    /// <summary>The tracestate's UTF-8 bytes, decoded on first read of <see cref="TraceState"/>.</summary>
    public ReadOnlyMemory<byte> TraceStateUtf8 { init => _traceStateUtf8 = value; }

    public static SpanInput From(Span span, AttributeBag resource)
    {
        ArgumentNullException.ThrowIfNull(span);
        var events = span.Events.Count == 0 ? NoEvents : new SpanEventInput[span.Events.Count];
        for (var i = 0; i < span.Events.Count; i++)
        {
            events[i] = new SpanEventInput(span.Events[i]);
        }

        return new SpanInput
        {
            Resource = resource,
            Attributes = AttributeBag.From(span.Attributes),
            TraceId = span.TraceId.Memory,
            SpanId = span.SpanId.Memory,
            ParentSpanId = span.ParentSpanId.Memory,
            StartTimeUnixNano = span.StartTimeUnixNano,
            EndTimeUnixNano = span.EndTimeUnixNano,
            Flags = span.Flags,
            StatusIsError = span.Status?.Code == Status.Types.StatusCode.Error,
            Events = events,
            _name = span.Name,
            _traceState = span.TraceState,
        };
    }
}

/// <summary>One event of a span: its name compared without decoding, its attributes read only for the events the mapper uses.</summary>
internal readonly struct SpanEventInput
{
    private readonly string? _name;
    private readonly ReadOnlyMemory<byte> _nameUtf8;
    private readonly RepeatedField<KeyValue>? _attributes;
    private readonly ReadOnlyMemory<byte> _message;

    public SpanEventInput(Span.Types.Event evt)
    {
        ArgumentNullException.ThrowIfNull(evt);
        _name = evt.Name;
        _attributes = evt.Attributes;
        TimeUnixNano = evt.TimeUnixNano;
    }

    /// <param name="nameUtf8">The name's bytes.</param>
    /// <param name="timeUnixNano">The event's time.</param>
    /// <param name="message">The whole Event message (already checked by the reader), read again for its attributes.</param>
    internal SpanEventInput(ReadOnlyMemory<byte> nameUtf8, ulong timeUnixNano, ReadOnlyMemory<byte> message)
    {
        _nameUtf8 = nameUtf8;
        _message = message;
        TimeUnixNano = timeUnixNano;
    }

    public ulong TimeUnixNano { get; }

    public bool NameIs(string name) => _name is not null ? string.Equals(_name, name, StringComparison.Ordinal) : Utf8Key.Matches(_nameUtf8.Span, name);

    public AttributeBag Attributes() => _name is not null ? AttributeBag.From(_attributes) : OtlpTraceWireReader.EventAttributes(_message);
}

/// <summary>A known key (a C# constant) compared with a key's UTF-8 bytes, without decoding them.</summary>
internal static class Utf8Key
{
    /// <summary>
    /// One of 64 bits for a key of <paramref name="length"/> UTF-8 bytes ending in <paramref name="last"/>: keys that
    /// differ in either mostly take different bits (the conventions' names share their prefixes, not their ends).
    /// </summary>
    public static ulong FilterBit(int length, byte last) => 1UL << (int)(((uint)length * 0x9E3779B1u ^ last * 0x85EBCA6Bu) >> 26);

    public static bool Matches(ReadOnlySpan<byte> utf8, string key)
    {
        // Every UTF-16 unit takes at least one UTF-8 byte: the lengths are equal exactly when the key is ASCII.
        if (utf8.Length < key.Length)
        {
            return false;
        }

        if (utf8.Length == key.Length)
        {
            for (var i = 0; i < key.Length; i++)
            {
                if (key[i] >= 0x80 || utf8[i] != key[i])
                {
                    // A key with a non-ASCII char has a longer UTF-8 encoding than its length: it cannot match here.
                    return false;
                }
            }

            return true;
        }

        return !System.Text.Ascii.IsValid(key) && Encoding.UTF8.GetByteCount(key) == utf8.Length && NonAsciiMatches(utf8, key);
    }

    private static bool NonAsciiMatches(ReadOnlySpan<byte> utf8, string key)
    {
        var buffer = utf8.Length <= 256 ? stackalloc byte[utf8.Length] : new byte[utf8.Length];
        Encoding.UTF8.GetBytes(key, buffer);
        return buffer.SequenceEqual(utf8);
    }
}

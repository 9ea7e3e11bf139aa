using System.Buffers.Binary;
using System.Text;
using OpenTelemetry.Proto.Common.V1;

namespace PerfOtel.Collector.Receiving.Mapping;

/// <summary>
/// The bytes of an OTLP trace request were not a valid protobuf <c>ExportTraceServiceRequest</c>: the message says
/// what was wrong and where (a byte offset into the request).
/// </summary>
internal sealed class OtlpWireFormatException(string message) : Exception(message);

/// <summary>
/// Reads an OTLP <c>ExportTraceServiceRequest</c> forward from its protobuf bytes into what <see cref="SpanMapper"/>
/// needs (#21), without Google.Protobuf's object graph (an object per KeyValue and AnyValue, an array per id, a list
/// per repeated field: about 2 700 bytes per span). Ids, names and attribute values stay where they are in the
/// request's bytes: a known key is compared as UTF-8 bytes, a value is decoded when the mapper reads it, an event's
/// attributes are read only for the events the mapper uses.
/// </summary>
/// <remarks>
/// Field numbers and wire types are those of the OTLP protos in src/Collector/Receiving/Protos (trace/v1,
/// common/v1, resource/v1, collector/trace/v1). Everything is checked in one pass before the mapper runs, as a full
/// parse would: a tag with field number 0 or wire type 6 or 7, a varint longer than 10 bytes, a length or fixed-size
/// value past the end of its message, an unclosed or stray group, messages nested deeper than
/// <see cref="RecursionLimit"/> (Google.Protobuf's default), invalid UTF-8 in any string field (keys and string values
/// at any depth, names, tracestate, schema URLs, status message), and a known field with a wire type its
/// declaration does not allow. Unknown fields are skipped by their wire type, groups included (proto3 forward
/// compatibility). The trace request has no repeated scalar fields, so packed and unpacked encodings do not arise
/// among the known fields; unknown ones of either encoding are skipped. A message field that appears twice is merged
/// as protobuf merges it (repeated fields concatenated, the last scalar wins).
/// </remarks>
internal static class OtlpTraceWireReader
{
    /// <summary>How deep messages may nest (Google.Protobuf's default recursion limit).</summary>
    public const int RecursionLimit = 100;

    private const int WireVarint = 0;
    private const int WireFixed64 = 1;
    private const int WireLength = 2;
    private const int WireStartGroup = 3;
    private const int WireEndGroup = 4;
    private const int WireFixed32 = 5;

    /// <summary>Reads and checks a whole request; throws <see cref="OtlpWireFormatException"/> when it is not valid.</summary>
    public static TraceRequestInput Read(ReadOnlyMemory<byte> request)
    {
        var state = new ReadState(request);
        try
        {
            var cursor = new Cursor(request.Span, 0, request.Length, 0, "ExportTraceServiceRequest");
            while (cursor.Next(out var field, out var wireType))
            {
                if (field == 1)
                {
                    cursor.Expect(wireType, WireLength, field, "resource_spans");
                    var resourceSpans = cursor.Message("ResourceSpans");
                    ReadResourceSpans(ref resourceSpans, state);
                }
                else
                {
                    cursor.Skip(field, wireType);
                }
            }
        }
        catch (OtlpWireFormatException)
        {
            state.Attributes.Dispose();
            throw;
        }

        return new TraceRequestInput(state.Spans, state.Attributes);
    }

    /// <summary>The attributes of one Event message (already checked by <see cref="Read"/>).</summary>
    internal static AttributeBag EventAttributes(ReadOnlyMemory<byte> message)
    {
        var attributes = new WireAttributes(message, 4);
        var cursor = new Cursor(message.Span, 0, message.Length, 0, "Event");
        while (cursor.Next(out var field, out var wireType))
        {
            if (field == 3 && wireType == WireLength)
            {
                var keyValue = cursor.Message("KeyValue");
                attributes.Add(ReadKeyValue(ref keyValue));
            }
            else
            {
                cursor.Skip(field, wireType);
            }
        }

        return AttributeBag.From(attributes, 0, attributes.Count);
    }

    private static void ReadResourceSpans(ref Cursor cursor, ReadState state)
    {
        // The resource first, wherever it stands among the fields (and merged when it appears more than once): its
        // attributes are one contiguous run that every span of this ResourceSpans refers to.
        var resourceStart = state.Attributes.Count;
        var scan = cursor;
        while (scan.Next(out var field, out var wireType))
        {
            if (field == 1)
            {
                scan.Expect(wireType, WireLength, field, "resource");
                var resource = scan.Message("Resource");
                ReadResource(ref resource, state.Attributes);
            }
            else
            {
                scan.Skip(field, wireType);
            }
        }

        var resourceBag = AttributeBag.From(state.Attributes, resourceStart, state.Attributes.Count - resourceStart);
        while (cursor.Next(out var field, out var wireType))
        {
            switch (field)
            {
                case 1:
                    cursor.Expect(wireType, WireLength, field, "resource");
                    cursor.LengthDelimited();
                    break;
                case 2:
                    cursor.Expect(wireType, WireLength, field, "scope_spans");
                    var scopeSpans = cursor.Message("ScopeSpans");
                    ReadScopeSpans(ref scopeSpans, state, resourceBag);
                    break;
                case 3:
                    cursor.Utf8(wireType, field, "schema_url");
                    break;
                default:
                    cursor.Skip(field, wireType);
                    break;
            }
        }
    }

    private static void ReadResource(ref Cursor cursor, WireAttributes attributes)
    {
        while (cursor.Next(out var field, out var wireType))
        {
            switch (field)
            {
                case 1:
                    cursor.Expect(wireType, WireLength, field, "attributes");
                    var keyValue = cursor.Message("KeyValue");
                    attributes.Add(ReadKeyValue(ref keyValue));
                    break;
                case 2:
                    cursor.Expect(wireType, WireVarint, field, "dropped_attributes_count");
                    cursor.Varint();
                    break;
                case 3:
                    cursor.Expect(wireType, WireLength, field, "entity_refs");
                    var entityRef = cursor.Message("EntityRef");
                    CheckEntityRef(ref entityRef);
                    break;
                default:
                    cursor.Skip(field, wireType);
                    break;
            }
        }
    }

    private static void CheckEntityRef(ref Cursor cursor)
    {
        while (cursor.Next(out var field, out var wireType))
        {
            switch (field)
            {
                case 1: cursor.Utf8(wireType, field, "schema_url"); break;
                case 2: cursor.Utf8(wireType, field, "type"); break;
                case 3: cursor.Utf8(wireType, field, "id_keys"); break;
                case 4: cursor.Utf8(wireType, field, "description_keys"); break;
                default: cursor.Skip(field, wireType); break;
            }
        }
    }

    private static void ReadScopeSpans(ref Cursor cursor, ReadState state, AttributeBag resource)
    {
        while (cursor.Next(out var field, out var wireType))
        {
            switch (field)
            {
                case 1:
                    cursor.Expect(wireType, WireLength, field, "scope");
                    var scope = cursor.Message("InstrumentationScope");
                    CheckScope(ref scope);
                    break;
                case 2:
                    cursor.Expect(wireType, WireLength, field, "spans");
                    var span = cursor.Message("Span");
                    state.Spans.Add(ReadSpan(ref span, state, resource));
                    break;
                case 3:
                    cursor.Utf8(wireType, field, "schema_url");
                    break;
                default:
                    cursor.Skip(field, wireType);
                    break;
            }
        }
    }

    private static void CheckScope(ref Cursor cursor)
    {
        while (cursor.Next(out var field, out var wireType))
        {
            switch (field)
            {
                case 1: cursor.Utf8(wireType, field, "name"); break;
                case 2: cursor.Utf8(wireType, field, "version"); break;
                case 3:
                    cursor.Expect(wireType, WireLength, field, "attributes");
                    var keyValue = cursor.Message("KeyValue");
                    ReadKeyValue(ref keyValue);
                    break;
                case 4:
                    cursor.Expect(wireType, WireVarint, field, "dropped_attributes_count");
                    cursor.Varint();
                    break;
                default: cursor.Skip(field, wireType); break;
            }
        }
    }

    private static SpanInput ReadSpan(ref Cursor cursor, ReadState state, AttributeBag resource)
    {
        var memory = state.Buffer;
        var attributesStart = state.Attributes.Count;
        var events = state.Events;
        events.Clear();
        (int Start, int Length) traceId = default, spanId = default, parentSpanId = default, name = default, traceState = default;
        ulong start = 0, end = 0;
        uint flags = 0;
        var statusCode = 0;
        while (cursor.Next(out var field, out var wireType))
        {
            switch (field)
            {
                case 1:
                    cursor.Expect(wireType, WireLength, field, "trace_id");
                    traceId = cursor.LengthDelimited();
                    break;
                case 2:
                    cursor.Expect(wireType, WireLength, field, "span_id");
                    spanId = cursor.LengthDelimited();
                    break;
                case 3:
                    traceState = cursor.Utf8(wireType, field, "trace_state");
                    break;
                case 4:
                    cursor.Expect(wireType, WireLength, field, "parent_span_id");
                    parentSpanId = cursor.LengthDelimited();
                    break;
                case 5:
                    name = cursor.Utf8(wireType, field, "name");
                    break;
                case 6:
                    cursor.Expect(wireType, WireVarint, field, "kind");
                    cursor.Varint();
                    break;
                case 7:
                    cursor.Expect(wireType, WireFixed64, field, "start_time_unix_nano");
                    start = cursor.Fixed64();
                    break;
                case 8:
                    cursor.Expect(wireType, WireFixed64, field, "end_time_unix_nano");
                    end = cursor.Fixed64();
                    break;
                case 9:
                    cursor.Expect(wireType, WireLength, field, "attributes");
                    var keyValue = cursor.Message("KeyValue");
                    state.Attributes.Add(ReadKeyValue(ref keyValue));
                    break;
                case 10:
                    cursor.Expect(wireType, WireVarint, field, "dropped_attributes_count");
                    cursor.Varint();
                    break;
                case 11:
                    cursor.Expect(wireType, WireLength, field, "events");
                    var evt = cursor.Message("Event");
                    events.Add(ReadEvent(ref evt, memory));
                    break;
                case 12:
                    cursor.Expect(wireType, WireVarint, field, "dropped_events_count");
                    cursor.Varint();
                    break;
                case 13:
                    cursor.Expect(wireType, WireLength, field, "links");
                    var link = cursor.Message("Link");
                    CheckLink(ref link);
                    break;
                case 14:
                    cursor.Expect(wireType, WireVarint, field, "dropped_links_count");
                    cursor.Varint();
                    break;
                case 15:
                    cursor.Expect(wireType, WireLength, field, "status");
                    var status = cursor.Message("Status");
                    ReadStatus(ref status, ref statusCode);
                    break;
                case 16:
                    cursor.Expect(wireType, WireFixed32, field, "flags");
                    flags = cursor.Fixed32();
                    break;
                default:
                    cursor.Skip(field, wireType);
                    break;
            }
        }

        return new SpanInput
        {
            Resource = resource,
            Attributes = AttributeBag.From(state.Attributes, attributesStart, state.Attributes.Count - attributesStart),
            TraceId = memory.Slice(traceId.Start, traceId.Length),
            SpanId = memory.Slice(spanId.Start, spanId.Length),
            ParentSpanId = memory.Slice(parentSpanId.Start, parentSpanId.Length),
            StartTimeUnixNano = start,
            EndTimeUnixNano = end,
            Flags = flags,
            StatusIsError = statusCode == (int)OpenTelemetry.Proto.Trace.V1.Status.Types.StatusCode.Error,
            Events = events.Count == 0 ? [] : [.. events],
            NameUtf8 = memory.Slice(name.Start, name.Length),
            TraceStateUtf8 = memory.Slice(traceState.Start, traceState.Length),
        };
    }

    private static SpanEventInput ReadEvent(ref Cursor cursor, ReadOnlyMemory<byte> memory)
    {
        var message = memory[cursor.Position..cursor.End];
        (int Start, int Length) name = default;
        ulong time = 0;
        while (cursor.Next(out var field, out var wireType))
        {
            switch (field)
            {
                case 1:
                    cursor.Expect(wireType, WireFixed64, field, "time_unix_nano");
                    time = cursor.Fixed64();
                    break;
                case 2:
                    name = cursor.Utf8(wireType, field, "name");
                    break;
                case 3:
                    cursor.Expect(wireType, WireLength, field, "attributes");
                    var keyValue = cursor.Message("KeyValue");
                    ReadKeyValue(ref keyValue);
                    break;
                case 4:
                    cursor.Expect(wireType, WireVarint, field, "dropped_attributes_count");
                    cursor.Varint();
                    break;
                default:
                    cursor.Skip(field, wireType);
                    break;
            }
        }

        return new SpanEventInput(memory.Slice(name.Start, name.Length), time, message);
    }

    private static void CheckLink(ref Cursor cursor)
    {
        while (cursor.Next(out var field, out var wireType))
        {
            switch (field)
            {
                case 1:
                    cursor.Expect(wireType, WireLength, field, "trace_id");
                    cursor.LengthDelimited();
                    break;
                case 2:
                    cursor.Expect(wireType, WireLength, field, "span_id");
                    cursor.LengthDelimited();
                    break;
                case 3:
                    cursor.Utf8(wireType, field, "trace_state");
                    break;
                case 4:
                    cursor.Expect(wireType, WireLength, field, "attributes");
                    var keyValue = cursor.Message("KeyValue");
                    ReadKeyValue(ref keyValue);
                    break;
                case 5:
                    cursor.Expect(wireType, WireVarint, field, "dropped_attributes_count");
                    cursor.Varint();
                    break;
                case 6:
                    cursor.Expect(wireType, WireFixed32, field, "flags");
                    cursor.Fixed32();
                    break;
                default:
                    cursor.Skip(field, wireType);
                    break;
            }
        }
    }

    private static void ReadStatus(ref Cursor cursor, ref int code)
    {
        while (cursor.Next(out var field, out var wireType))
        {
            switch (field)
            {
                case 2:
                    cursor.Utf8(wireType, field, "message");
                    break;
                case 3:
                    // An enum is read as an int32, as protobuf does (the low 32 bits of the varint).
                    cursor.Expect(wireType, WireVarint, field, "code");
                    code = (int)cursor.Varint();
                    break;
                default:
                    cursor.Skip(field, wireType);
                    break;
            }
        }
    }

    /// <summary>One KeyValue: its key, and the value the last of its AnyValue oneof fields gave (as merging does).</summary>
    private static WireAttribute ReadKeyValue(ref Cursor cursor)
    {
        var attribute = new WireAttribute { EntryStart = cursor.Position, EntryLength = cursor.End - cursor.Position };
        while (cursor.Next(out var field, out var wireType))
        {
            switch (field)
            {
                case 1:
                    (attribute.KeyStart, attribute.KeyLength) = cursor.Utf8(wireType, field, "key");
                    break;
                case 2:
                    cursor.Expect(wireType, WireLength, field, "value");
                    attribute.HasValue = true;
                    var value = cursor.Message("AnyValue");
                    ReadAnyValue(ref value, ref attribute);
                    break;
                default:
                    cursor.Skip(field, wireType);
                    break;
            }
        }

        return attribute;
    }

    private static void ReadAnyValue(ref Cursor cursor, ref WireAttribute value)
    {
        while (cursor.Next(out var field, out var wireType))
        {
            switch (field)
            {
                case 1:
                    var text = cursor.Utf8(wireType, field, "string_value");
                    value.SetRange(text.Start, text.Length);
                    value.Kind = AnyValue.ValueOneofCase.StringValue;
                    break;
                case 2:
                    cursor.Expect(wireType, WireVarint, field, "bool_value");
                    value.Bits = cursor.Varint() != 0 ? 1 : 0;
                    value.Kind = AnyValue.ValueOneofCase.BoolValue;
                    break;
                case 3:
                    cursor.Expect(wireType, WireVarint, field, "int_value");
                    value.Bits = (long)cursor.Varint();
                    value.Kind = AnyValue.ValueOneofCase.IntValue;
                    break;
                case 4:
                    cursor.Expect(wireType, WireFixed64, field, "double_value");
                    value.Bits = (long)cursor.Fixed64();
                    value.Kind = AnyValue.ValueOneofCase.DoubleValue;
                    break;
                case 5:
                    cursor.Expect(wireType, WireLength, field, "array_value");
                    var array = cursor.Message("ArrayValue");
                    CheckArray(ref array);
                    value.Kind = AnyValue.ValueOneofCase.ArrayValue;
                    break;
                case 6:
                    cursor.Expect(wireType, WireLength, field, "kvlist_value");
                    var list = cursor.Message("KeyValueList");
                    CheckKeyValueList(ref list);
                    value.Kind = AnyValue.ValueOneofCase.KvlistValue;
                    break;
                case 7:
                    cursor.Expect(wireType, WireLength, field, "bytes_value");
                    var bytes = cursor.LengthDelimited();
                    value.SetRange(bytes.Start, bytes.Length);
                    value.Kind = AnyValue.ValueOneofCase.BytesValue;
                    break;
                default:
                    cursor.Skip(field, wireType);
                    break;
            }
        }
    }

    private static void CheckArray(ref Cursor cursor)
    {
        while (cursor.Next(out var field, out var wireType))
        {
            if (field == 1)
            {
                cursor.Expect(wireType, WireLength, field, "values");
                var value = cursor.Message("AnyValue");
                var ignored = default(WireAttribute);
                ReadAnyValue(ref value, ref ignored);
            }
            else
            {
                cursor.Skip(field, wireType);
            }
        }
    }

    private static void CheckKeyValueList(ref Cursor cursor)
    {
        while (cursor.Next(out var field, out var wireType))
        {
            if (field == 1)
            {
                cursor.Expect(wireType, WireLength, field, "values");
                var keyValue = cursor.Message("KeyValue");
                ReadKeyValue(ref keyValue);
            }
            else
            {
                cursor.Skip(field, wireType);
            }
        }
    }

    /// <summary>What one request's read shares: its bytes, its attribute entries, its spans, a scratch list for events.</summary>
    private sealed class ReadState(ReadOnlyMemory<byte> buffer)
    {
        public ReadOnlyMemory<byte> Buffer { get; } = buffer;

        // About one attribute per 40 bytes of a typical request: sized once rather than grown by doubling.
        public WireAttributes Attributes { get; } = new(buffer, Math.Max(16, buffer.Length / 40));

        public List<SpanInput> Spans { get; } = new(Math.Max(4, buffer.Length / 400));

        public List<SpanEventInput> Events { get; } = [];
    }

    /// <summary>A forward cursor over one message's bytes within the request.</summary>
    private ref struct Cursor(ReadOnlySpan<byte> buffer, int start, int end, int depth, string message)
    {
        private readonly ReadOnlySpan<byte> _buffer = buffer;

        public int Position { get; private set; } = start;

        public int End { get; } = end;

        /// <summary>The next field's number and wire type, or false at the end of the message.</summary>
        public bool Next(out int field, out int wireType)
        {
            if (Position >= End)
            {
                field = wireType = 0;
                return false;
            }

            ReadTag(out field, out wireType);
            if (wireType == WireEndGroup)
            {
                throw Fail($"end-group tag for field {field} outside any group");
            }

            return true;
        }

        public void Expect(int wireType, int expected, int field, string name)
        {
            if (wireType != expected)
            {
                throw Fail($"{message}.{name} (field {field}) has wire type {wireType} ({WireTypeName(wireType)}), not {expected} ({WireTypeName(expected)})");
            }
        }

        public ulong Varint()
        {
            ulong result = 0;
            for (var shift = 0; shift < 70; shift += 7)
            {
                if (Position >= End)
                {
                    throw Fail(shift == 0 ? "a value is missing at the end of the message" : "truncated varint");
                }

                var b = _buffer[Position++];
                result |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return result;
                }
            }

            throw Fail("varint longer than 10 bytes");
        }

        public uint Fixed32()
        {
            Need(4, "fixed32");
            var value = BinaryPrimitives.ReadUInt32LittleEndian(_buffer[Position..]);
            Position += 4;
            return value;
        }

        public ulong Fixed64()
        {
            Need(8, "fixed64");
            var value = BinaryPrimitives.ReadUInt64LittleEndian(_buffer[Position..]);
            Position += 8;
            return value;
        }

        /// <summary>A length-delimited field's content: its start and length.</summary>
        public (int Start, int Length) LengthDelimited()
        {
            var at = Position;
            var length = (int)Varint();
            if (length < 0)
            {
                throw Fail($"negative length at byte {at}");
            }

            if (length > End - Position)
            {
                throw Fail($"length {length} at byte {at} runs past the end of its {message} (byte {End})");
            }

            var start = Position;
            Position += length;
            return (start, length);
        }

        /// <summary>A string field: length-delimited and valid UTF-8.</summary>
        public (int Start, int Length) Utf8(int wireType, int field, string name)
        {
            Expect(wireType, WireLength, field, name);
            var (start, length) = LengthDelimited();
            if (!System.Text.Unicode.Utf8.IsValid(_buffer.Slice(start, length)))
            {
                throw Fail($"{message}.{name} at byte {start} is not valid UTF-8");
            }

            return (start, length);
        }

        /// <summary>An embedded message's cursor; this one moves past it.</summary>
        public Cursor Message(string name)
        {
            if (depth + 1 > RecursionLimit)
            {
                throw Fail($"messages nested more than {RecursionLimit} levels deep");
            }

            var (start, length) = LengthDelimited();
            return new Cursor(_buffer, start, start + length, depth + 1, name);
        }

        /// <summary>Skips a field this reader does not know, by its wire type.</summary>
        public void Skip(int field, int wireType) => Skip(field, wireType, depth);

        private void Skip(int field, int wireType, int level)
        {
            switch (wireType)
            {
                case WireVarint:
                    Varint();
                    break;
                case WireFixed64:
                    Need(8, "fixed64");
                    Position += 8;
                    break;
                case WireLength:
                    LengthDelimited();
                    break;
                case WireStartGroup:
                    SkipGroup(field, level + 1);
                    break;
                case WireFixed32:
                    Need(4, "fixed32");
                    Position += 4;
                    break;
                default:
                    throw Fail($"invalid wire type {wireType} for field {field}");
            }
        }

        private void SkipGroup(int field, int level)
        {
            if (level > RecursionLimit)
            {
                throw Fail($"messages nested more than {RecursionLimit} levels deep");
            }

            while (true)
            {
                if (Position >= End)
                {
                    throw Fail($"group of field {field} is not closed before the end of its {message}");
                }

                ReadTag(out var inner, out var wireType);
                if (wireType == WireEndGroup)
                {
                    if (inner != field)
                    {
                        throw Fail($"end-group tag for field {inner} closes the group of field {field}");
                    }

                    return;
                }

                Skip(inner, wireType, level);
            }
        }

        private void ReadTag(out int field, out int wireType)
        {
            var at = Position;
            // A tag is a 32-bit varint (protobuf reads the low 32 bits of a longer one).
            var tag = (uint)Varint();
            field = (int)(tag >> 3);
            wireType = (int)(tag & 7);
            if (field == 0)
            {
                throw Fail($"invalid tag {tag} (field number 0) at byte {at}");
            }

            if (wireType > WireFixed32)
            {
                throw Fail($"invalid wire type {wireType} for field {field} at byte {at}");
            }
        }

        private readonly void Need(int bytes, string what)
        {
            if (End - Position < bytes)
            {
                throw Fail($"truncated {what} at byte {Position}");
            }
        }

        /// <summary>What is wrong, where (a byte offset into the request) and, unless it names it, in which message.</summary>
        private readonly OtlpWireFormatException Fail(string what)
        {
            var located = what.Contains(" at byte ", StringComparison.Ordinal) ? what : $"{what} at byte {Position}";
            return new(what.StartsWith(message + ".", StringComparison.Ordinal) ? located : $"{located} (in a {message})");
        }

        private static string WireTypeName(int wireType) => wireType switch
        {
            WireVarint => "varint",
            WireFixed64 => "64-bit",
            WireLength => "length-delimited",
            WireStartGroup => "start group",
            WireEndGroup => "end group",
            _ => "32-bit",
        };
    }
}

/// <summary>One KeyValue found in a request's bytes: where its key and whole entry are, and its value (32 bytes).</summary>
internal struct WireAttribute
{
    public int EntryStart;
    public int EntryLength;
    public int KeyStart;
    public int KeyLength;

    /// <summary>A scalar's bits (int, double, bool), or a string's or bytes' start and length (start in the high half).</summary>
    public long Bits;

    public AnyValue.ValueOneofCase Kind;

    /// <summary>Whether the KeyValue carried a value message (a key without one is skipped by lookups, as a null value is).</summary>
    public bool HasValue;

    public void SetRange(int start, int length) => Bits = (long)start << 32 | (uint)length;

    public readonly (int Start, int Length) Range => ((int)(Bits >> 32), (int)(uint)Bits);
}

/// <summary>
/// The KeyValue entries of one request, in the order read, over the request's bytes. The entries live in an array
/// from the shared pool (a 1 000-span request holds about ten thousand: 320 KB, which would otherwise be allocated on
/// the large-object heap for every request), given back by <see cref="Dispose"/> once the request is mapped.
/// </summary>
internal sealed class WireAttributes(ReadOnlyMemory<byte> buffer, int capacity = 16) : IDisposable
{
    private WireAttribute[] _items = capacity > 64 ? System.Buffers.ArrayPool<WireAttribute>.Shared.Rent(capacity) : new WireAttribute[capacity];

    public int Count { get; private set; }

    public ref readonly WireAttribute this[int index] => ref _items[index];

    public void Add(in WireAttribute attribute)
    {
        if (Count == _items.Length)
        {
            var larger = System.Buffers.ArrayPool<WireAttribute>.Shared.Rent(_items.Length * 2);
            _items.AsSpan(0, Count).CopyTo(larger);
            Return(_items);
            _items = larger;
        }

        _items[Count++] = attribute;
    }

    public ReadOnlySpan<byte> KeySpan(int index) => buffer.Span.Slice(_items[index].KeyStart, _items[index].KeyLength);

    /// <summary>The request's bytes, which every entry's offsets index.</summary>
    public ReadOnlySpan<byte> Bytes => buffer.Span;

    /// <summary>The <see cref="Utf8Key.FilterBit"/> of every entry that has a value, or-ed together.</summary>
    public ulong KeyFilter(int start, int count)
    {
        var bytes = buffer.Span;
        var filter = 0UL;
        for (var i = start; i < start + count; i++)
        {
            ref readonly var entry = ref _items[i];
            if (entry.HasValue)
            {
                filter |= Utf8Key.FilterBit(entry.KeyLength, entry.KeyLength == 0 ? (byte)0 : bytes[entry.KeyStart + entry.KeyLength - 1]);
            }
        }

        return filter;
    }

    public string Key(int index) => Encoding.UTF8.GetString(KeySpan(index));

    public string StringValue(int index)
    {
        var (start, length) = _items[index].Range;
        return Encoding.UTF8.GetString(buffer.Span.Slice(start, length));
    }

    /// <summary>The whole KeyValue message.</summary>
    public ReadOnlyMemory<byte> Entry(int index) => buffer.Slice(_items[index].EntryStart, _items[index].EntryLength);

    /// <summary>Gives the entries back to the pool: no bag over them may be read afterwards.</summary>
    public void Dispose()
    {
        Return(_items);
        _items = [];
        Count = 0;
    }

    private static void Return(WireAttribute[] items)
    {
        if (items.Length > 64)
        {
            System.Buffers.ArrayPool<WireAttribute>.Shared.Return(items);
        }
    }
}

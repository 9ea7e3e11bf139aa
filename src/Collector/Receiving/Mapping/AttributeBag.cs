using System.Globalization;
using Google.Protobuf.Collections;
using OpenTelemetry.Proto.Common.V1;

namespace PerfOtel.Collector.Receiving.Mapping;

/// <summary>
/// OTLP attributes by key, read leniently: instrumentations disagree on types (token counts arrive as int, double or
/// string), so a reader asks for the type it needs and gets null when the value cannot be one. Strings come back
/// cleaned by <see cref="StoredText"/>: everything the mappers read from attributes is stored.
/// </summary>
/// <remarks>
/// Two backings, one set of rules: a list decoded by Google.Protobuf (OTLP/JSON, logs, metrics) or the span's entries
/// found by <see cref="OtlpTraceWireReader"/> in the request's bytes, where a key is compared as UTF-8 bytes and a
/// value is decoded only when a reader asks for its key (#21).
/// </remarks>
internal sealed class AttributeBag
{
    /// <summary>
    /// Up to this many attributes a lookup walks the decoded list itself: a span carries a handful, and comparing a key
    /// against each (length first) costs about what hashing it does, without a dictionary of its own per span (about
    /// 300-500 bytes allocated for every span of every request). A longer list is indexed once.
    /// </summary>
    internal const int MaxScanned = 16;

    public static readonly AttributeBag Empty = new([], null);

    private readonly RepeatedField<KeyValue>? _attributes;
    private readonly Dictionary<string, AnyValue>? _index;
    private readonly WireAttributes? _wire;
    private readonly int _start;
    private readonly int _count;
    private readonly Dictionary<string, int>? _wireIndex;

    // A scanned span's keys, one bit each (Utf8Key.FilterBit: UTF-8 length and last byte), taken once when the bag is
    // made: most lookups ask for a key the span does not carry (the mapper tries every convention's name for a
    // figure), and a clear bit answers those without walking the entries (#21, cpu21).
    private readonly ulong _keyFilter;

    private AttributeBag(RepeatedField<KeyValue> attributes, Dictionary<string, AnyValue>? index)
    {
        _attributes = attributes;
        _index = index;
    }

    private AttributeBag(WireAttributes wire, int start, int count, Dictionary<string, int>? index, ulong keyFilter = 0)
    {
        _wire = wire;
        _start = start;
        _count = count;
        _wireIndex = index;
        _keyFilter = keyFilter;
    }

    public static AttributeBag From(RepeatedField<KeyValue>? attributes)
    {
        if (attributes is null || attributes.Count == 0)
        {
            return Empty;
        }

        if (attributes.Count <= MaxScanned)
        {
            return new AttributeBag(attributes, null);
        }

        var values = new Dictionary<string, AnyValue>(attributes.Count, StringComparer.Ordinal);
        foreach (var attribute in attributes)
        {
            // OTLP forbids duplicate keys; when a sender repeats one anyway, the first wins, as in the SDKs' readers.
            if (attribute.Value is not null)
            {
                values.TryAdd(attribute.Key, attribute.Value);
            }
        }

        return new AttributeBag(attributes, values);
    }

    /// <summary>The entries <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> of a request read from its bytes.</summary>
    internal static AttributeBag From(WireAttributes wire, int start, int count)
    {
        if (count == 0)
        {
            return Empty;
        }

        if (count <= MaxScanned)
        {
            return new AttributeBag(wire, start, count, null, wire.KeyFilter(start, count));
        }

        var index = new Dictionary<string, int>(count, StringComparer.Ordinal);
        for (var i = start; i < start + count; i++)
        {
            if (wire[i].HasValue)
            {
                index.TryAdd(wire.Key(i), i);
            }
        }

        return new AttributeBag(wire, start, count, index);
    }

    public bool Contains(string key) => TryGetValue(key, out _);

    /// <summary>
    /// The attributes as Google.Protobuf's list, for what needs every value (the stored attributes JSON of the privacy
    /// policy, read only when an allowlist or content capture keeps some).
    /// </summary>
    public RepeatedField<KeyValue> ToKeyValues()
    {
        if (_wire is null)
        {
            return _attributes!;
        }

        var list = new RepeatedField<KeyValue>();
        for (var i = _start; i < _start + _count; i++)
        {
            list.Add(KeyValue.Parser.ParseFrom(_wire.Entry(i).Span));
        }

        return list;
    }

    /// <summary>The first value under <paramref name="key"/> (a key without a value is skipped), as the index keeps it.</summary>
    private bool TryGetValue(string key, out Value value)
    {
        if (_wire is not null)
        {
            return TryGetWireValue(key, out value);
        }

        if (_index is not null)
        {
            var found = _index.TryGetValue(key, out var indexed);
            value = found ? Value.Of(indexed!) : default;
            return found;
        }

        for (var i = 0; i < _attributes!.Count; i++)
        {
            var attribute = _attributes[i];
            if (attribute.Value is not null && string.Equals(attribute.Key, key, StringComparison.Ordinal))
            {
                value = Value.Of(attribute.Value);
                return true;
            }
        }

        value = default;
        return false;
    }

    private bool TryGetWireValue(string key, out Value value)
    {
        var wire = _wire!;
        if (_wireIndex is not null)
        {
            var found = _wireIndex.TryGetValue(key, out var at);
            value = found ? Value.Of(wire, at) : default;
            return found;
        }

        if (key.Length > 0 && System.Text.Ascii.IsValid(key))
        {
            // Every key the mappers ask for is ASCII: its UTF-8 bytes are its chars, so the filter answers a key the span
            // does not carry, and an entry is compared only when its key has the same length (the request's bytes
            // taken once, not once per entry).
            if ((_keyFilter & Utf8Key.FilterBit(key.Length, (byte)key[^1])) == 0)
            {
                value = default;
                return false;
            }

            var bytes = wire.Bytes;
            for (var i = _start; i < _start + _count; i++)
            {
                ref readonly var entry = ref wire[i];
                if (entry.HasValue && entry.KeyLength == key.Length
                    && System.Text.Ascii.Equals(bytes.Slice(entry.KeyStart, entry.KeyLength), key))
                {
                    value = Value.Of(wire, i);
                    return true;
                }
            }

            value = default;
            return false;
        }

        for (var i = _start; i < _start + _count; i++)
        {
            if (wire[i].HasValue && Utf8Key.Matches(wire.KeySpan(i), key))
            {
                value = Value.Of(wire, i);
                return true;
            }
        }

        value = default;
        return false;
    }

    public string? String(string key)
    {
        if (!TryGetValue(key, out var value))
        {
            return null;
        }

        var text = value.Kind switch
        {
            AnyValue.ValueOneofCase.StringValue => value.Text,
            AnyValue.ValueOneofCase.IntValue => value.Int.ToString(CultureInfo.InvariantCulture),
            AnyValue.ValueOneofCase.DoubleValue => value.Double.ToString("R", CultureInfo.InvariantCulture),
            AnyValue.ValueOneofCase.BoolValue => value.Bool ? "true" : "false",
            _ => null,
        };
        return string.IsNullOrEmpty(text) ? null : StoredText.Clean(text);
    }

    public long? Long(string key)
    {
        if (!TryGetValue(key, out var value))
        {
            return null;
        }

        return value.Kind switch
        {
            AnyValue.ValueOneofCase.IntValue => value.Int,
            AnyValue.ValueOneofCase.DoubleValue when double.IsFinite(value.Double)
                && Math.Abs(value.Double) < 9.2e18 => (long)Math.Round(value.Double),
            AnyValue.ValueOneofCase.StringValue when long.TryParse(value.Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => null,
        };
    }

    public double? Double(string key)
    {
        if (!TryGetValue(key, out var value))
        {
            return null;
        }

        double? number = value.Kind switch
        {
            AnyValue.ValueOneofCase.DoubleValue => value.Double,
            AnyValue.ValueOneofCase.IntValue => value.Int,
            AnyValue.ValueOneofCase.StringValue when double.TryParse(value.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => null,
        };
        return number is { } n && double.IsFinite(n) ? n : null;
    }

    public string? FirstString(params ReadOnlySpan<string> keys)
    {
        foreach (var key in keys)
        {
            if (String(key) is { } value)
            {
                return value;
            }
        }

        return null;
    }

    public long? FirstLong(params ReadOnlySpan<string> keys)
    {
        foreach (var key in keys)
        {
            if (Long(key) is { } value)
            {
                return value;
            }
        }

        return null;
    }

    /// <summary>A scalar value as the readers above see it, whichever backing it came from; a string is decoded here, once asked for.</summary>
    private readonly struct Value(AnyValue.ValueOneofCase kind, long bits, string? text)
    {
        public AnyValue.ValueOneofCase Kind { get; } = kind;

        public long Int => bits;

        public double Double => BitConverter.Int64BitsToDouble(bits);

        public bool Bool => bits != 0;

        public string? Text { get; } = text;

        public static Value Of(AnyValue value) => value.ValueCase switch
        {
            AnyValue.ValueOneofCase.StringValue => new(value.ValueCase, 0, value.StringValue),
            AnyValue.ValueOneofCase.IntValue => new(value.ValueCase, value.IntValue, null),
            AnyValue.ValueOneofCase.DoubleValue => new(value.ValueCase, BitConverter.DoubleToInt64Bits(value.DoubleValue), null),
            AnyValue.ValueOneofCase.BoolValue => new(value.ValueCase, value.BoolValue ? 1 : 0, null),
            _ => new(value.ValueCase, 0, null),
        };

        public static Value Of(WireAttributes wire, int i)
        {
            var entry = wire[i];
            return new(entry.Kind, entry.Bits, entry.Kind == AnyValue.ValueOneofCase.StringValue ? wire.StringValue(i) : null);
        }
    }
}

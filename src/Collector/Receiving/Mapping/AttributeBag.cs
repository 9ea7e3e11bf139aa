using System.Globalization;
using Google.Protobuf.Collections;
using OpenTelemetry.Proto.Common.V1;

namespace PerfOtel.Collector.Receiving.Mapping;

/// <summary>
/// OTLP attributes by key, read leniently: instrumentations disagree on types (token counts arrive as int, double or
/// string), so a reader asks for the type it needs and gets null when the value cannot be one. Strings come back
/// cleaned by <see cref="StoredText"/>: everything the mappers read from attributes is stored.
/// </summary>
internal sealed class AttributeBag
{
    /// <summary>
    /// Up to this many attributes a lookup walks the decoded list itself: a span carries a handful, and comparing a key
    /// against each (length first) costs about what hashing it does, without a dictionary of its own per span (about
    /// 300-500 bytes allocated for every span of every request). A longer list is indexed once.
    /// </summary>
    internal const int MaxScanned = 16;

    public static readonly AttributeBag Empty = new([], null);

    private readonly RepeatedField<KeyValue> _attributes;
    private readonly Dictionary<string, AnyValue>? _index;

    private AttributeBag(RepeatedField<KeyValue> attributes, Dictionary<string, AnyValue>? index)
    {
        _attributes = attributes;
        _index = index;
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

    public bool Contains(string key) => TryGetValue(key, out _);

    /// <summary>The first value under <paramref name="key"/> (a key without a value is skipped), as the index keeps it.</summary>
    private bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out AnyValue? value)
    {
        if (_index is not null)
        {
            return _index.TryGetValue(key, out value);
        }

        for (var i = 0; i < _attributes.Count; i++)
        {
            var attribute = _attributes[i];
            if (attribute.Value is not null && string.Equals(attribute.Key, key, StringComparison.Ordinal))
            {
                value = attribute.Value;
                return true;
            }
        }

        value = null;
        return false;
    }

    public string? String(string key)
    {
        if (!TryGetValue(key, out var value))
        {
            return null;
        }

        var text = value.ValueCase switch
        {
            AnyValue.ValueOneofCase.StringValue => value.StringValue,
            AnyValue.ValueOneofCase.IntValue => value.IntValue.ToString(CultureInfo.InvariantCulture),
            AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue.ToString("R", CultureInfo.InvariantCulture),
            AnyValue.ValueOneofCase.BoolValue => value.BoolValue ? "true" : "false",
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

        return value.ValueCase switch
        {
            AnyValue.ValueOneofCase.IntValue => value.IntValue,
            AnyValue.ValueOneofCase.DoubleValue when double.IsFinite(value.DoubleValue)
                && Math.Abs(value.DoubleValue) < 9.2e18 => (long)Math.Round(value.DoubleValue),
            AnyValue.ValueOneofCase.StringValue when long.TryParse(value.StringValue, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
            _ => null,
        };
    }

    public double? Double(string key)
    {
        if (!TryGetValue(key, out var value))
        {
            return null;
        }

        double? number = value.ValueCase switch
        {
            AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue,
            AnyValue.ValueOneofCase.IntValue => value.IntValue,
            AnyValue.ValueOneofCase.StringValue when double.TryParse(value.StringValue, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
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
}

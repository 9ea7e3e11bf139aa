using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Google.Protobuf.Collections;
using OpenTelemetry.Proto.Common.V1;

namespace PerfOtel.Collector.Receiving.Mapping;

/// <summary>
/// The span attributes an operator chose to keep on invocation records (<c>Privacy:AttributeAllowlist</c>, formerly
/// <c>Otlp:AttributeAllowlist</c>). Nothing is kept by default: prompts, user ids and secrets travel in attributes, and
/// the store keeps only what was asked for. Entries are exact keys or prefixes ending in <c>*</c>. What the allowlist
/// admits still passes the privacy policy (content and user identifiers), which decides per attribute.
/// </summary>
internal sealed class AttributeAllowlist
{
    public const int MaxStringLength = 1024;

    /// <summary>Longest attribute or map key kept; longer ones are cut.</summary>
    public const int MaxKeyLength = 128;

    /// <summary>
    /// Values (scalars, list items, map entries, at any depth) kept per record. Together with the string and key
    /// limits it bounds one record's attributes to tens of kilobytes, whatever the span carried.
    /// </summary>
    public const int MaxValues = 256;

    /// <summary>Characters of string values kept per record, across all attributes.</summary>
    public const int MaxStringCharacters = 16 * 1024;

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly HashSet<string> _exact = new(StringComparer.Ordinal);
    private readonly string[] _prefixes;

    public AttributeAllowlist(IEnumerable<string> entries)
    {
        var prefixes = new List<string>();
        foreach (var entry in entries.Where(e => !string.IsNullOrWhiteSpace(e)).Select(e => e.Trim()))
        {
            if (entry.EndsWith('*'))
            {
                prefixes.Add(entry[..^1]);
            }
            else
            {
                _exact.Add(entry);
            }
        }

        _prefixes = [.. prefixes];
    }

    public bool IsEmpty => _exact.Count == 0 && _prefixes.Length == 0;

    public bool Allows(string key) => _exact.Contains(key) || _prefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal));

    /// <summary>
    /// The attributes <paramref name="keep"/> returns a value for (the given one, or a replacement), as a JSON object,
    /// or null when none is kept. The first of duplicate keys wins.
    /// </summary>
    public static string? ToJson(RepeatedField<KeyValue> attributes, Func<string, AnyValue, AnyValue?> keep)
    {
        ArrayBufferWriter<byte>? buffer = null;
        Utf8JsonWriter? writer = null;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var budget = new Budget { Values = MaxValues, Characters = MaxStringCharacters };
        try
        {
            foreach (var attribute in attributes)
            {
                if (budget.Values <= 0)
                {
                    break;
                }

                var key = Key(attribute.Key);
                if (attribute.Value is null || !seen.Add(key) || keep(attribute.Key, attribute.Value) is not { } kept)
                {
                    continue;
                }

                if (writer is null)
                {
                    buffer = new ArrayBufferWriter<byte>(256);
                    writer = new Utf8JsonWriter(buffer, WriterOptions);
                    writer.WriteStartObject();
                }

                writer.WritePropertyName(key);
                WriteValue(writer, kept, depth: 0, budget);
            }

            if (writer is null)
            {
                return null;
            }

            writer.WriteEndObject();
            writer.Flush();
            return Encoding.UTF8.GetString(buffer!.WrittenSpan);
        }
        finally
        {
            writer?.Dispose();
        }
    }

    private sealed class Budget
    {
        public int Values;
        public int Characters;
    }

    private static string Key(string key) => StoredText.Clean(key.Length > MaxKeyLength ? key[..MaxKeyLength] : key);

    private static string Text(string value, Budget budget)
    {
        var length = Math.Min(Math.Min(value.Length, MaxStringLength), Math.Max(budget.Characters, 0));
        if (length > 0 && length < value.Length && char.IsHighSurrogate(value[length - 1]))
        {
            length--;
        }

        budget.Characters -= length;
        return length == value.Length ? value : value[..length];
    }

    private static void WriteValue(Utf8JsonWriter writer, AnyValue value, int depth, Budget budget)
    {
        budget.Values--;

        // Nesting beyond a few levels is not something an operator filters on; it is cut rather than stored whole.
        if (depth > 4)
        {
            writer.WriteNullValue();
            return;
        }

        switch (value.ValueCase)
        {
            case AnyValue.ValueOneofCase.StringValue:
                WriteString(writer, Text(value.StringValue, budget));
                break;
            case AnyValue.ValueOneofCase.BoolValue:
                writer.WriteBooleanValue(value.BoolValue);
                break;
            case AnyValue.ValueOneofCase.IntValue:
                writer.WriteNumberValue(value.IntValue);
                break;
            case AnyValue.ValueOneofCase.DoubleValue when double.IsFinite(value.DoubleValue):
                writer.WriteNumberValue(value.DoubleValue);
                break;
            case AnyValue.ValueOneofCase.BytesValue:
                var bytes = Math.Min(Math.Min(value.BytesValue.Length, MaxStringLength), Math.Max(budget.Characters, 0));
                writer.WriteBase64StringValue(value.BytesValue.Span[..bytes]);
                budget.Characters -= bytes;
                break;
            case AnyValue.ValueOneofCase.ArrayValue:
                writer.WriteStartArray();
                foreach (var item in value.ArrayValue.Values)
                {
                    if (budget.Values <= 0)
                    {
                        break;
                    }

                    WriteValue(writer, item, depth + 1, budget);
                }

                writer.WriteEndArray();
                break;
            case AnyValue.ValueOneofCase.KvlistValue:
                writer.WriteStartObject();
                var keys = new HashSet<string>(StringComparer.Ordinal);
                foreach (var pair in value.KvlistValue.Values)
                {
                    if (budget.Values <= 0)
                    {
                        break;
                    }

                    // A JSON object with a repeated name is ambiguous to every reader; the first wins, as for attributes.
                    var key = Key(pair.Key);
                    if (!keys.Add(key))
                    {
                        continue;
                    }

                    writer.WritePropertyName(key);
                    if (pair.Value is null)
                    {
                        budget.Values--;
                        writer.WriteNullValue();
                    }
                    else
                    {
                        WriteValue(writer, pair.Value, depth + 1, budget);
                    }
                }

                writer.WriteEndObject();
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }

    /// <summary>A lone surrogate (legal in a protobuf-decoded string, not in JSON) becomes U+FFFD instead of failing the write.</summary>
    private static void WriteString(Utf8JsonWriter writer, string text)
    {
        if (IsWellFormed(text))
        {
            writer.WriteStringValue(text);
            return;
        }

        writer.WriteStringValue(Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text)));
    }

    private static bool IsWellFormed(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }
}

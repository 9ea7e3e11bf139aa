using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Google.Protobuf.Collections;
using OpenTelemetry.Proto.Common.V1;

namespace PerfOtel.Collector.Otlp.Mapping;

/// <summary>
/// The span attributes an operator chose to keep on invocation records (<c>Privacy:AttributeAllowlist</c>, formerly
/// <c>Otlp:AttributeAllowlist</c>). Nothing is kept by default: prompts, user ids and secrets travel in attributes, and
/// the store keeps only what was asked for. Entries are exact keys or prefixes ending in <c>*</c>. What the allowlist
/// admits still passes the privacy policy (content and user identifiers), which decides per attribute.
/// </summary>
internal sealed class AttributeAllowlist
{
    public const int MaxStringLength = 1024;

    public static readonly AttributeAllowlist None = new([]);

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
        try
        {
            foreach (var attribute in attributes)
            {
                if (attribute.Value is null || !seen.Add(attribute.Key) || keep(attribute.Key, attribute.Value) is not { } kept)
                {
                    continue;
                }

                if (writer is null)
                {
                    buffer = new ArrayBufferWriter<byte>(256);
                    writer = new Utf8JsonWriter(buffer, WriterOptions);
                    writer.WriteStartObject();
                }

                writer.WritePropertyName(attribute.Key);
                WriteValue(writer, kept, depth: 0);
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

    private static void WriteValue(Utf8JsonWriter writer, AnyValue value, int depth)
    {
        // Nesting beyond a few levels is not something an operator filters on; it is cut rather than stored whole.
        if (depth > 4)
        {
            writer.WriteNullValue();
            return;
        }

        switch (value.ValueCase)
        {
            case AnyValue.ValueOneofCase.StringValue:
                writer.WriteStringValue(value.StringValue.Length > MaxStringLength ? value.StringValue[..MaxStringLength] : value.StringValue);
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
                writer.WriteBase64StringValue(value.BytesValue.Span);
                break;
            case AnyValue.ValueOneofCase.ArrayValue:
                writer.WriteStartArray();
                foreach (var item in value.ArrayValue.Values)
                {
                    WriteValue(writer, item, depth + 1);
                }

                writer.WriteEndArray();
                break;
            case AnyValue.ValueOneofCase.KvlistValue:
                writer.WriteStartObject();
                foreach (var pair in value.KvlistValue.Values)
                {
                    writer.WritePropertyName(pair.Key);
                    if (pair.Value is null)
                    {
                        writer.WriteNullValue();
                    }
                    else
                    {
                        WriteValue(writer, pair.Value, depth + 1);
                    }
                }

                writer.WriteEndObject();
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }
}

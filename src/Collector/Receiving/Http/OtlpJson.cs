using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Google.Protobuf;

namespace PerfOtel.Collector.Receiving.Http;

/// <summary>
/// OTLP/JSON decoding. OTLP/JSON is proto3 JSON with two departures that Google.Protobuf's parser does not know:
/// trace and span ids are hex, not base64, and 64-bit integers may come as JSON numbers beyond double precision.
/// A streaming pass rewrites both (ids to base64, large integers to strings) and the parser does the rest:
/// lowerCamelCase or original field names, integer enums, unknown fields ignored.
/// </summary>
internal static class OtlpJson
{
    private const long MaxExactDouble = 1L << 53;

    // One byte is never a valid id: a bad hex id becomes a span refused in partial_success, not a failed request.
    private const string InvalidIdMarker = "AA==";

    private static readonly JsonParser Parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true).WithRecursionLimit(64));

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default);

    /// <summary>Parses an OTLP/JSON request; throws <see cref="OtlpDecodeException"/> with the reason when it cannot.</summary>
    public static T Parse<T>(ReadOnlySpan<byte> utf8)
        where T : IMessage<T>, new()
    {
        try
        {
            var normalized = Normalize(utf8);
            return Parser.Parse<T>(normalized);
        }
        catch (JsonException error)
        {
            throw new OtlpDecodeException("request body is not valid JSON: " + error.Message, error);
        }
        catch (InvalidProtocolBufferException error)
        {
            throw new OtlpDecodeException("request body is not a valid OTLP/JSON message: " + error.Message, error);
        }
        catch (InvalidJsonException error)
        {
            throw new OtlpDecodeException("request body is not a valid OTLP/JSON message: " + error.Message, error);
        }
        catch (FormatException error)
        {
            throw new OtlpDecodeException("request body is not a valid OTLP/JSON message: " + error.Message, error);
        }
        catch (Exception error) when (error is ArgumentException or InvalidOperationException)
        {
            throw new OtlpDecodeException("request body is not a valid OTLP/JSON message: " + error.Message, error);
        }
    }

    public static string Format(IMessage message) => Formatter.Format(message);

    internal static string Normalize(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = 128 });
        var output = new ArrayBufferWriter<byte>(utf8.Length + 256);
        using (var writer = new Utf8JsonWriter(output, WriterOptions))
        {
            var idValueNext = false;
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        // Unescaped names and values are copied as bytes; only escaped ones pay for a string.
                        if (reader.ValueIsEscaped)
                        {
                            var name = reader.GetString()!;
                            idValueNext = IsIdField(name);
                            writer.WritePropertyName(name);
                        }
                        else
                        {
                            idValueNext = IsIdField(reader.ValueSpan);
                            writer.WritePropertyName(reader.ValueSpan);
                        }

                        continue;
                    case JsonTokenType.String:
                        if (idValueNext)
                        {
                            writer.WriteStringValue(HexToBase64(reader.GetString()!));
                        }
                        else if (reader.ValueIsEscaped)
                        {
                            // Copied still escaped: decoding would turn an escaped lone surrogate (\ud800, valid JSON
                            // syntax) into a string the writer refuses; the protobuf parser decodes it and the mapper
                            // replaces it.
                            WriteEscapedString(writer, reader.ValueSpan);
                        }
                        else
                        {
                            writer.WriteStringValue(reader.ValueSpan);
                        }

                        break;
                    case JsonTokenType.Number:
                        WriteNumber(writer, reader.ValueSpan);
                        break;
                    case JsonTokenType.StartObject:
                        writer.WriteStartObject();
                        break;
                    case JsonTokenType.EndObject:
                        writer.WriteEndObject();
                        break;
                    case JsonTokenType.StartArray:
                        writer.WriteStartArray();
                        break;
                    case JsonTokenType.EndArray:
                        writer.WriteEndArray();
                        break;
                    case JsonTokenType.True:
                        writer.WriteBooleanValue(true);
                        break;
                    case JsonTokenType.False:
                        writer.WriteBooleanValue(false);
                        break;
                    case JsonTokenType.Null:
                        writer.WriteNullValue();
                        break;
                }

                idValueNext = false;
            }
        }

        return Encoding.UTF8.GetString(output.WrittenSpan);
    }

    private static void WriteEscapedString(Utf8JsonWriter writer, ReadOnlySpan<byte> escaped)
    {
        var quoted = new byte[escaped.Length + 2];
        quoted[0] = (byte)'"';
        escaped.CopyTo(quoted.AsSpan(1));
        quoted[^1] = (byte)'"';
        writer.WriteRawValue(quoted, skipInputValidation: true);
    }

    // Every bytes field named like this in OTLP (Span, Span.Link, LogRecord, Exemplar) is a trace or span id.
    private static bool IsIdField(string name) => name is "traceId" or "spanId" or "parentSpanId" or "trace_id" or "span_id" or "parent_span_id";

    private static bool IsIdField(ReadOnlySpan<byte> name) =>
        name.SequenceEqual("traceId"u8) || name.SequenceEqual("spanId"u8) || name.SequenceEqual("parentSpanId"u8)
        || name.SequenceEqual("trace_id"u8) || name.SequenceEqual("span_id"u8) || name.SequenceEqual("parent_span_id"u8);

    private static string HexToBase64(string hex)
    {
        if (hex.Length == 0)
        {
            return hex;
        }

        if (hex.Length % 2 != 0 || hex.Length > 64)
        {
            return InvalidIdMarker;
        }

        Span<byte> bytes = stackalloc byte[hex.Length / 2];
        return Convert.FromHexString(hex, bytes, out _, out _) == OperationStatus.Done
            ? Convert.ToBase64String(bytes)
            : InvalidIdMarker;
    }

    private static void WriteNumber(Utf8JsonWriter writer, ReadOnlySpan<byte> raw)
    {
        // Integers past 2^53 would lose digits in the parser's double; as strings they reach int64/uint64 fields exactly.
        if (raw.IndexOfAny("."u8) < 0 && raw.IndexOfAny("eE"u8) < 0)
        {
            if ((Utf8Parser.TryParse(raw, out long signed, out var consumed) && consumed == raw.Length && (signed > MaxExactDouble || signed < -MaxExactDouble))
                || (raw[0] != (byte)'-' && !Utf8Parser.TryParse(raw, out signed, out _) && Utf8Parser.TryParse(raw, out ulong _, out consumed) && consumed == raw.Length))
            {
                writer.WriteStringValue(Encoding.UTF8.GetString(raw));
                return;
            }
        }

        writer.WriteRawValue(raw, skipInputValidation: true);
    }
}

/// <summary>A request body that cannot be decoded as the OTLP message its path and media type promise (answered 400).</summary>
internal sealed class OtlpDecodeException(string message, Exception? inner = null) : Exception(message, inner);

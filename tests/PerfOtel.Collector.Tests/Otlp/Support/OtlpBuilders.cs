using System.IO.Compression;
using System.Net.Http.Headers;
using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Resource.V1;
using OpenTelemetry.Proto.Trace.V1;

namespace PerfOtel.Collector.Tests.Otlp.Support;

/// <summary>Hand-built OTLP messages and HTTP requests for the tests.</summary>
public static class OtlpBuilders
{
    public const ulong BaseTimeNanos = 1_700_000_000_000_000_000;

    public static ByteString TraceId(int n) => ByteString.CopyFrom([.. new byte[12], 0, 0, (byte)(n >> 8), (byte)(n & 0xff | 1)]);

    public static ByteString SpanId(int n) => ByteString.CopyFrom([0, 0, 0, 0, 0, (byte)(n >> 16), (byte)(n >> 8), (byte)(n & 0xff | 0x80)]);

    public static string Hex(ByteString id) => Convert.ToHexStringLower(id.Span);

    public static KeyValue Attr(string key, object value) => new()
    {
        Key = key,
        Value = value switch
        {
            string s => new AnyValue { StringValue = s },
            int i => new AnyValue { IntValue = i },
            long l => new AnyValue { IntValue = l },
            double d => new AnyValue { DoubleValue = d },
            bool b => new AnyValue { BoolValue = b },
            _ => throw new ArgumentException($"unsupported attribute type {value.GetType()}"),
        },
    };

    public static Span Span(string name, ByteString traceId, ByteString spanId, ByteString? parentSpanId = null,
        double durationSeconds = 1, params (string Key, object Value)[] attributes)
    {
        var span = new Span
        {
            TraceId = traceId,
            SpanId = spanId,
            ParentSpanId = parentSpanId ?? ByteString.Empty,
            Name = name,
            Kind = OpenTelemetry.Proto.Trace.V1.Span.Types.SpanKind.Internal,
            StartTimeUnixNano = BaseTimeNanos,
            EndTimeUnixNano = BaseTimeNanos + (ulong)(durationSeconds * 1e9),
        };
        foreach (var (key, value) in attributes)
        {
            span.Attributes.Add(Attr(key, value));
        }

        return span;
    }

    public static ExportTraceServiceRequest Traces(IEnumerable<Span> spans, params (string Key, object Value)[] resourceAttributes)
    {
        var resource = new Resource();
        foreach (var (key, value) in resourceAttributes)
        {
            resource.Attributes.Add(Attr(key, value));
        }

        var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "tests" } };
        scope.Spans.AddRange(spans);
        var resourceSpans = new ResourceSpans { Resource = resource };
        resourceSpans.ScopeSpans.Add(scope);
        var request = new ExportTraceServiceRequest();
        request.ResourceSpans.Add(resourceSpans);
        return request;
    }

    public static HttpContent Protobuf(IMessage message, bool gzip = false) => Content(message.ToByteArray(), "application/x-protobuf", gzip);

    public static HttpContent Json(string json, bool gzip = false) => Content(System.Text.Encoding.UTF8.GetBytes(json), "application/json", gzip);

    public static HttpContent Content(byte[] body, string contentType, bool gzip = false)
    {
        if (gzip)
        {
            body = Gzip(body);
        }

        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (gzip)
        {
            content.Headers.ContentEncoding.Add("gzip");
        }

        return content;
    }

    public static byte[] Gzip(byte[] body)
    {
        using var output = new MemoryStream();
        using (var zip = new GZipStream(output, CompressionLevel.Fastest))
        {
            zip.Write(body);
        }

        return output.ToArray();
    }
}

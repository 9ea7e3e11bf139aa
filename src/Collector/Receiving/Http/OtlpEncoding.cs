using Microsoft.Net.Http.Headers;

namespace PerfOtel.Collector.Receiving.Http;

internal enum OtlpEncoding
{
    Protobuf,
    Json,
}

internal static class OtlpMediaTypes
{
    public const string Protobuf = "application/x-protobuf";
    public const string Json = "application/json";

    /// <summary>The encoding a Content-Type names, or null when OTLP/HTTP does not define it (answered 415).</summary>
    public static OtlpEncoding? FromContentType(string? contentType)
    {
        if (contentType is null || !MediaTypeHeaderValue.TryParse(contentType, out var parsed))
        {
            return null;
        }

        var mediaType = parsed.MediaType.Value;
        if (string.Equals(mediaType, Protobuf, StringComparison.OrdinalIgnoreCase)
            || string.Equals(mediaType, "application/protobuf", StringComparison.OrdinalIgnoreCase))
        {
            return OtlpEncoding.Protobuf;
        }

        return string.Equals(mediaType, Json, StringComparison.OrdinalIgnoreCase) ? OtlpEncoding.Json : null;
    }

    public static string ContentType(OtlpEncoding encoding) => encoding == OtlpEncoding.Json ? Json : Protobuf;
}

using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace PerfOtel.Collector.Receiving.Grpc;

/// <summary>gRPC failures with the details OTLP exporters read.</summary>
internal static class OtlpGrpcStatus
{
    /// <summary>The trailer carrying the full google.rpc.Status (with its details) in binary form.</summary>
    public const string DetailsTrailer = "grpc-status-details-bin";

    /// <summary>
    /// A retryable refusal: the status code and message, and a google.rpc.Status with a google.rpc.RetryInfo in the
    /// <c>grpc-status-details-bin</c> trailer, which OTLP exporters honour as their back-off.
    /// </summary>
    public static RpcException Retryable(StatusCode code, string message, TimeSpan retryDelay)
    {
        var details = new Google.Rpc.Status
        {
            Code = (int)code,
            Message = message,
            Details = { Any.Pack(new RetryInfo { RetryDelay = Duration.FromTimeSpan(retryDelay) }) },
        };
        return new RpcException(new global::Grpc.Core.Status(code, message), new Metadata { { DetailsTrailer, details.ToByteArray() } });
    }

    /// <summary>
    /// Answers a gRPC call before its service runs (authentication): a trailers-only response, which is how gRPC
    /// servers report a status without a message.
    /// </summary>
    public static Task WriteTrailersOnlyAsync(HttpContext context, StatusCode code, string message)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/grpc";
        context.Response.Headers["grpc-status"] = ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers["grpc-message"] = PercentEncode(message);
        return context.Response.CompleteAsync();
    }

    public static bool IsGrpc(HttpRequest request) =>
        request.ContentType is { } type && type.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase);

    // The gRPC HTTP/2 protocol: grpc-message is percent-encoded UTF-8, printable ASCII other than '%' left as is.
    private static string PercentEncode(string message)
    {
        var builder = new System.Text.StringBuilder(message.Length);
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(message))
        {
            if (b is >= 0x20 and <= 0x7E && b != (byte)'%')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }
}

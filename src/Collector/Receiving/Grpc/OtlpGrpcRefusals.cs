using System.Globalization;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;

namespace PerfOtel.Collector.Receiving.Grpc;

/// <summary>
/// Notes every OTLP/gRPC call that did not end OK in the <see cref="RejectionSummary"/>, as the HTTP receiver notes its
/// refusals: the once-a-minute line then covers both transports. It reads the status the call actually ended with
/// (the <c>grpc-status</c> trailer, or the header of a trailers-only answer), so it also sees what fails before the
/// service runs, such as a body that is not a valid protobuf message (the request marshaller's INVALID_ARGUMENT).
/// Refusals by authentication happen earlier, in the security middleware, which notes them itself.
/// </summary>
internal static class OtlpGrpcRefusals
{
    public static void Observe(EndpointBuilder endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var inner = endpoint.RequestDelegate ?? throw new InvalidOperationException($"gRPC endpoint '{endpoint.DisplayName}' has no request delegate");
        endpoint.RequestDelegate = async context =>
        {
            await inner(context).ConfigureAwait(false);
            if (Ended(context) is { } status && status.Code != StatusCode.OK)
            {
                context.RequestServices.GetRequiredService<RejectionSummary>().Note(
                    string.Create(CultureInfo.InvariantCulture, $"{context.Request.Path} {status.Code}"), status.Message);
            }
        };
    }

    private static (StatusCode Code, string? Message)? Ended(HttpContext context)
    {
        var trailers = context.Features.Get<IHttpResponseTrailersFeature>()?.Trailers;
        var headers = context.Response.Headers;
        var source = trailers is not null && trailers.ContainsKey("grpc-status") ? trailers : headers;
        if (!int.TryParse(source["grpc-status"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var code))
        {
            return null;
        }

        var message = source["grpc-message"].ToString();
        return ((StatusCode)code, message.Length == 0 ? null : Uri.UnescapeDataString(message));
    }
}

using System.Net.Http.Headers;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Exposure.Api;
using PerfOtel.Collector.Receiving;
using PerfOtel.Collector.Receiving.Http;

namespace PerfOtel.Collector.Security;

/// <summary>
/// Checks <c>Authorization: Bearer</c> (on the pages under /ui/, also the sign-in cookie) against the configured keys and the route's role, refuses cross-tenant REST
/// requests, and keeps /metrics on its own port when one is configured. Runs after routing picked the endpoint, so the
/// decision follows the route table rather than string matching on paths.
/// </summary>
internal sealed partial class ApiKeyAuthenticationMiddleware(
    RequestDelegate next,
    ApiKeyRegistry keys,
    RouteAccessPolicy policy,
    IOptions<MetricsListenerOptions> metricsListener,
    RejectionSummary rejections,
    ILogger<ApiKeyAuthenticationMiddleware> logger)
{
    private const string Challenge = "Bearer";
    private const string InvalidTokenChallenge = "Bearer error=\"invalid_token\"";

    private readonly int? _metricsPort = metricsListener.Value.Port;

    public async Task InvokeAsync(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        var access = policy.For(endpoint);

        if (_metricsPort is { } metricsPort)
        {
            var onMetricsPort = context.Connection.LocalPort == metricsPort;
            if (onMetricsPort != (access == RouteAccess.Scrape) && access != RouteAccess.Open)
            {
                // Each port serves its own routes only: the metrics port can then be opened to Prometheus alone.
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            if (onMetricsPort)
            {
                await next(context).ConfigureAwait(false);
                return;
            }
        }

        if (!keys.Enabled || access == RouteAccess.Open)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var presented = BearerToken(context.Request) ?? (access == RouteAccess.UiRead ? UiSession.KeyOf(context.Request) : null);
        var key = presented is null ? null : keys.Find(presented);
        if (key is null)
        {
            if (presented is not null && access == RouteAccess.UiRead)
            {
                // A revoked or rotated key in the cookie: forget it, so the sign-in form starts clean.
                UiSession.Forget(context.Response);
            }

            Refused(context, access, StatusCodes.Status401Unauthorized, presented is null ? "no bearer token" : "unknown key");
            context.Response.Headers.WWWAuthenticate = presented is null ? Challenge : InvalidTokenChallenge;
            await RefuseAsync(context, access, StatusCodes.Status401Unauthorized, RpcCode.Unauthenticated,
                presented is null
                    ? "authentication required: send 'Authorization: Bearer <API key>'"
                    : "the API key is not valid").ConfigureAwait(false);
            return;
        }

        var caller = new ApiCaller(key.Name, key.Tenant, key.Role);
        if (access != RouteAccess.AnyKey && !key.Role.Grants(RouteAccessPolicy.RoleFor(access)))
        {
            Refused(context, access, StatusCodes.Status403Forbidden, $"key '{key.Name}' has role {key.Role.Name()}");
            await RefuseAsync(context, access, StatusCodes.Status403Forbidden, RpcCode.PermissionDenied,
                $"the API key's role ({key.Role.Name()}) may not call this route; it needs {RouteAccessPolicy.RoleFor(access).Name()}")
                .ConfigureAwait(false);
            return;
        }

        context.Features.Set(caller);
        if (RequestTenant.Refusal(context) is { } refusal)
        {
            Refused(context, access, StatusCodes.Status403Forbidden, $"key '{key.Name}': {refusal}");
            await RefuseAsync(context, access, StatusCodes.Status403Forbidden, RpcCode.PermissionDenied, refusal).ConfigureAwait(false);
            return;
        }

        await next(context).ConfigureAwait(false);
    }

    // One summary line a minute rather than one line per refused request (a scanner or a misconfigured exporter would
    // flood the log); kinds are bounded by route class and status, the path goes into the reason.
    private void Refused(HttpContext context, RouteAccess access, int status, string reason)
    {
        LogRefused(logger, context.Request.Path, reason);
        rejections.Note($"API key refused on {access} routes, {status}", $"{reason} on {context.Request.Path}");
    }

    private static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization;
        if (header.Count != 1 || !AuthenticationHeaderValue.TryParse(header[0], out var parsed)
            || !string.Equals(parsed.Scheme, Challenge, StringComparison.OrdinalIgnoreCase)
            || string.IsNullOrWhiteSpace(parsed.Parameter))
        {
            return null;
        }

        return parsed.Parameter.Trim();
    }

    private static Task RefuseAsync(HttpContext context, RouteAccess access, int statusCode, int rpcCode, string message)
    {
        if (Receiving.Grpc.OtlpGrpcStatus.IsGrpc(context.Request))
        {
            // gRPC clients read the status from trailers: UNAUTHENTICATED / PERMISSION_DENIED, as the codes say.
            return Receiving.Grpc.OtlpGrpcStatus.WriteTrailersOnlyAsync(context, (global::Grpc.Core.StatusCode)rpcCode, message);
        }

        if (access == RouteAccess.UiRead)
        {
            // A browser reads a page: the refusal is one, with the sign-in form when no valid key came.
            return Exposure.Pages.UiRefusal.WriteAsync(context, statusCode, message);
        }

        if (access == RouteAccess.OtlpIngest)
        {
            // OTLP clients read a google.rpc.Status in the encoding they sent, as for every other OTLP failure.
            return OtlpRequestHandler.WriteErrorAsync(context, statusCode,
                OtlpMediaTypes.FromContentType(context.Request.ContentType), rpcCode, message);
        }

        return Results.Json(new ApiError(message), statusCode: statusCode).ExecuteAsync(context);
    }

    [LoggerMessage(EventId = 60, Level = LogLevel.Debug, Message = "Refused request to {Path}: {Reason}")]
    private static partial void LogRefused(ILogger logger, string path, string reason);
}

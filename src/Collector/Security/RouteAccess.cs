using PerfOtel.Collector.Receiving.Http;

namespace PerfOtel.Collector.Security;

/// <summary>What a route demands of its caller.</summary>
internal enum RouteAccess
{
    /// <summary>No key: liveness probes, the OpenAPI document (it describes routes, not data) and the pages' sign-in form.</summary>
    Open,

    /// <summary>OTLP export paths and OTLP/gRPC Export methods: ingest role; failures answered with a google.rpc.Status or a gRPC status.</summary>
    OtlpIngest,

    /// <summary>REST writes (feedback): ingest role, scoped to the key's tenant.</summary>
    RestIngest,

    /// <summary>REST reads and the export: read role, scoped to the key's tenant.</summary>
    RestRead,

    /// <summary>
    /// The read-only pages under /ui/: read role, scoped to the key's tenant like REST reads; the key comes as a Bearer
    /// header or, from a browser, as the sign-in cookie (<see cref="UiSession"/>); refusals are HTML pages.
    /// </summary>
    UiRead,

    /// <summary>/metrics on the main port: every tenant's series, so admin only.</summary>
    Scrape,

    /// <summary>Anything else (including routes nobody classified): admin only, so a new route is never open by mistake.</summary>
    Admin,

    /// <summary>No route matched, or the framework's 405 answer: any valid key, then the framework answers.</summary>
    AnyKey,
}

/// <summary>Marks the collector's own /metrics endpoint, whatever path it is served on.</summary>
internal sealed class ScrapeEndpointMetadata;

/// <summary>
/// The one table of which route needs which role. The tests enumerate every endpoint of the app and fail when one is
/// not classified here, so adding a route forces a decision about who may call it.
/// </summary>
internal sealed class RouteAccessPolicy(IEnumerable<OtlpSignal> signals)
{
    public const string HealthRoute = "/healthz";
    public const string ApiPrefix = "/api/v1/";
    public const string FeedbackRoute = "/api/v1/feedback";

    private readonly HashSet<string> _otlpRoutes = signals.Select(s => s.Path).ToHashSet(StringComparer.OrdinalIgnoreCase);

    private static readonly HashSet<string> _otlpGrpcServices = new(StringComparer.Ordinal)
    {
        OpenTelemetry.Proto.Collector.Trace.V1.TraceService.Descriptor.FullName,
        OpenTelemetry.Proto.Collector.Metrics.V1.MetricsService.Descriptor.FullName,
        OpenTelemetry.Proto.Collector.Logs.V1.LogsService.Descriptor.FullName,
    };

    /// <summary>The access a request's matched endpoint demands (unclassified routes fall back to admin).</summary>
    public RouteAccess For(Endpoint? endpoint) => endpoint is RouteEndpoint route ? Classify(route) ?? RouteAccess.Admin : RouteAccess.AnyKey;

    /// <summary>The classification of a route, or null when this table does not know it.</summary>
    public RouteAccess? Classify(RouteEndpoint endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (endpoint.Metadata.GetMetadata<ScrapeEndpointMetadata>() is not null)
        {
            return RouteAccess.Scrape;
        }

        var pattern = endpoint.RoutePattern.RawText ?? string.Empty;
        if (endpoint.Metadata.GetMetadata<global::Grpc.AspNetCore.Server.GrpcMethodMetadata>() is { } grpc)
        {
            // The OTLP/gRPC Export methods take ingest keys, like /v1/*.
            return _otlpGrpcServices.Contains(grpc.Method.ServiceName) ? RouteAccess.OtlpIngest : null;
        }

        if (pattern.Contains("{unimplementedMethod:grpcunimplemented}", StringComparison.Ordinal))
        {
            // gRPC's UNIMPLEMENTED answers for unknown services and methods: they serve nothing, but need a valid key.
            return RouteAccess.AnyKey;
        }

        if (pattern is HealthRoute or Exposure.Api.OpenApiDescription.Route)
        {
            return RouteAccess.Open;
        }

        if (_otlpRoutes.Contains(pattern))
        {
            return RouteAccess.OtlpIngest;
        }

        var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [];
        if (pattern.StartsWith(UiSession.Prefix, StringComparison.Ordinal))
        {
            // Signing in and out takes no key: presenting one is what the form is for.
            if (pattern is UiSession.SignInRoute or UiSession.SignOutRoute)
            {
                return RouteAccess.Open;
            }

            return methods.Count > 0 && methods.All(HttpMethods.IsGet) ? RouteAccess.UiRead : null;
        }

        if (!pattern.StartsWith(ApiPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        if (methods.Count > 0 && methods.All(HttpMethods.IsGet))
        {
            return RouteAccess.RestRead;
        }

        if (pattern == FeedbackRoute && methods.Count > 0 && methods.All(HttpMethods.IsPost))
        {
            return RouteAccess.RestIngest;
        }

        return null;
    }

    public static ApiRole RoleFor(RouteAccess access) => access switch
    {
        RouteAccess.OtlpIngest or RouteAccess.RestIngest => ApiRole.Ingest,
        RouteAccess.RestRead or RouteAccess.UiRead => ApiRole.Read,
        _ => ApiRole.Admin,
    };

    public static bool IsRest(RouteAccess access) => access is RouteAccess.RestIngest or RouteAccess.RestRead;
}

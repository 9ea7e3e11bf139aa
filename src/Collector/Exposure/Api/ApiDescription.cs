using System.Text.Json.Serialization;

namespace PerfOtel.Collector.Exposure.Api;

/// <summary>
/// Body of every REST error (400, 404, 413, 415): what is wrong, and the parameter or body field at fault when there
/// is one. The one error body of the REST API; the OpenAPI document names it on every error response.
/// </summary>
public sealed record ApiError(string Error, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Field = null);

/// <summary>One query parameter a REST route accepts.</summary>
/// <param name="Name">The parameter's name in the query string.</param>
/// <param name="Description">What it does, for the OpenAPI document.</param>
/// <param name="Type">Its OpenAPI type: <c>string</c>, <c>integer</c>, <c>number</c> or <c>boolean</c>.</param>
/// <param name="Format">Its OpenAPI format (e.g. <c>date-time</c>), or null.</param>
public sealed record QueryParameter(string Name, string Description, string Type = "string", string? Format = null);

/// <summary>
/// The query parameters of a route, declared where the route is mapped. The OpenAPI document lists exactly these, and
/// a request naming any other gets 400: a misspelt <c>?windw=24h</c> is an error rather than a silently ignored filter,
/// and the document cannot fall behind what a handler reads.
/// </summary>
public sealed class QueryParametersMetadata(IReadOnlyList<QueryParameter> parameters)
{
    public IReadOnlyList<QueryParameter> Parameters { get; } = parameters;

    /// <summary>The first query parameter of the request that the route does not accept, or null.</summary>
    public string? FirstUnknown(IQueryCollection query)
    {
        ArgumentNullException.ThrowIfNull(query);
        foreach (var key in query.Keys)
        {
            if (!Parameters.Any(p => string.Equals(p.Name, key, StringComparison.Ordinal)))
            {
                return key;
            }
        }
        return null;
    }
}

/// <summary>
/// The JSON body a route reads, for the OpenAPI document only. Not <c>Accepts</c>: that also makes routing answer a
/// wrong media type with a bodiless 415 before the handler, whose 415 carries the API's error body.
/// </summary>
public sealed record RequestBodyDescription(Type Type, string ContentType);

/// <summary>How REST routes describe themselves: summary, query parameters, success body and error answers.</summary>
public static class ApiDescription
{
    /// <summary>Every REST read may name its tenant (admin keys, or no authentication); see <see cref="RequestTenant"/>.</summary>
    public static readonly QueryParameter Tenant = new(RequestTenant.QueryName,
        "Tenant to act for. A tenant API key acts for its own tenant only; without authentication or with an admin key, default 'default'.");

    /// <summary>
    /// Declares a route's summary, its success body <typeparamref name="TResponse"/> (200), its query parameters (the
    /// tenant parameter is added) and its error answers with <see cref="ApiError"/> bodies: 400 always (unknown or
    /// invalid parameters), plus <paramref name="errors"/> (e.g. 404 for routes with an id in the path).
    /// </summary>
    public static RouteHandlerBuilder Describe<TResponse>(this RouteHandlerBuilder route, string summary,
        IReadOnlyList<QueryParameter> query, params int[] errors) =>
        route.Describe(summary, query, errors).Produces<TResponse>(StatusCodes.Status200OK);

    /// <summary>As <see cref="Describe{TResponse}"/>, for routes whose success body is declared separately.</summary>
    public static RouteHandlerBuilder Describe(this RouteHandlerBuilder route, string summary,
        IReadOnlyList<QueryParameter> query, params int[] errors)
    {
        ArgumentNullException.ThrowIfNull(route);
        ArgumentNullException.ThrowIfNull(query);
        var metadata = new QueryParametersMetadata([Tenant, .. query]);
        route.WithSummary(summary)
            .WithMetadata(metadata)
            .Produces<ApiError>(StatusCodes.Status400BadRequest)
            .AddEndpointFilter(async (context, next) =>
            {
                if (metadata.FirstUnknown(context.HttpContext.Request.Query) is { } unknown)
                {
                    var accepted = string.Join(", ", metadata.Parameters.Select(p => p.Name));
                    return Results.BadRequest(new ApiError($"unknown query parameter '{unknown}'; this route accepts: {accepted}", unknown));
                }
                return await next(context).ConfigureAwait(false);
            });
        foreach (var status in errors.Distinct())
        {
            route.Produces<ApiError>(status);
        }
        return route;
    }
}

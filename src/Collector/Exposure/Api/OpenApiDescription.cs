using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace PerfOtel.Collector.Exposure.Api;

/// <summary>
/// The OpenAPI 3 description of the REST API, generated from the routes themselves and served at
/// <c>/openapi/v1.json</c>. Query parameters come from each route's <see cref="QueryParametersMetadata"/> (the same
/// declaration that refuses unknown parameters), so the document cannot drift from what the handlers accept. OTLP and
/// <c>/metrics</c> are left out: their specifications describe them.
/// </summary>
public static class OpenApiDescription
{
    public const string DocumentName = "v1";
    public const string Route = "/openapi/{documentName}.json";
    public const string DocumentPath = "/openapi/v1.json";

    public static IServiceCollection AddPerfOtelOpenApi(this IServiceCollection services) =>
        services.AddOpenApi(DocumentName, options =>
        {
            options.ShouldInclude = description =>
                description.RelativePath is { } path && (path.StartsWith("api/v1/", StringComparison.Ordinal) || path == "healthz");
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "PerfOtel collector REST API",
                    Version = "v1",
                    Description = "Analytics, cost, budgets, models, experiments, feedback and export of the PerfOtel collector. " +
                        "With authentication on (Auth:Enabled), every route but /healthz needs an API key as a Bearer token: " +
                        "401 without a valid key, 403 when its role or tenant does not allow the request.",
                };
                return Task.CompletedTask;
            });
            options.AddOperationTransformer(async (operation, context, cancellationToken) =>
            {
                var body = context.Description.ActionDescriptor.EndpointMetadata.OfType<RequestBodyDescription>().LastOrDefault();
                if (body is not null)
                {
                    operation.RequestBody = new OpenApiRequestBody
                    {
                        Required = true,
                        Content = new Dictionary<string, OpenApiMediaType>
                        {
                            [body.ContentType] = new() { Schema = await context.GetOrCreateSchemaAsync(body.Type, null, cancellationToken).ConfigureAwait(false) },
                        },
                    };
                }
                var metadata = context.Description.ActionDescriptor.EndpointMetadata.OfType<QueryParametersMetadata>().LastOrDefault();
                if (metadata is null)
                {
                    return;
                }
                operation.Parameters ??= [];
                foreach (var parameter in metadata.Parameters)
                {
                    operation.Parameters.Add(new OpenApiParameter
                    {
                        Name = parameter.Name,
                        In = ParameterLocation.Query,
                        Required = false,
                        Description = parameter.Description,
                        Schema = new OpenApiSchema { Type = TypeOf(parameter.Type), Format = parameter.Format },
                    });
                }
                operation.Responses ??= [];
                foreach (var (status, text) in new[] { ("401", "No valid API key (authentication on)."), ("403", "The key's role or tenant does not allow this request.") })
                {
                    operation.Responses.TryAdd(status, new OpenApiResponse { Description = text });
                }
            });
        });

    public static IEndpointRouteBuilder MapPerfOtelOpenApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapOpenApi(Route);
        return endpoints;
    }

    private static JsonSchemaType TypeOf(string type) => type switch
    {
        "integer" => JsonSchemaType.Integer,
        "number" => JsonSchemaType.Number,
        "boolean" => JsonSchemaType.Boolean,
        _ => JsonSchemaType.String,
    };
}

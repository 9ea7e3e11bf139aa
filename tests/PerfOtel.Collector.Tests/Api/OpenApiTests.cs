using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using PerfOtel.Collector.Exposure.Api;
using PerfOtel.Collector.Tests.Otlp.Support;

namespace PerfOtel.Collector.Tests.Api;

/// <summary>
/// The OpenAPI document at /openapi/v1.json describes every REST route the app maps, with its parameters and error
/// answers, and the parameter declarations behind it are what the routes enforce.
/// </summary>
public sealed partial class OpenApiTests : IAsyncLifetime
{
    private readonly CollectorFactory _collector = new();
    private JsonElement _document;

    public async Task InitializeAsync()
    {
        using var client = _collector.CreateClient();
        using var response = await client.GetAsync(new Uri(OpenApiDescription.DocumentPath, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        _document = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    public async Task DisposeAsync() => await _collector.DisposeAsync();

    [Fact]
    public void EveryRestRoute_IsDescribed_WithItsPathAndQueryParameters_AndErrorAnswers()
    {
        var routes = RestRoutes();
        Assert.True(routes.Count >= 14, $"expected the REST routes, found {routes.Count}");
        var paths = _document.GetProperty("paths");
        foreach (var (endpoint, method) in routes)
        {
            var pattern = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            Assert.True(paths.TryGetProperty(pattern, out var path), $"{pattern} is missing from the OpenAPI document");
            Assert.True(path.TryGetProperty(method.ToLowerInvariant(), out var operation), $"{method} {pattern} is missing");
            Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("summary").GetString()), $"{method} {pattern} has no summary");

            var documented = operation.TryGetProperty("parameters", out var parameters)
                ? parameters.EnumerateArray().Select(p => (Name: p.GetProperty("name").GetString()!, In: p.GetProperty("in").GetString()!)).ToList()
                : [];
            foreach (var parameter in endpoint.RoutePattern.Parameters)
            {
                Assert.Contains((parameter.Name, "path"), documented);
            }

            var responses = operation.GetProperty("responses");
            Assert.True(responses.EnumerateObject().Any(r => r.Name.StartsWith('2')), $"{method} {pattern} documents no success answer");
            if (pattern == "/healthz")
            {
                continue;
            }

            var declared = endpoint.Metadata.GetMetadata<QueryParametersMetadata>();
            Assert.True(declared is not null, $"{method} {pattern} declares no query parameters (use .Describe(...))");
            foreach (var query in declared!.Parameters)
            {
                Assert.Contains((query.Name, "query"), documented);
            }
            Assert.Equal(declared.Parameters.Count + endpoint.RoutePattern.Parameters.Count, documented.Count);
            foreach (var status in new[] { "400", "401", "403" })
            {
                Assert.True(responses.TryGetProperty(status, out _), $"{method} {pattern} does not document {status}");
            }
            if (endpoint.RoutePattern.Parameters.Count > 0)
            {
                Assert.True(responses.TryGetProperty("404", out _), $"{method} {pattern} has an id in its path but no 404");
            }
            AssertErrorBodyIsApiError(responses.GetProperty("400"), $"{method} {pattern}");
        }
    }

    [Fact]
    public async Task EveryRestRoute_RefusesAnUnknownQueryParameter_WithTheOneErrorBody_AndAcceptsEveryDeclaredOne()
    {
        using var client = _collector.CreateClient();
        foreach (var (endpoint, method) in RestRoutes().Where(r => r.Endpoint.RoutePattern.RawText != "/healthz"))
        {
            var path = PathParameter().Replace(endpoint.RoutePattern.RawText!, "x");
            using var unknown = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path + "?windw=24h"));
            Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
            var error = JsonDocument.Parse(await unknown.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("windw", error.GetProperty("field").GetString());
            Assert.Contains("unknown query parameter 'windw'", error.GetProperty("error").GetString(), StringComparison.Ordinal);

            // Each declared parameter passes the filter: whatever the handler then says, it is not the unknown-parameter refusal.
            foreach (var parameter in endpoint.Metadata.GetMetadata<QueryParametersMetadata>()!.Parameters)
            {
                using var declared = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), $"{path}?{parameter.Name}=x"));
                var body = await declared.Content.ReadAsStringAsync();
                Assert.DoesNotContain("unknown query parameter", body, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task ErrorAnswers_OfEveryKind_UseTheOneErrorBody()
    {
        using var client = _collector.CreateClient();
        foreach (var path in new[] { "/api/v1/metrics/agents?window=9y", "/api/v1/costs?period=weekly",
            "/api/v1/executions/export?since=yesterday", "/api/v1/metrics/agents/nobody", "/api/v1/experiments/none" })
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound, $"{path}: {response.StatusCode}");
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("error").GetString()), path);
        }

        using var feedback = await client.PostAsync(new Uri("/api/v1/feedback", UriKind.Relative),
            new StringContent("{\"success\": true}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, feedback.StatusCode);
        var feedbackError = JsonDocument.Parse(await feedback.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("taskId", feedbackError.GetProperty("field").GetString());
        Assert.False(string.IsNullOrWhiteSpace(feedbackError.GetProperty("error").GetString()));

        // A wrong media type is the handler's 415 with the error body, not routing's bodiless one.
        using var plain = await client.PostAsync(new Uri("/api/v1/feedback", UriKind.Relative),
            new StringContent("{}", System.Text.Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, plain.StatusCode);
        Assert.Equal("Content-Type", JsonDocument.Parse(await plain.Content.ReadAsStringAsync()).RootElement.GetProperty("field").GetString());
    }

    [Fact]
    public void TheFeedbackRoute_DescribesItsJsonBody()
    {
        var body = _document.GetProperty("paths").GetProperty("/api/v1/feedback").GetProperty("post").GetProperty("requestBody");
        Assert.True(body.GetProperty("content").TryGetProperty("application/json", out _));
    }

    private void AssertErrorBodyIsApiError(JsonElement response, string route)
    {
        var schema = response.GetProperty("content").GetProperty("application/json").GetProperty("schema");
        if (schema.TryGetProperty("$ref", out var reference))
        {
            schema = _document.GetProperty("components").GetProperty("schemas").GetProperty(reference.GetString()!.Split('/')[^1]);
        }
        Assert.True(schema.GetProperty("properties").TryGetProperty("error", out _), $"{route}: the 400 body is not the API's error body");
    }

    private List<(RouteEndpoint Endpoint, string Method)> RestRoutes() =>
        _collector.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && (raw.StartsWith("/api/v1/", StringComparison.Ordinal) || raw == "/healthz"))
            .SelectMany(e => (e.Metadata.GetMetadata<Microsoft.AspNetCore.Routing.HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (e, m)))
            .ToList();

    [GeneratedRegex("{[^}]+}")]
    private static partial Regex PathParameter();
}

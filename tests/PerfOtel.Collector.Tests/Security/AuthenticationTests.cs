using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Proto.Collector.Trace.V1;
using PerfOtel.Collector.Tests.Otlp.Support;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;
using PerfOtel.Collector.Security;

namespace PerfOtel.Collector.Tests.Security;

/// <summary>
/// 401 and 403 on every protected route of the app (enumerated, so a new route cannot be forgotten), with the body
/// each kind of client reads: a google.rpc.Status in the request's encoding on OTLP paths, JSON elsewhere.
/// </summary>
public sealed class AuthenticationTests : IAsyncLifetime
{
    private readonly CollectorFactory _collector = new(TestKeys.Settings());
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        _client = _collector.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _collector.DisposeAsync();
    }

    public static TheoryData<string, string, string> RefusedCases()
    {
        // route kind, key, expected status: the key that may not, and no or a wrong key.
        return new()
        {
            { nameof(RouteAccess.OtlpIngest), "", "401" },
            { nameof(RouteAccess.OtlpIngest), TestKeys.Unknown, "401" },
            { nameof(RouteAccess.OtlpIngest), TestKeys.ReadA, "403" },
            { nameof(RouteAccess.RestRead), "", "401" },
            { nameof(RouteAccess.RestRead), TestKeys.Unknown, "401" },
            { nameof(RouteAccess.RestRead), TestKeys.IngestA, "403" },
            { nameof(RouteAccess.UiRead), "", "401" },
            { nameof(RouteAccess.UiRead), TestKeys.Unknown, "401" },
            { nameof(RouteAccess.UiRead), TestKeys.IngestA, "403" },
            { nameof(RouteAccess.RestIngest), "", "401" },
            { nameof(RouteAccess.RestIngest), TestKeys.Unknown, "401" },
            { nameof(RouteAccess.RestIngest), TestKeys.ReadA, "403" },
            { nameof(RouteAccess.Scrape), "", "401" },
            { nameof(RouteAccess.Scrape), TestKeys.ReadA, "403" },
            { nameof(RouteAccess.Scrape), TestKeys.IngestA, "403" },
        };
    }

    [Theory]
    [MemberData(nameof(RefusedCases))]
    public async Task EveryRouteOfAKind_RefusesTheWrongCaller(string kind, string key, string expected)
    {
        var routes = Routes().Where(r => r.Access.ToString() == kind).ToList();
        Assert.NotEmpty(routes);

        foreach (var route in routes)
        {
            using var response = await _client.SendAsync(route.Request().With(key.Length == 0 ? null : key));

            Assert.True(((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture) == expected,
                $"{route} with key '{key}' answered {(int)response.StatusCode}, expected {expected}");
            if (expected == "401")
            {
                Assert.StartsWith("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
            }

            if (route.Access == RouteAccess.OtlpIngest)
            {
                Assert.Equal("application/x-protobuf", response.Content.Headers.ContentType?.MediaType);
                var status = Google.Rpc.Status.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
                Assert.Equal(expected == "401" ? 16 : 7, status.Code);
                Assert.NotEmpty(status.Message);
            }
            else if (route.Access == RouteAccess.UiRead)
            {
                // A browser gets a page: the sign-in form when no valid key came, the reason otherwise.
                Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
                var page = await response.Content.ReadAsStringAsync();
                Assert.Contains(expected == "401" ? "action=\"/ui/sign-in\"" : "role=\"alert\"", page, StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                Assert.NotEmpty(body.RootElement.GetProperty("error").GetString()!);
            }
        }
    }

    [Fact]
    public async Task EveryRouteOfAKind_LetsTheRightRoleThrough()
    {
        foreach (var route in Routes())
        {
            var key = route.Access switch
            {
                RouteAccess.Open => null,
                RouteAccess.OtlpIngest or RouteAccess.RestIngest => TestKeys.IngestA,
                RouteAccess.RestRead or RouteAccess.UiRead => TestKeys.ReadA,
                _ => TestKeys.Admin,
            };
            using var asRole = await _client.SendAsync(route.Request().With(key));
            using var asAdmin = await _client.SendAsync(route.Request().With(TestKeys.Admin));

            Assert.True(asRole.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden),
                $"{route} refused its role's key: {(int)asRole.StatusCode}");
            Assert.True(asAdmin.StatusCode is not (HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden),
                $"{route} refused the admin key: {(int)asAdmin.StatusCode}");
        }
    }

    [Fact]
    public async Task OtlpJsonRequest_WithoutKey_GetsAJsonStatus16()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/traces") { Content = Json("{}") };

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(16, body.RootElement.GetProperty("code").GetInt32());
    }

    [Fact]
    public async Task OtlpJsonRequest_WithReadKey_GetsAJsonStatus7()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/logs") { Content = Json("{}") }.With(TestKeys.ReadB);

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(7, body.RootElement.GetProperty("code").GetInt32());
    }

    [Theory]
    [InlineData("Basic dXNlcjpwYXNz")]
    [InlineData("Bearer")]
    [InlineData("Bearer ")]
    [InlineData("perfotel_test-ingest-alpha-6f1c")]
    public async Task MalformedAuthorization_Is401(string header)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/health");
        request.Headers.TryAddWithoutValidation("Authorization", header);

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task SchemeIsCaseInsensitive()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/health");
        request.Headers.TryAddWithoutValidation("Authorization", "bearer " + TestKeys.ReadA);

        using var response = await _client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Healthz_StaysOpen()
    {
        Assert.Equal("ok", await _client.GetStringAsync("/healthz"));
    }

    [Fact]
    public async Task UnknownPath_NeedsAKeyBeforeItIs404()
    {
        using var anonymous = await _client.GetAsync("/api/v2/anything");
        using var keyed = await _client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "/api/v2/anything").With(TestKeys.ReadA));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, keyed.StatusCode);
    }

    private List<RouteCase> Routes()
    {
        var policy = _collector.Services.GetRequiredService<RouteAccessPolicy>();
        var routes = _collector.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => new RouteCase(e, policy.Classify(e) ?? throw new InvalidOperationException(
                $"route {e.RoutePattern.RawText} is not classified in RouteAccessPolicy")))
            .ToList();
        Assert.Contains(routes, r => r.Access == RouteAccess.OtlpIngest);
        return routes;
    }

    private sealed record RouteCase(RouteEndpoint Endpoint, RouteAccess Access)
    {
        public HttpRequestMessage Request()
        {
            var path = System.Text.RegularExpressions.Regex.Replace(Endpoint.RoutePattern.RawText!, "{[^}]+}", "x");
            var method = Endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.FirstOrDefault()
                ?? (Access == RouteAccess.OtlpIngest ? "POST" : "GET");
            var request = new HttpRequestMessage(new HttpMethod(method), path);
            if (Access == RouteAccess.OtlpIngest)
            {
                request.Content = Protobuf(new ExportTraceServiceRequest());
            }
            else if (method == "POST")
            {
                request.Content = Json("""{"taskId": "t-1", "success": true}""");
            }

            return request;
        }

        public override string ToString() => $"{Access} {Endpoint.RoutePattern.RawText}";
    }
}

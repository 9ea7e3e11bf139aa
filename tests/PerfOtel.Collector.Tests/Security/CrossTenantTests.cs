using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Exposure.Api;
using PerfOtel.Collector.Security;

namespace PerfOtel.Collector.Tests.Security;

/// <summary>
/// Tenant alpha's keys against tenant bravo's data, on every route the app maps (enumerated from the endpoint data
/// source: a route nobody classified fails the test), through the real host and the real SQLite store.
/// </summary>
public sealed partial class CrossTenantTests : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("perfotel-cross-tenant-").FullName;
    private WebApplicationFactory<Program> _factory = null!;
    private HttpClient _client = null!;

    private static TenantData A => TenantData.Alpha;

    private static TenantData B => TenantData.Bravo;

    public async Task InitializeAsync()
    {
        var settings = TestKeys.Settings();
        settings["Storage:DataDirectory"] = _directory;
        settings["Storage:RetentionDays"] = "0";
        // Budgets for both tenants, so /api/v1/budgets has something of bravo's to leak.
        settings[$"Budgets:Tenants:{A.Tenant}:Agents:{A.Agent}:MonthlyUsd"] = "100";
        settings[$"Budgets:Tenants:{B.Tenant}:Agents:{B.Agent}:MonthlyUsd"] = "100";
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
            builder.ConfigureAppConfiguration((_, configuration) => configuration.AddInMemoryCollection(settings)));
        // Redirects are followed by SendAsync with the same key (as a browser resends its cookie); the test client's
        // own redirect handling would drop the Authorization header.
        _client = _factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

        // Bravo's own data, sent with bravo's key and an admin-forwarded copy of nothing else; alpha's data likewise.
        await PostAsync("/v1/traces", Protobuf(B.Run(claimedTenant: null)), TestKeys.IngestB, HttpStatusCode.OK);
        await PostAsync("/v1/traces", Protobuf(A.Run(claimedTenant: null)), TestKeys.IngestA, HttpStatusCode.OK);
        await PostAsync("/api/v1/feedback", Feedback(B.TraceIdHex, B.InvocationSpanIdHex, "bravo-feedback"), TestKeys.IngestB,
            HttpStatusCode.Accepted);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task EveryRoute_TenantAlphasKeys_NeverReachTenantBravosData()
    {
        var policy = _factory.Services.GetRequiredService<RouteAccessPolicy>();
        var routes = _factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        var unclassified = routes.Where(r => policy.Classify(r) is null).Select(r => r.RoutePattern.RawText).ToList();
        Assert.True(unclassified.Count == 0, "routes not classified in RouteAccessPolicy: " + string.Join(", ", unclassified));

        var checkedRoutes = new List<string>();
        foreach (var route in routes)
        {
            var pattern = route.RoutePattern.RawText!;
            switch (policy.Classify(route))
            {
                case RouteAccess.Open:
                    break;
                case RouteAccess.OtlpIngest:
                    await OtlpWithAlphasKey_ClaimingBravo_StaysAlphasAsync(pattern);
                    break;
                case RouteAccess.RestIngest:
                    await FeedbackWithAlphasKey_NeverAttachesToBravoAsync(pattern);
                    break;
                case RouteAccess.RestRead:
                case RouteAccess.UiRead:
                    await ReadWithAlphasKey_NeverShowsBravoAsync(pattern);
                    break;
                case RouteAccess.AnyKey:
                    // gRPC's UNIMPLEMENTED answers for unknown services or methods: no data of any tenant behind them.
                    Assert.Contains("{unimplementedMethod:grpcunimplemented}", pattern, StringComparison.Ordinal);
                    break;
                case RouteAccess.Scrape:
                    // /metrics carries every tenant's series: no tenant key may scrape it.
                    foreach (var key in new[] { TestKeys.ReadA, TestKeys.IngestA })
                    {
                        using var response = await SendAsync(HttpMethod.Get, pattern, key);
                        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
                    }

                    break;
                default:
                    Assert.Fail($"route {pattern} has no cross-tenant check");
                    break;
            }

            checkedRoutes.Add(pattern);
        }

        // The analytics, cost and export routes are all there: an empty route table would pass vacuously.
        Assert.Contains("/api/v1/executions/export", checkedRoutes);
        Assert.Contains("/api/v1/metrics/agents/{agent}", checkedRoutes);
        Assert.Contains("/api/v1/experiments/{id}", checkedRoutes);
        Assert.Contains("/v1/traces", checkedRoutes);
        Assert.Contains(RunEndpoints.RunRoute, checkedRoutes);
        Assert.Contains(RunEndpoints.CompareRoute, checkedRoutes);
        Assert.Contains(RunEndpoints.JobRoute, checkedRoutes);
        Assert.Contains(PerfOtel.Collector.Exposure.Pages.UiEndpoints.AgentRoute, checkedRoutes);
        Assert.Contains(PerfOtel.Collector.Exposure.Pages.UiEndpoints.RunRoute, checkedRoutes);
        Assert.Contains(PerfOtel.Collector.Exposure.Pages.UiEndpoints.TraceRoute, checkedRoutes);
        Assert.Contains(PerfOtel.Collector.Exposure.Pages.UiEndpoints.ExperimentsRoute, checkedRoutes);
    }

    [Fact]
    public async Task FeedbackOfBravo_WithAlphasTraceSpanOrTaskId_DoesNotAttach()
    {
        var bySpan = await PostAsync("/api/v1/feedback", Feedback(A.TraceIdHex, A.InvocationSpanIdHex, "b-on-a-span"),
            TestKeys.IngestB, HttpStatusCode.Accepted);
        var byTask = await PostAsync("/api/v1/feedback", Feedback(taskId: A.TaskId, feedbackId: "b-on-a-task"),
            TestKeys.IngestB, HttpStatusCode.Accepted);

        Assert.False(bySpan.GetProperty("joined").GetBoolean());
        Assert.False(byTask.GetProperty("joined").GetBoolean());
        var alphas = await StoredAsync(A.Tenant);
        Assert.Null(Assert.Single(alphas).Feedback);

        // The same ids under alpha's own key do attach: the refusal above is the tenant, not the ids.
        var own = await PostAsync("/api/v1/feedback", Feedback(A.TraceIdHex, A.InvocationSpanIdHex, "a-on-a-span"),
            TestKeys.IngestA, HttpStatusCode.Accepted);
        Assert.True(own.GetProperty("joined").GetBoolean());
    }

    [Fact]
    public async Task PendingFeedbackOfBravo_DoesNotAttachWhenAlphasInvocationArrivesLater()
    {
        var late = TenantData.Alpha with { TaskId = "alpha-late-task", TraceNumber = 0x0a02 };
        await PostAsync("/api/v1/feedback", Feedback(taskId: late.TaskId, feedbackId: "b-pending"), TestKeys.IngestB,
            HttpStatusCode.Accepted);

        await PostAsync("/v1/traces", Protobuf(late.Run(claimedTenant: null)), TestKeys.IngestA, HttpStatusCode.OK);

        var stored = (await StoredAsync(A.Tenant)).Single(i => i.Invocation.TaskId == late.TaskId);
        Assert.Null(stored.Feedback);
    }

    [Fact]
    public async Task IdsAlphaSentFirst_DoNotKeepBravosRealSpanOut()
    {
        // Alpha learns the ids of a bravo run (a shared upstream, a leaked log) and sends them first under its own key.
        var real = TenantData.Bravo with { Agent = "bravo-squatted-agent", TaskId = "bravo-squatted-task", TraceNumber = 0x0d01 };
        var squat = real with { Tenant = A.Tenant, Agent = "alpha-squatter-agent", TaskId = "alpha-squatter-task" };
        Assert.Equal(real.TraceIdHex, squat.TraceIdHex);
        await PostAsync("/v1/traces", Protobuf(squat.Run(claimedTenant: null)), TestKeys.IngestA, HttpStatusCode.OK);

        await PostAsync("/v1/traces", Protobuf(real.Run(claimedTenant: null)), TestKeys.IngestB, HttpStatusCode.OK);
        var joined = await PostAsync("/api/v1/feedback", Feedback(real.TraceIdHex, real.InvocationSpanIdHex, "bravo-on-squatted"),
            TestKeys.IngestB, HttpStatusCode.Accepted);

        // Bravo's span is stored as bravo's, with its own chat call rolled up and its own feedback joined.
        var bravos = (await StoredAsync(B.Tenant)).Single(i => i.Invocation.TraceId == real.TraceIdHex);
        Assert.Equal(real.Agent, bravos.Invocation.AgentName);
        Assert.Equal(real.InvocationSpanIdHex, bravos.Invocation.SpanId);
        Assert.Equal(100, bravos.RolledUpTokens.Input);
        Assert.True(joined.GetProperty("joined").GetBoolean());
        Assert.Equal("bravo-on-squatted", bravos.Feedback?.FeedbackId);
        // Alpha keeps its own copy, untouched by bravo's feedback.
        var alphas = (await StoredAsync(A.Tenant)).Single(i => i.Invocation.TraceId == real.TraceIdHex);
        Assert.Equal(squat.Agent, alphas.Invocation.AgentName);
        Assert.Null(alphas.Feedback);

        // And counted: bravo's analytics show the invocation for bravo's agent.
        using var response = await SendAsync(HttpMethod.Get, "/api/v1/metrics/agents", TestKeys.ReadB);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var agent = JsonDocument.Parse(body).RootElement.GetProperty("agents").EnumerateArray()
            .Single(a => a.GetProperty("agent").GetString() == real.Agent);
        Assert.Equal(1, agent.GetProperty("invocations").GetInt64());
        Assert.DoesNotContain(squat.Agent, body, StringComparison.Ordinal);
    }

    private async Task OtlpWithAlphasKey_ClaimingBravo_StaysAlphasAsync(string pattern)
    {
        switch (pattern.TrimStart('/'))
        {
            case Otlp.Support.OtlpGrpcClient.TraceService + "/Export":
                using (var grpc = Otlp.Support.OtlpGrpcClient.InProcess(_factory.Server))
                {
                    var forgedOverGrpc = TenantData.Alpha with { Agent = "forged-grpc-agent", TaskId = "forged-grpc-task", TraceNumber = 0x0c02 };
                    await grpc.ExportAsync(forgedOverGrpc.Run(claimedTenant: B.Tenant), TestKeys.IngestA);
                    Assert.DoesNotContain(await StoredAsync(B.Tenant), i => i.Invocation.TraceId == forgedOverGrpc.TraceIdHex);
                    Assert.Contains(await StoredAsync(A.Tenant), i => i.Invocation.TraceId == forgedOverGrpc.TraceIdHex);
                }

                break;
            case Otlp.Support.OtlpGrpcClient.LogsService + "/Export":
                using (var grpc = Otlp.Support.OtlpGrpcClient.InProcess(_factory.Server))
                {
                    await grpc.ExportAsync(A.Evaluation(claimedTenant: B.Tenant, "forged-grpc-evaluation"), TestKeys.IngestA);
                    var evaluationStore = _factory.Services.GetRequiredService<IExecutionStore>();
                    var stored = new List<EvaluationRecord>();
                    await foreach (var e in evaluationStore.ReadEvaluationsAsync(new InvocationQuery(), CancellationToken.None))
                    {
                        stored.Add(e);
                    }

                    Assert.Equal(A.Tenant, Assert.Single(stored, e => e.Name == "forged-grpc-evaluation").Tenant);
                }

                break;
            case Otlp.Support.OtlpGrpcClient.MetricsService + "/Export":
                using (var grpc = Otlp.Support.OtlpGrpcClient.InProcess(_factory.Server))
                {
                    // Metric points are validated and counted, never stored: there is no tenant data to cross.
                    await grpc.ExportAsync(new OpenTelemetry.Proto.Collector.Metrics.V1.ExportMetricsServiceRequest(), TestKeys.IngestA);
                }

                break;
            case "v1/traces":
                var forged = TenantData.Alpha with { Agent = "forged-agent", TaskId = "forged-task", TraceNumber = 0x0c01 };
                await PostAsync(pattern, Protobuf(forged.Run(claimedTenant: B.Tenant)), TestKeys.IngestA, HttpStatusCode.OK);
                Assert.DoesNotContain(await StoredAsync(B.Tenant), i => i.Invocation.TraceId == forged.TraceIdHex);
                Assert.Contains(await StoredAsync(A.Tenant), i => i.Invocation.TraceId == forged.TraceIdHex);
                break;
            case "v1/logs":
                await PostAsync(pattern, Protobuf(A.Evaluation(claimedTenant: B.Tenant, "forged-evaluation")), TestKeys.IngestA,
                    HttpStatusCode.OK);
                var store = _factory.Services.GetRequiredService<IExecutionStore>();
                var evaluations = new List<EvaluationRecord>();
                await foreach (var e in store.ReadEvaluationsAsync(new InvocationQuery(), CancellationToken.None))
                {
                    evaluations.Add(e);
                }

                Assert.Equal(A.Tenant, Assert.Single(evaluations, e => e.Name == "forged-evaluation").Tenant);
                break;
            default:
                // Metric points are validated and counted, never stored: there is no tenant data to cross.
                await PostAsync(pattern, Protobuf(new OpenTelemetry.Proto.Collector.Metrics.V1.ExportMetricsServiceRequest()),
                    TestKeys.IngestA, HttpStatusCode.OK);
                break;
        }
    }

    private async Task FeedbackWithAlphasKey_NeverAttachesToBravoAsync(string pattern)
    {
        var bySpan = await PostAsync(pattern, Feedback(B.TraceIdHex, B.InvocationSpanIdHex, "a-on-b-span"), TestKeys.IngestA,
            HttpStatusCode.Accepted);
        var byTask = await PostAsync(pattern, Feedback(taskId: B.TaskId, feedbackId: "a-on-b-task"), TestKeys.IngestA,
            HttpStatusCode.Accepted);
        using var named = await SendAsync(HttpMethod.Post, pattern + "?tenant=" + B.Tenant, TestKeys.IngestA,
            Feedback(B.TraceIdHex, B.InvocationSpanIdHex, "a-naming-b"));

        Assert.False(bySpan.GetProperty("joined").GetBoolean());
        Assert.False(byTask.GetProperty("joined").GetBoolean());
        Assert.Equal(HttpStatusCode.Forbidden, named.StatusCode);
        // Bravo's invocation still carries bravo's own feedback, and only that.
        var bravos = Assert.Single(await StoredAsync(B.Tenant));
        Assert.Equal("bravo-feedback", bravos.Feedback?.FeedbackId);
    }

    private async Task ReadWithAlphasKey_NeverShowsBravoAsync(string pattern)
    {
        var path = RouteParameter().Replace(pattern, m => m.Value switch
        {
            "{agent}" => B.Agent,
            "{id}" => B.Experiment,
            "{traceId}" => B.TraceIdHex,
            "{spanId}" => B.InvocationSpanIdHex,
            "{jobId}" => B.JobId,
            _ => throw new InvalidOperationException($"no bravo value for {m.Value} in {pattern}: extend the test"),
        });
        // Routes whose ids travel in the query: bravo's ids there, like a route parameter.
        if (pattern == RunEndpoints.CompareRoute)
        {
            path += $"?a={B.TraceIdHex}/{B.InvocationSpanIdHex}&b={B.TraceIdHex}/{B.InvocationSpanIdHex}";
        }

        var hasParameter = path != pattern;
        var separator = path.Contains('?', StringComparison.Ordinal) ? "&" : "?";

        using (var asAlpha = await SendAsync(HttpMethod.Get, path, TestKeys.ReadA))
        {
            var body = await asAlpha.Content.ReadAsStringAsync();
            if (hasParameter)
            {
                // Bravo's agent or experiment does not exist for alpha.
                Assert.True(asAlpha.StatusCode == HttpStatusCode.NotFound, $"{path} with alpha's key: {(int)asAlpha.StatusCode} {body}");
            }
            else
            {
                Assert.True(asAlpha.StatusCode == HttpStatusCode.OK, $"{path} with alpha's key: {(int)asAlpha.StatusCode} {body}");
                AssertNoBravo(path, body);
            }
        }

        foreach (var query in new[] { separator + "tenant=" + B.Tenant, $"{separator}tenant={A.Tenant}&tenant={B.Tenant}" })
        {
            using var naming = await SendAsync(HttpMethod.Get, path + query, TestKeys.ReadA);
            Assert.True(naming.StatusCode == HttpStatusCode.Forbidden, $"{path}{query} with alpha's key: {(int)naming.StatusCode}");
            // The refusal may repeat the tenant the caller named, and nothing of bravo's beyond it.
            AssertNoBravo(path + query, (await naming.Content.ReadAsStringAsync()).Replace(B.Tenant, "", StringComparison.Ordinal));
        }

        // The same route does serve bravo's data to those entitled: the checks above are not vacuous.
        foreach (var key in new[] { TestKeys.ReadB, TestKeys.Admin })
        {
            using var entitled = await SendAsync(HttpMethod.Get, path + (key == TestKeys.Admin ? separator + "tenant=" + B.Tenant : ""), key);
            var body = await entitled.Content.ReadAsStringAsync();
            Assert.True(entitled.StatusCode == HttpStatusCode.OK, $"{path} for bravo: {(int)entitled.StatusCode} {body}");
            Assert.Contains(B.Markers, body.Contains);
        }
    }

    private static void AssertNoBravo(string path, string body)
    {
        foreach (var marker in B.Markers)
        {
            Assert.False(body.Contains(marker, StringComparison.OrdinalIgnoreCase), $"{path} showed bravo's '{marker}' to alpha: {body}");
        }
    }

    private async Task<List<StoredInvocation>> StoredAsync(string tenant)
    {
        var store = _factory.Services.GetRequiredService<IExecutionStore>();
        var stored = new List<StoredInvocation>();
        await foreach (var invocation in store.ReadInvocationsAsync(new InvocationQuery { Tenant = tenant }, CancellationToken.None))
        {
            stored.Add(invocation);
        }

        return stored;
    }

    private async Task<JsonElement> PostAsync(string path, HttpContent content, string key, HttpStatusCode expected)
    {
        using var response = await SendAsync(HttpMethod.Post, path, key, content);
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.True(response.StatusCode == expected, $"POST {path}: {(int)response.StatusCode} {System.Text.Encoding.UTF8.GetString(body)}");
        return response.Content.Headers.ContentType?.MediaType == "application/json"
            ? JsonDocument.Parse(body).RootElement.Clone()
            : default;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string key, HttpContent? content = null)
    {
        var response = await _client.SendAsync(new HttpRequestMessage(method, path) { Content = content }.With(key));
        for (var hops = 0; hops < 3 && response.StatusCode is HttpStatusCode.Redirect && response.Headers.Location is { } next; hops++)
        {
            // Only redirects within the collector (a trace of one run to its run page).
            Assert.False(next.IsAbsoluteUri, $"{path} redirected off the collector: {next}");
            response.Dispose();
            response = await _client.SendAsync(new HttpRequestMessage(HttpMethod.Get, next).With(key));
        }
        return response;
    }

    private static JsonContent Feedback(string? traceId = null, string? spanId = null, string? feedbackId = null, string? taskId = null) =>
        JsonContent.Create(new Dictionary<string, object?>
        {
            ["traceId"] = traceId, ["spanId"] = spanId, ["taskId"] = taskId, ["feedbackId"] = feedbackId, ["success"] = true,
        }.Where(p => p.Value is not null).ToDictionary());

    [GeneratedRegex("{[^}]+}")]
    private static partial Regex RouteParameter();
}

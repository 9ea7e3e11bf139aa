using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Tests.Cost;

public sealed class CostApiTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 11, 16, 0, 0, 0, TimeSpan.Zero);
    private readonly InMemoryExecutionStore store = new();
    private readonly List<WebApplicationFactory<Program>> factories = [];

    public void Dispose()
    {
        foreach (var factory in factories)
        {
            factory.Dispose();
        }
    }

    /// <summary>The collector's own Program with the store double (seeded before start: the API serves the rebuild).</summary>
    private HttpClient Client(params (string Key, string Value)[] settings)
    {
        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(builder =>
        {
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }
            builder.ConfigureTestServices(services =>
            {
                services.AddSingleton<TimeProvider>(new ManualClock(Now));
                services.AddSingleton<IExecutionStore>(store);
            });
        });
        factories.Add(factory);
        return factory.CreateClient();
    }

    private static async Task<JsonElement> GetJson(HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    private async Task Seed(params object[] records) =>
        await store.WriteAsync(CostRecords.Batch(records), CancellationToken.None);

    [Fact]
    public async Task BudgetsReportSpendLimitUtilisationStatusAndProjection()
    {
        // The clock stands at 16 November 00:00; the calls are at that instant, inside the current day and month.
        await Seed(CostRecords.Call(Now, 8.5, agent: "planner"), CostRecords.Call(Now, 2.0, agent: "writer"));
        var client = Client(
            ("Budgets:Tenants:default:DailyUsd", "10"),
            ("Budgets:Tenants:default:Agents:planner:DailyUsd", "10"),
            ("Budgets:Tenants:default:MonthlyUsd", "1000"));

        var json = await GetJson(client, "/api/v1/budgets");

        Assert.Equal("default", json.GetProperty("tenant").GetString());
        Assert.Equal(0.8, json.GetProperty("warningRatio").GetDouble());
        Assert.Equal(1.0, json.GetProperty("criticalRatio").GetDouble());
        var budgets = json.GetProperty("budgets").EnumerateArray().ToList();
        Assert.Equal(2, budgets.Count);
        Assert.Equal(JsonValueKind.Null, budgets[0].GetProperty("agent").ValueKind);
        // Tenant: 10.5 USD today against 10 -> 1.05 critical; 10.5 month-to-date over 15 of 30 days -> 21 USD projected.
        var tenantDaily = budgets[0].GetProperty("periods").EnumerateArray().Single(p => p.GetProperty("period").GetString() == "daily");
        Assert.Equal(10.5, tenantDaily.GetProperty("spendUsd").GetDouble(), 9);
        Assert.Equal(1.05, tenantDaily.GetProperty("utilization").GetDouble(), 9);
        Assert.Equal("critical", tenantDaily.GetProperty("status").GetString());
        Assert.Equal(21, budgets[0].GetProperty("projectedMonthSpendUsd").GetDouble(), 9);
        var tenantMonthly = budgets[0].GetProperty("periods").EnumerateArray().Single(p => p.GetProperty("period").GetString() == "monthly");
        Assert.Equal("ok", tenantMonthly.GetProperty("status").GetString());
        // Planner: 8.5 of 10 -> 0.85 warning.
        Assert.Equal("planner", budgets[1].GetProperty("agent").GetString());
        var planner = Assert.Single(budgets[1].GetProperty("periods").EnumerateArray());
        Assert.Equal(0.85, planner.GetProperty("utilization").GetDouble(), 9);
        Assert.Equal("warning", planner.GetProperty("status").GetString());
        Assert.Equal(Now, planner.GetProperty("periodStart").GetDateTimeOffset());

        var other = await GetJson(client, "/api/v1/budgets?tenant=acme");
        Assert.Equal("acme", other.GetProperty("tenant").GetString());
        Assert.Empty(other.GetProperty("budgets").EnumerateArray());
    }

    [Fact]
    public async Task CostsAreListedForTheRequestedPeriodAndTenant()
    {
        await Seed(
            CostRecords.Call(Now, 0.75, "gpt-4o", agent: "planner"),
            CostRecords.Call(Now, null, "my-finetune", agent: "planner", unpricedTokens: 300),
            CostRecords.Call(Now, 4, "gpt-4o", tenant: "acme"));
        var client = Client();

        var json = await GetJson(client, "/api/v1/costs?period=hourly");

        Assert.Equal("hourly", json.GetProperty("period").GetString());
        Assert.Equal(0.75, json.GetProperty("costUsd").GetDouble(), 9);
        Assert.Equal(300, json.GetProperty("unpricedTokens").GetInt64());
        Assert.False(json.GetProperty("complete").GetBoolean());
        var rows = json.GetProperty("rows").EnumerateArray().ToList();
        Assert.Equal(["gpt-4o", "my-finetune"], rows.Select(r => r.GetProperty("model").GetString()));
        Assert.Equal(100, rows[0].GetProperty("tokens").GetProperty("input").GetInt64());
        Assert.Equal(4, (await GetJson(client, "/api/v1/costs?tenant=acme")).GetProperty("costUsd").GetDouble(), 9);

        using var bad = await client.GetAsync(new Uri("/api/v1/costs?period=weekly", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("unknown period 'weekly'; expected hourly, daily or monthly", await bad.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ModelsListsStatsPerWindowWithRecommendations()
    {
        // 100 invocations each of one agent (no task type): gpt-4o at 0.10 USD, gpt-4o-mini at 0.03 USD, all successful.
        // 100 of 100 has the Wilson interval [0.963, 1]: the difference's lower limit, -0.037, is within the 0.05 margin
        // (30 of 30 would give -0.114: too few to recommend).
        for (var i = 0; i < 100; i++)
        {
            foreach (var (model, cost) in new[] { ("gpt-4o", 0.10), ("gpt-4o-mini", 0.03) })
            {
                var invocation = CostRecords.Invocation(Now.AddMinutes(-30));
                await Seed(CostRecords.Call(Now.AddMinutes(-30), cost, model, invocationSpanId: invocation.SpanId), invocation);
            }
        }
        var client = Client();

        var json = await GetJson(client, "/api/v1/models?window=1h");

        Assert.Equal("1h", json.GetProperty("window").GetString());
        var models = json.GetProperty("models").EnumerateArray().ToList();
        Assert.Equal(["gpt-4o", "gpt-4o-mini"], models.Select(m => m.GetProperty("model").GetString()));
        Assert.Equal(100, models[0].GetProperty("invocations").GetInt64());
        Assert.Equal(1.0, models[0].GetProperty("successRate").GetDouble());
        Assert.Equal(0.10, models[0].GetProperty("costPerInvocationUsd").GetDouble(), 9);
        Assert.Equal(JsonValueKind.Null, models[0].GetProperty("accuracy").ValueKind);
        var recommendation = Assert.Single(json.GetProperty("recommendations").EnumerateArray());
        Assert.Equal("gpt-4o", recommendation.GetProperty("currentModel").GetString());
        Assert.Equal("gpt-4o-mini", recommendation.GetProperty("recommendedModel").GetString());
        Assert.Equal(0.7, recommendation.GetProperty("savingsRatio").GetDouble(), 9);
        Assert.Equal("planner", recommendation.GetProperty("agent").GetString());
        Assert.Equal("(none)", recommendation.GetProperty("taskType").GetString());
        Assert.Equal(100, recommendation.GetProperty("currentInvocations").GetInt64());
        Assert.Equal(100, recommendation.GetProperty("recommendedInvocations").GetInt64());
        Assert.Equal(1.0, recommendation.GetProperty("recommendedSuccessRate").GetProperty("estimate").GetDouble());
        Assert.Equal(-0.037, recommendation.GetProperty("successRateDifference").GetProperty("lower").GetDouble(), 3);

        using var bad = await client.GetAsync(new Uri("/api/v1/models?window=30d", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("unknown window '30d'; expected 1h or 24h or 7d", await bad.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ExperimentsAreListedAndFoundById_UnknownIdsAre404()
    {
        // 250/1000 successes for b against 200/1000 for a, an experiment not defined in configuration: analysed against
        // the variant with the most invocations (a tie: the first by name, a), without an SRM check.
        for (var i = 0; i < 1000; i++)
        {
            await Seed(
                CostRecords.Invocation(Now.AddDays(-3), i < 200 ? Outcomes.Success : Outcomes.Failure, experiment: "prompt-v2", variant: "a"),
                CostRecords.Invocation(Now.AddDays(-3), i < 250 ? Outcomes.Success : Outcomes.Failure, experiment: "prompt-v2", variant: "b"));
        }
        var client = Client();

        var list = await GetJson(client, "/api/v1/experiments");
        var one = await GetJson(client, "/api/v1/experiments/prompt-v2");

        var listed = Assert.Single(list.GetProperty("experiments").EnumerateArray());
        Assert.Equal(listed.GetRawText(), one.GetRawText());
        Assert.False(one.GetProperty("defined").GetBoolean());
        Assert.False(one.TryGetProperty("pValue", out _));
        var analysis = one.GetProperty("analysis");
        Assert.Equal("a", analysis.GetProperty("control").GetString());
        Assert.Equal(JsonValueKind.Null, analysis.GetProperty("sampleRatio").ValueKind);
        Assert.Equal(["a", "b"], analysis.GetProperty("variants").EnumerateArray().Select(v => v.GetProperty("variant").GetString()));
        var b = analysis.GetProperty("variants")[1].GetProperty("metrics")[0];
        Assert.Equal("success", b.GetProperty("metric").GetString());
        Assert.Equal(0.25, b.GetProperty("estimate").GetProperty("estimate").GetDouble(), 12);
        Assert.Equal(0.05, b.GetProperty("difference").GetProperty("estimate").GetDouble(), 12);

        using var missing = await client.GetAsync(new Uri("/api/v1/experiments/nope", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("no experiment 'nope' for tenant 'default'", await missing.Content.ReadAsStringAsync());
        using var otherTenant = await client.GetAsync(new Uri("/api/v1/experiments/prompt-v2?tenant=acme", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, otherTenant.StatusCode);
    }
}

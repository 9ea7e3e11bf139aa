using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using PerfOtel.Collector.Derived;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Tests.Analytics;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.EndToEnd;

/// <summary>
/// Principle 7, restarts: a collector restarted on its store answers exactly what it answered live, on /metrics (every
/// derived family) and on every REST endpoint, on SQLite and on PostgreSQL. Every derivation the composition root
/// registers must be covered here: a new one that no compared answer shows fails the test until it is added.
/// </summary>
[Collection(RestartCollection.Name)]
public sealed class RestartEqualsLiveTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("perfotel-restart-").FullName;

    // A fixed clock: live and restarted collector see the same "now", so windows and periods line up exactly.
    private static readonly DateTimeOffset Now = new(DateTimeOffset.UtcNow.Ticks / TimeSpan.TicksPerMinute * TimeSpan.TicksPerMinute, TimeSpan.Zero);

    /// <summary>
    /// Where each derivation shows: a /metrics family prefix or a REST path whose live answer must carry data. Keys are
    /// the derivations' names; the test fails when the pipeline has one that is not listed.
    /// </summary>
    private static readonly Dictionary<string, string[]> Evidence = new(StringComparer.Ordinal)
    {
        ["cardinality"] = ["perfotel_collector_cardinality_tracked"],
        ["analytics"] = ["perfotel_agent_window_invocations", "api/v1/metrics/agents?tenant=acme"],
        ["attribution"] = ["api/v1/models?window=24h"],
        ["cost"] = ["perfotel_cost_usd_total", "api/v1/costs?period=monthly"],
        ["budgets"] = ["perfotel_budget_spend_usd", "api/v1/budgets"],
        ["models"] = ["perfotel_model_invocations", "api/v1/models?window=1h"],
        ["experiments"] = ["perfotel_experiment_invocations", "perfotel_experiment_duration_seconds", "api/v1/experiments/checkout"],
    };

    private static readonly string[] RestPaths =
    [
        "api/v1/health", "api/v1/health?tenant=acme", "api/v1/metrics/system", "api/v1/metrics/system?tenant=acme",
        "api/v1/metrics/agents", "api/v1/metrics/agents?tenant=acme", "api/v1/metrics/agents/planner",
        "api/v1/metrics/agents/coder?tenant=acme", "api/v1/alerts", "api/v1/alerts?tenant=acme", "api/v1/report",
        "api/v1/report?tenant=acme", "api/v1/agents/planner/prediction", "api/v1/costs", "api/v1/costs?period=monthly",
        "api/v1/costs?tenant=acme", "api/v1/budgets", "api/v1/budgets?tenant=acme", "api/v1/models",
        "api/v1/models?window=1h", "api/v1/models?window=24h", "api/v1/models?tenant=acme", "api/v1/experiments",
        "api/v1/experiments/checkout", "api/v1/experiments?tenant=acme",
        "api/v1/executions/export?since=2000-01-01T00:00:00Z",
    ];

    [Fact]
    public Task Sqlite_restart_equals_no_restart() => RestartEqualsLiveAsync(new Dictionary<string, string?>
    {
        ["Storage:DataDirectory"] = Path.Combine(directory, "sqlite"),
    });

    /// <summary>
    /// More stored invocations than the invocation facts hold (<c>Cost:AttributionCapacity</c>): live, each run's calls
    /// meet their invocation while it is among the most recent; the replay must bring them together the same way, not
    /// read every call before every invocation (which evicts the early runs' calls before their invocations replay).
    /// </summary>
    [Fact]
    public Task Sqlite_restart_equals_no_restart_beyond_the_invocation_facts_capacity() => RestartEqualsLiveAsync(new Dictionary<string, string?>
    {
        ["Storage:DataDirectory"] = Path.Combine(directory, "sqlite-small"),
        ["Cost:AttributionCapacity"] = "4",
    });

    [Fact]
    public async Task Postgres_restart_equals_no_restart()
    {
        await using var postgres = await PostgresServer.StartAsync();
        await RestartEqualsLiveAsync(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "postgres",
            ["Storage:ConnectionString"] = postgres.ConnectionString,
            ["Storage:DataDirectory"] = Path.Combine(directory, "pg"),
            // Live, every write of two records or more is spread over three transactions (docs/collector/storage.md).
            ["Storage:PostgresWriteConnections"] = "3",
            ["Storage:PostgresWritePartMinRecords"] = "1",
        });
    }

    private static async Task RestartEqualsLiveAsync(Dictionary<string, string?> storage)
    {
        Dictionary<string, string> live;
        await using (var first = new FixedClockCollector(storage))
        {
            Assert.Equal(Evidence.Keys.Order(StringComparer.Ordinal),
                first.Services.GetRequiredService<DerivationPipeline>().Derivations.Select(d => d.Name).Order(StringComparer.Ordinal));
            using var client = first.CreateClient();
            await FeedAsync(client);
            live = await AnswersAsync(first, client);
        }

        foreach (var (name, places) in Evidence)
        {
            foreach (var place in places)
            {
                Assert.True(live.TryGetValue(place, out var answer) && answer.Length > 0 && answer != "[]" && answer != "{}",
                    $"derivation {name}: nothing live at {place}");
            }
        }
        // The experiments' latency histogram is a producer family, not an SDK instrument: it has buckets to compare.
        Assert.Contains("perfotel_experiment_duration_seconds_bucket{", live["perfotel_experiment_duration_seconds"], StringComparison.Ordinal);

        await using var restarted = new FixedClockCollector(storage);
        using var again = restarted.CreateClient();
        var replayed = await AnswersAsync(restarted, again);
        foreach (var (place, answer) in live)
        {
            Assert.True(replayed.TryGetValue(place, out var after), $"{place} missing after the restart");
            if (answer != after)
            {
                var at = answer.Zip(after).TakeWhile(p => p.First == p.Second).Count();
                var from = Math.Max(0, at - 200);
                Assert.Fail($"{place} differs after the restart at {at}:\nlive:      {answer[from..Math.Min(answer.Length, at + 80)]}\nrestarted: {after[from..Math.Min(after.Length, at + 80)]}");
            }
        }
        Assert.Equal(live.Count, replayed.Count);
    }

    /// <summary>
    /// Two tenants, two agents, an experiment, a priced and an unpriced model, tools, accuracy evaluations; feedback
    /// for some invocations after them and for one before it (joined when it arrives).
    /// </summary>
    private static async Task FeedAsync(HttpClient client)
    {
        await PostFeedbackAsync(client, Trace(0), Span(0, 0), success: false, "default");
        for (var i = 0; i < 24; i++)
        {
            var tenant = i % 3 == 0 ? "acme" : "default";
            var agent = i % 2 == 0 ? "planner" : "coder";
            var start = Now.AddMinutes(-80 + (3 * i));
            using var content = new StringContent(TraceJson(i, tenant, agent, start), Encoding.UTF8, "application/json");
            using var response = await client.PostAsync("v1/traces", content);
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            if (i % 4 == 1)
            {
                await PostFeedbackAsync(client, Trace(i), Span(i, 0), success: i % 8 == 1, tenant);
            }
        }

        // Attribution state across the restart: trace 24's spans come one request each, calls first (held, then
        // attributed when the agent arrives); trace 25's agent never comes, so its call and tool call are still held
        // when the collector stops, and must be held (not counted agent-less) after it restarts too.
        foreach (var (i, children) in new[] { (24, new[] { 1, 2, 0 }), (25, new[] { 1, 2 }) })
        {
            var start = Now.AddMinutes(-10 + i - 24);
            foreach (var child in children)
            {
                var json = TraceJson(i, "default", "planner", start);
                using var content = new StringContent(OneSpan(json, Span(i, child)), Encoding.UTF8, "application/json");
                using var response = await client.PostAsync("v1/traces", content);
                Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            }
        }
    }

    /// <summary>The request <paramref name="json"/> with only the span <paramref name="spanId"/> left.</summary>
    private static string OneSpan(string json, string spanId)
    {
        var root = System.Text.Json.Nodes.JsonNode.Parse(json)!;
        var spans = root["resourceSpans"]![0]!["scopeSpans"]![0]!["spans"]!.AsArray();
        foreach (var span in spans.ToList())
        {
            if ((string?)span!["spanId"] != spanId)
            {
                spans.Remove(span);
            }
        }
        return root.ToJsonString();
    }

    private static async Task PostFeedbackAsync(HttpClient client, string traceId, string spanId, bool success, string tenant)
    {
        var body = $$$"""{"traceId":"{{{traceId}}}","spanId":"{{{spanId}}}","success":{{{(success ? "true" : "false")}}},"feedbackId":"fb-{{{spanId}}}","predicted":{"total":90},"actual":{"total":100}}""";
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync($"api/v1/feedback?tenant={tenant}", content);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
    }

    private static async Task<Dictionary<string, string>> AnswersAsync(WebApplicationFactory<Program> collector, HttpClient client)
    {
        // Scrapes may serve the background refresher's encoding for up to two intervals: bring it up to date first.
        collector.Services.GetRequiredService<AnalyticsExposition>().Refresh();
        var answers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in RestPaths)
        {
            using var response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            answers[path] = await response.Content.ReadAsStringAsync();
        }
        using var request = new HttpRequestMessage(HttpMethod.Get, "metrics");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/plain"));
        using var scrape = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        foreach (var (family, text) in DerivedFamilies(await scrape.Content.ReadAsStringAsync()))
        {
            answers[family] = text;
        }
        return answers;
    }

    /// <summary>
    /// The derived families of a scrape (every perfotel_ family but the collector's own ingest self-metrics; the
    /// cardinality guard's are derived), each as its text block. The SDK writes series in the order it first saw them,
    /// which differs between live commits and the replay; Prometheus does not care, so samples are compared sorted.
    /// </summary>
    internal static Dictionary<string, string> DerivedFamilies(string exposition)
    {
        var families = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var line in exposition.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.StartsWith('#') ? line.Split(' ')[2] : line[..line.IndexOfAny(['{', ' '])];
            if (!name.StartsWith("perfotel_", StringComparison.Ordinal) ||
                (name.StartsWith("perfotel_collector_", StringComparison.Ordinal) && !name.StartsWith("perfotel_collector_cardinality_", StringComparison.Ordinal)))
            {
                continue;
            }
            var family = line.StartsWith('#') ? name : FamilyOf(name);
            if (!families.TryGetValue(family, out var lines))
            {
                families[family] = lines = [];
            }
            lines.Add(line);
        }
        return families.ToDictionary(f => f.Key, f => string.Join('\n', f.Value.Where(l => l.StartsWith('#')).Concat(
            f.Value.Where(l => !l.StartsWith('#')).Order(StringComparer.Ordinal))), StringComparer.Ordinal);
    }

    private static string FamilyOf(string sample)
    {
        foreach (var suffix in new[] { "_bucket", "_sum", "_count" })
        {
            if (sample.EndsWith(suffix, StringComparison.Ordinal))
            {
                return sample[..^suffix.Length];
            }
        }
        return sample;
    }

    internal static string Trace(int i) => (i + 1).ToString("x32", CultureInfo.InvariantCulture);

    internal static string Span(int i, int child) => ((i * 16) + child + 1).ToString("x16", CultureInfo.InvariantCulture);

    private static string Nanos(DateTimeOffset time) =>
        ((time.ToUnixTimeMilliseconds() * 1_000_000L) + (time.Ticks % TimeSpan.TicksPerMillisecond * 100)).ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// invoke_agent (root) -> chat (priced, or an unpriced model), -> execute_tool; an accuracy event on some; every
    /// fourth run sampled one in four (tracestate ot=th:c).
    /// </summary>
    private static string TraceJson(int i, string tenant, string agent, DateTimeOffset start)
    {
        var model = i % 5 == 4 ? "house-model-x" : (i % 2 == 0 ? "gpt-4o" : "gpt-4o-mini");
        var cost = model == "house-model-x" ? string.Empty
            : $",{{\"key\":\"perfotel.cost.usd\",\"value\":{{\"doubleValue\":{(0.01 * (i + 1)).ToString("R", CultureInfo.InvariantCulture)}}}}}";
        var outcome = i % 7 == 3 ? "failure" : "success";
        // Some runs sampled one in four: their adjusted count must survive the store and the replay.
        var traceState = i % 4 == 2 ? "\"traceState\":\"ot=th:c\"," : string.Empty;
        var confidence = (0.5 + (i % 4 * 0.1)).ToString("R", CultureInfo.InvariantCulture);
        var experiment = i % 2 == 0
            ? $",{{\"key\":\"perfotel.experiment\",\"value\":{{\"stringValue\":\"checkout\"}}}},{{\"key\":\"perfotel.variant\",\"value\":{{\"stringValue\":\"{(i % 4 == 0 ? "a" : "b")}\"}}}}"
            : string.Empty;
        // A quality score on most runs, so the quality families are compared too.
        var quality = i % 6 == 5 ? string.Empty
            : $",{{\"key\":\"perfotel.quality\",\"value\":{{\"doubleValue\":{(0.4 + (i % 6 * 0.1)).ToString("R", CultureInfo.InvariantCulture)}}}}}";
        var evaluation = i % 3 == 1
            ? $",\"events\":[{{\"timeUnixNano\":\"{Nanos(start.AddSeconds(9))}\",\"name\":\"gen_ai.evaluation.result\",\"attributes\":[{{\"key\":\"gen_ai.evaluation.name\",\"value\":{{\"stringValue\":\"accuracy\"}}}},{{\"key\":\"gen_ai.evaluation.score.value\",\"value\":{{\"doubleValue\":{(0.5 + (i % 5 * 0.1)).ToString("R", CultureInfo.InvariantCulture)}}}}}]}}]"
            : string.Empty;
        return $$$"""
            {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}},{"key":"perfotel.tenant","value":{"stringValue":"{{{tenant}}}"}}]},
             "scopeSpans":[{"scope":{"name":"test"},"spans":[
              {"traceId":"{{{Trace(i)}}}",{{{traceState}}}"spanId":"{{{Span(i, 0)}}}","name":"invoke_agent {{{agent}}}","kind":1,
               "startTimeUnixNano":"{{{Nanos(start)}}}","endTimeUnixNano":"{{{Nanos(start.AddSeconds(10))}}}",
               "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"invoke_agent"}},{"key":"gen_ai.agent.name","value":{"stringValue":"{{{agent}}}"}},
                 {"key":"perfotel.outcome","value":{"stringValue":"{{{outcome}}}"}},{"key":"perfotel.confidence","value":{"doubleValue":{{{confidence}}}}},
                 {"key":"perfotel.task.id","value":{"stringValue":"task-{{{i}}}"}}{{{experiment}}}{{{quality}}}]{{{evaluation}}}},
              {"traceId":"{{{Trace(i)}}}",{{{traceState}}}"spanId":"{{{Span(i, 1)}}}","parentSpanId":"{{{Span(i, 0)}}}","name":"chat {{{model}}}","kind":3,
               "startTimeUnixNano":"{{{Nanos(start.AddSeconds(1))}}}","endTimeUnixNano":"{{{Nanos(start.AddSeconds(4))}}}",
               "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},{"key":"gen_ai.provider.name","value":{"stringValue":"openai"}},
                 {"key":"gen_ai.request.model","value":{"stringValue":"{{{model}}}"}},{"key":"gen_ai.usage.input_tokens","value":{"intValue":"{{{100 + i}}}"}},
                 {"key":"gen_ai.usage.output_tokens","value":{"intValue":"{{{20 + i}}}"}}{{{cost}}}]},
              {"traceId":"{{{Trace(i)}}}",{{{traceState}}}"spanId":"{{{Span(i, 2)}}}","parentSpanId":"{{{Span(i, 0)}}}","name":"execute_tool search","kind":1,
               "startTimeUnixNano":"{{{Nanos(start.AddSeconds(5))}}}","endTimeUnixNano":"{{{Nanos(start.AddSeconds(6))}}}",
               "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"execute_tool"}},{"key":"gen_ai.tool.name","value":{"stringValue":"search"}}]}
             ]}]}]}
            """;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>The collector as Program builds it, on the given store, with a clock that stands still at <see cref="Now"/>.</summary>
    private sealed class FixedClockCollector(Dictionary<string, string?> settings) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }
            builder.UseSetting("Storage:RetentionDays", "0");
            builder.UseSetting("Budgets:Tenants:default:DailyUsd", "0.5");
            builder.UseSetting("Budgets:Tenants:default:Agents:planner:HourlyUsd", "0.1");
            builder.UseSetting("Budgets:Tenants:acme:MonthlyUsd", "10");
            builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(new ManualTimeProvider(Now)));
        }
    }
}

/// <summary>The restart tests start whole collectors (one of them on its own PostgreSQL): alone, not beside the others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RestartCollection
{
    public const string Name = "Restart equals live";
}

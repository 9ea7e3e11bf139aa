using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Tests.Analytics;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.EndToEnd;

/// <summary>
/// Principle 7, export batching: a call, tool call or evaluation is attributed to its nearest invoke_agent ancestor
/// whatever request brought it, its ancestor or any span in between, in any order. Realistic traces (an HTTP root, an
/// agent with chat calls, Semantic Kernel's execute_tool around a chat call, Microsoft.Extensions.AI's
/// orchestrate_tools, an evaluation, a nested agent, a call outside any agent) are sent with every span in its own
/// request, in every order (all 24 for the small trace, a seeded sample for the ten-span one), to one collector; each
/// trace whole in one request to another. Every stored roll-up (export, invocation list), every REST answer
/// (analytics, cost, models, experiments, runs) and every derived /metrics sample must be equal, on SQLite and on
/// PostgreSQL, and again after the split collector restarts on its store. The agents are in an experiment, so an
/// experiment variant's cost per invocation and serving model count every call attributed to its invocations,
/// including calls that came before or after them (issue 13).
/// </summary>
[Collection(RestartCollection.Name)]
public sealed class ArrivalOrderTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(DateTimeOffset.UtcNow.Ticks / TimeSpan.TicksPerMinute * TimeSpan.TicksPerMinute, TimeSpan.Zero);

    private readonly string directory = Directory.CreateTempSubdirectory("perfotel-arrival-").FullName;

    private static readonly string[] RestPaths =
    [
        "api/v1/metrics/agents?tenant=acme", "api/v1/metrics/agents/planner?tenant=acme",
        "api/v1/metrics/agents/coder?tenant=acme", "api/v1/metrics/system?tenant=acme", "api/v1/report?tenant=acme",
        "api/v1/costs?tenant=acme", "api/v1/models?tenant=acme", "api/v1/models?tenant=acme&window=24h",
        "api/v1/invocations?tenant=acme&limit=500", "api/v1/executions/export?tenant=acme&since=2000-01-01T00:00:00Z",
        "api/v1/experiments?tenant=acme",
    ];

    // Costs, confidences and scores are binary fractions: their sums are exact in any order, so what is compared is
    // attribution, not the rounding of floating-point additions done in a different order.

    /// <summary>HTTP root -> invoke_agent planner -> orchestrate_tools (MEAI) -> chat with an accuracy evaluation.</summary>
    private static readonly TestSpan[] Small =
    [
        new(0, null, "POST /ask", 0, 20, ""),
        new(1, 0, "invoke_agent planner", 1, 19, Agent("planner", "success", 0.75, "fast")),
        new(2, 1, "orchestrate_tools", 2, 10, ""),
        new(3, 2, "chat gpt-4o", 3, 6, Chat("gpt-4o", 120, 30, 0.015625), Evaluation(0.875)),
    ];

    /// <summary>
    /// The small trace's shape plus a direct chat call, Semantic Kernel's execute_tool around a chat call, an unpriced
    /// model, a nested agent under the tool, and a call outside any agent (under the HTTP root).
    /// </summary>
    private static readonly TestSpan[] Large =
    [
        new(0, null, "POST /ask", 0, 60, ""),
        new(1, 0, "invoke_agent planner", 1, 58, Agent("planner", "failure", 0.625, "fast")),
        new(2, 1, "chat gpt-4o", 2, 5, Chat("gpt-4o", 200, 40, 0.03125)),
        new(3, 1, "execute_tool search", 6, 30, Tool("search")),
        new(4, 3, "chat gpt-4o-mini", 7, 9, Chat("gpt-4o-mini", 300, 50, 0.0078125)),
        new(5, 1, "orchestrate_tools", 31, 50, ""),
        new(6, 5, "chat house-model-x", 32, 40, Chat("house-model-x", 400, 60, null), Evaluation(0.625)),
        new(7, 3, "invoke_agent coder", 10, 28, Agent("coder", "success", 0.875, "thorough")),
        new(8, 7, "chat gpt-4o", 11, 20, Chat("gpt-4o", 500, 70, 0.0625)),
        new(9, 0, "chat gpt-4o-mini", 52, 55, Chat("gpt-4o-mini", 10, 5, 0.00390625)),
    ];

    [Fact]
    public Task Sqlite_every_arrival_order_equals_one_request() => EveryOrderEqualsOneRequestAsync(name => new Dictionary<string, string?>
    {
        ["Storage:DataDirectory"] = Path.Combine(directory, name),
    });

    [Fact]
    public async Task Postgres_every_arrival_order_equals_one_request()
    {
        await using var split = await PostgresServer.StartAsync();
        await using var whole = await PostgresServer.StartAsync();
        await EveryOrderEqualsOneRequestAsync(name => new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "postgres",
            ["Storage:ConnectionString"] = name == "split" ? split.ConnectionString : whole.ConnectionString,
            ["Storage:DataDirectory"] = Path.Combine(directory, name),
            // The split arrival also has every write of two records or more spread over three transactions; the one
            // request is written in one (docs/collector/storage.md, "Parallel writes").
            ["Storage:PostgresWriteConnections"] = name == "split" ? "3" : "1",
            ["Storage:PostgresWritePartMinRecords"] = "1",
        });
    }

    [Fact]
    public async Task A_call_whose_agent_arrives_after_the_horizon_counts_without_an_agent_and_as_late()
    {
        var clock = new ManualTimeProvider(Now);
        await using var collector = new ClockedCollector(new Dictionary<string, string?>
        {
            ["Storage:DataDirectory"] = Path.Combine(directory, "horizon"),
            ["Ingest:AttributionHorizon"] = "00:15:00",
        }, clock);
        using var client = collector.CreateClient();
        var trace = TraceId(900);

        // The call (with its evaluation) and MEAI's orchestrate_tools span above it: held, counted nowhere yet.
        await PostAsync(client, Json(trace, Small.Where(s => s.Index is 2 or 3)));
        var held = await ScrapeAsync(collector, client);
        Assert.Matches(Sample("perfotel_collector_attribution_pending", "2"), held);
        Assert.DoesNotContain("perfotel_cost_usd_total{", held, StringComparison.Ordinal);

        // Sixteen minutes later its agent arrives: the call was released without an agent first, and its late
        // resolution is counted; the agent's own series gets no tokens from it.
        clock.Advance(TimeSpan.FromMinutes(16));
        await PostAsync(client, Json(trace, Small.Where(s => s.Index is 0 or 1)));
        var after = await ScrapeAsync(collector, client);
        Assert.Matches(Sample("perfotel_collector_attribution_pending", "0"), after);
        Assert.Matches(Sample("perfotel_collector_attribution_expired_total", "2"), after);
        Assert.Matches(Sample("perfotel_collector_attribution_late_total", "1"), after);
        Assert.DoesNotMatch(Sample("perfotel_collector_attribution_resolved_total", "[1-9]"), after);
        var costs = after.Split('\n').Where(l => l.StartsWith("perfotel_cost_usd_total{", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(costs);
        Assert.All(costs, line => Assert.DoesNotContain("agent=\"planner\"", line, StringComparison.Ordinal));

        // Within the horizon the same shape is attributed and counted once, on its agent.
        var timely = TraceId(901);
        await PostAsync(client, Json(timely, Small.Where(s => s.Index is 2 or 3)));
        clock.Advance(TimeSpan.FromMinutes(14));
        await PostAsync(client, Json(timely, Small.Where(s => s.Index is 0 or 1)));
        var resolved = await ScrapeAsync(collector, client);
        Assert.Matches(Sample("perfotel_collector_attribution_resolved_total", "2"), resolved);
        Assert.Matches(Sample("perfotel_collector_attribution_late_total", "1"), resolved);
        Assert.Contains(resolved.Split('\n'), l => l.StartsWith("perfotel_cost_usd_total{", StringComparison.Ordinal) && l.Contains("agent=\"planner\"", StringComparison.Ordinal));
    }

    private async Task EveryOrderEqualsOneRequestAsync(Func<string, Dictionary<string, string?>> storage)
    {
        var traces = new List<(string TraceId, TestSpan[] Spans, int[] Order)>();
        var copy = 0;
        foreach (var order in Permutations(Small.Length))
        {
            traces.Add((TraceId(copy++), Small, order));
        }
        var random = new Random(1313);
        for (var i = 0; i < 16; i++)
        {
            var order = Enumerable.Range(0, Large.Length).ToArray();
            random.Shuffle(order);
            traces.Add((TraceId(copy++), Large, order));
        }

        Dictionary<string, string> whole;
        await using (var collector = new ClockedCollector(storage("whole"), new ManualTimeProvider(Now)))
        {
            using var client = collector.CreateClient();
            foreach (var (traceId, spans, _) in traces)
            {
                await PostAsync(client, Json(traceId, spans));
            }
            whole = await AnswersAsync(collector, client);
        }

        Dictionary<string, string> split;
        await using (var collector = new ClockedCollector(storage("split"), new ManualTimeProvider(Now)))
        {
            using var client = collector.CreateClient();
            foreach (var (traceId, spans, order) in traces)
            {
                foreach (var index in order)
                {
                    await PostAsync(client, Json(traceId, [spans[index]]));
                }
            }
            split = await AnswersAsync(collector, client);
            Assert.Matches(Sample("perfotel_collector_attribution_pending", "0"), await ScrapeAsync(collector, client));
        }

        Dictionary<string, string> restarted;
        await using (var collector = new ClockedCollector(storage("split"), new ManualTimeProvider(Now)))
        {
            using var client = collector.CreateClient();
            restarted = await AnswersAsync(collector, client);
        }

        // The answers carry data: the planner's calls (and the nested coder's) are counted on their agents.
        Assert.Contains("\"planner\"", whole["api/v1/metrics/agents?tenant=acme"], StringComparison.Ordinal);
        Assert.Contains("\"coder\"", whole["api/v1/metrics/agents?tenant=acme"], StringComparison.Ordinal);
        Assert.Contains(whole.Keys, k => k == "perfotel_cost_usd_total");
        // The experiment's cost: every small trace's planner (variant fast) cost its one call, 1/64 USD, whatever the
        // order (the large trace's planner has an unpriced call, so no known cost); the nested coder (thorough) 1/16 USD.
        var fastInvocations = Permutations(Small.Length).Count();
        // (The comparison keys a family by its samples' name less _bucket, _sum or _count: perfotel_experiment_sum's samples
        // are under perfotel_experiment.)
        Assert.Contains(whole["perfotel_experiment"].Split('\n'), line => ExperimentSample("perfotel_experiment_sum", "fast", "cost")(line) &&
            line.EndsWith(" " + (fastInvocations / 64.0).ToString("R", CultureInfo.InvariantCulture), StringComparison.Ordinal));
        Assert.Contains(whole["perfotel_experiment_samples"].Split('\n'), line => ExperimentSample("perfotel_experiment_samples", "fast", "cost")(line) &&
            line.EndsWith(" " + fastInvocations.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));
        Assert.Contains("\"servedBy\":{\"provider\":\"openai\",\"model\":\"gpt-4o\",\"invocations\":16}", whole["api/v1/experiments?tenant=acme"], StringComparison.Ordinal);
        foreach (var (place, answer) in whole)
        {
            Assert.True(split.TryGetValue(place, out var other), $"{place} missing when every span came alone");
            Assert.Equal(answer, other);
            Assert.True(restarted.TryGetValue(place, out var replayed), $"{place} missing after the restart");
            Assert.Equal(answer, replayed);
        }
        Assert.Equal(whole.Count, split.Count);
        Assert.Equal(whole.Count, restarted.Count);
    }

    /// <summary>The lines of an experiment family's series of one variant and metric.</summary>
    private static Func<string, bool> ExperimentSample(string family, string variant, string metric) => line =>
        line.StartsWith(family + "{", StringComparison.Ordinal) && line.Contains($"variant=\"{variant}\"", StringComparison.Ordinal) &&
        line.Contains($"metric=\"{metric}\"", StringComparison.Ordinal);

    /// <summary>A sample of the metric (whatever its scope labels) with the value.</summary>
    private static string Sample(string metric, string value) => $"(?m)^{metric}(\\{{[^}}]*\\}})? {value}$";

    private static IEnumerable<int[]> Permutations(int count)
    {
        var items = Enumerable.Range(0, count).ToArray();
        return Permute(items, 0);

        static IEnumerable<int[]> Permute(int[] items, int from)
        {
            if (from == items.Length)
            {
                yield return (int[])items.Clone();
                yield break;
            }
            for (var i = from; i < items.Length; i++)
            {
                (items[from], items[i]) = (items[i], items[from]);
                foreach (var permutation in Permute(items, from + 1))
                {
                    yield return permutation;
                }
                (items[from], items[i]) = (items[i], items[from]);
            }
        }
    }

    private static async Task<Dictionary<string, string>> AnswersAsync(WebApplicationFactory<Program> collector, HttpClient client)
    {
        var answers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in RestPaths)
        {
            using var response = await client.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, path + ": " + await response.Content.ReadAsStringAsync());
            answers[path] = await response.Content.ReadAsStringAsync();
        }
        foreach (var (family, text) in RestartEqualsLiveTests.DerivedFamilies(await ScrapeAsync(collector, client)))
        {
            answers[family] = text;
        }
        return answers;
    }

    private static async Task<string> ScrapeAsync(WebApplicationFactory<Program> collector, HttpClient client)
    {
        // Scrapes may serve the background refresher's encoding for up to two intervals: bring it up to date first.
        collector.Services.GetRequiredService<AnalyticsExposition>().Refresh();
        using var request = new HttpRequestMessage(HttpMethod.Get, "metrics");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/plain"));
        using var scrape = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
        return await scrape.Content.ReadAsStringAsync();
    }

    private static async Task PostAsync(HttpClient client, string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync("v1/traces", content);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private static string TraceId(int copy) => (copy + 0x5000).ToString("x32", CultureInfo.InvariantCulture);

    private static string SpanId(string traceId, int index) =>
        (int.Parse(traceId[^6..], NumberStyles.HexNumber, CultureInfo.InvariantCulture) * 16 + index + 1).ToString("x16", CultureInfo.InvariantCulture);

    private static string Nanos(DateTimeOffset time) =>
        (time.ToUnixTimeMilliseconds() * 1_000_000L).ToString(CultureInfo.InvariantCulture);

    private static string Json(string traceId, IEnumerable<TestSpan> spans)
    {
        var start = Now.AddMinutes(-30);
        var body = string.Join(",", spans.Select(s =>
        {
            var parent = s.Parent is { } p ? $",\"parentSpanId\":\"{SpanId(traceId, p)}\"" : string.Empty;
            var events = s.Events.Length > 0 ? $",\"events\":[{s.Events.Replace("$TIME", Nanos(start.AddSeconds(s.End)), StringComparison.Ordinal)}]" : string.Empty;
            return $$$"""
                {"traceId":"{{{traceId}}}","spanId":"{{{SpanId(traceId, s.Index)}}}"{{{parent}}},"name":"{{{s.Name}}}","kind":1,
                 "startTimeUnixNano":"{{{Nanos(start.AddSeconds(s.Start))}}}","endTimeUnixNano":"{{{Nanos(start.AddSeconds(s.End))}}}",
                 "attributes":[{{{s.Attributes}}}]{{{events}}}}
                """;
        }));
        return $$$"""
            {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}},{"key":"perfotel.tenant","value":{"stringValue":"acme"}}]},
             "scopeSpans":[{"scope":{"name":"test"},"spans":[{{{body}}}]}]}]}
            """;
    }

    private static string Agent(string name, string outcome, double confidence, string variant) =>
        $"{{\"key\":\"gen_ai.operation.name\",\"value\":{{\"stringValue\":\"invoke_agent\"}}}},{{\"key\":\"gen_ai.agent.name\",\"value\":{{\"stringValue\":\"{name}\"}}}}," +
        $"{{\"key\":\"perfotel.outcome\",\"value\":{{\"stringValue\":\"{outcome}\"}}}},{{\"key\":\"perfotel.confidence\",\"value\":{{\"doubleValue\":{confidence.ToString("R", CultureInfo.InvariantCulture)}}}}}," +
        $"{{\"key\":\"perfotel.experiment\",\"value\":{{\"stringValue\":\"model-swap\"}}}},{{\"key\":\"perfotel.variant\",\"value\":{{\"stringValue\":\"{variant}\"}}}}";

    private static string Chat(string model, int input, int output, double? cost) =>
        $"{{\"key\":\"gen_ai.operation.name\",\"value\":{{\"stringValue\":\"chat\"}}}},{{\"key\":\"gen_ai.provider.name\",\"value\":{{\"stringValue\":\"openai\"}}}}," +
        $"{{\"key\":\"gen_ai.request.model\",\"value\":{{\"stringValue\":\"{model}\"}}}},{{\"key\":\"gen_ai.usage.input_tokens\",\"value\":{{\"intValue\":\"{input}\"}}}}," +
        $"{{\"key\":\"gen_ai.usage.output_tokens\",\"value\":{{\"intValue\":\"{output}\"}}}}" +
        (cost is { } usd ? $",{{\"key\":\"perfotel.cost.usd\",\"value\":{{\"doubleValue\":{usd.ToString("R", CultureInfo.InvariantCulture)}}}}}" : string.Empty);

    private static string Tool(string name) =>
        $"{{\"key\":\"gen_ai.operation.name\",\"value\":{{\"stringValue\":\"execute_tool\"}}}},{{\"key\":\"gen_ai.tool.name\",\"value\":{{\"stringValue\":\"{name}\"}}}}";

    private static string Evaluation(double score) =>
        $"{{\"timeUnixNano\":\"$TIME\",\"name\":\"gen_ai.evaluation.result\",\"attributes\":[{{\"key\":\"gen_ai.evaluation.name\",\"value\":{{\"stringValue\":\"accuracy\"}}}}," +
        $"{{\"key\":\"gen_ai.evaluation.score.value\",\"value\":{{\"doubleValue\":{score.ToString("R", CultureInfo.InvariantCulture)}}}}}]}}";

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

    private sealed record TestSpan(int Index, int? Parent, string Name, int Start, int End, string Attributes, string Events = "");

    /// <summary>The collector as Program builds it, on the given store, with a clock the test moves.</summary>
    private sealed class ClockedCollector(Dictionary<string, string?> settings, ManualTimeProvider clock) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }
            builder.UseSetting("Storage:RetentionDays", "0");
            // Scrapes right after one another must each see the commit in between, not the exporter's cached encoding.
            builder.UseSetting("Metrics:Exporter:ScrapeResponseCacheDuration", "00:00:00");
            builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(clock));
        }
    }
}

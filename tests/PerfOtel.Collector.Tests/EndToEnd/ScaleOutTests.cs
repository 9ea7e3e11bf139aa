using System.Globalization;
using System.Net;
using System.Text;
using PerfOtel.Testing;
using static PerfOtel.Collector.Tests.EndToEnd.OtlpJsonSpans;

namespace PerfOtel.Collector.Tests.EndToEnd;

/// <summary>
/// Principle 7 across replicas (docs/collector/scale-out.md): two collector processes on one real PostgreSQL, each fed
/// half of the data, scraped by a real Prometheus, give through the documented PromQL (<c>sum without (instance, job)</c>
/// for the derived series, <c>max without (instance, job)</c> for budgets) exactly what one collector fed all of it
/// exposes: from the start, after restarting the follower, after SIGKILL of the leader (the other takes over), after a
/// graceful restart of the new leader, with feedback sent to the replica that did not receive its invocation, with
/// budgets configured, and with half of the runs' provider calls sent to one replica and their invoke_agent spans to the
/// other (a load balancer spreading one trace's export requests), where one collector gets each run in one request;
/// and with fewer invocation facts held (<c>Cost:AttributionCapacity</c>) than the store has runs when a leader takes
/// over.
/// </summary>
[Collection(ProcessTests.Name)]
public sealed class ScaleOutTests : IDisposable
{
    private static readonly Dictionary<string, string> Budgets = new()
    {
        ["Budgets:Tenants:default:DailyUsd"] = "50",
        ["Budgets:Tenants:default:Agents:alpha:MonthlyUsd"] = "100",
        // Fewer invocation facts than the store ends up with (160 runs): a leader that takes over reads the whole store,
        // and must bring each run's calls and invocation together as the single collector saw them live.
        ["Cost:AttributionCapacity"] = "100",
    };

    // Derived families compared, with the documented aggregation over the replicas. Only the 1h and 24h windows: no
    // bucket of theirs expires during the test, so the single collector and the replicas hold the same records.
    private static readonly (string Family, string Aggregation)[] Families =
    [
        ("perfotel_agent_window_invocations", "sum"),
        ("perfotel_agent_window_cost_usd", "sum"),
        ("perfotel_agent_window_tokens", "sum"),
        ("perfotel_agent_accuracy_sum", "sum"),
        ("perfotel_agent_accuracy_samples", "sum"),
        ("perfotel_agent_quality_sum", "sum"),
        ("perfotel_agent_quality_samples", "sum"),
        ("perfotel_agent_calibration_bin_samples", "sum"),
        ("perfotel_agent_calibration_bin_successes", "sum"),
        ("perfotel_agent_calibration_bin_confidence_sum", "sum"),
        ("perfotel_cost_usd_total", "sum"),
        ("perfotel_cost_calls_total", "sum"),
        ("perfotel_model_invocations", "sum"),
        ("perfotel_budget_spend_usd", "max"),
        ("perfotel_budget_limit_usd", "max"),
    ];

    private readonly string directory = Directory.CreateTempSubdirectory("perfotel-scaleout-").FullName;

    [Fact]
    public async Task DocumentedPromQlOverReplicasOnOnePostgres_EqualsOneCollector_ThroughRestartsAndTakeOver()
    {
        var runs = Enumerable.Range(0, 4).Select(phase => Runs(phase, 40)).ToList();

        await using var postgres = await PostgresServer.StartAsync();
        var shared = new Dictionary<string, string>(Budgets)
        {
            ["Storage:Provider"] = "postgres",
            ["Storage:ConnectionString"] = postgres.ConnectionString,
            ["Derivation:TailInterval"] = "00:00:00.500",
            ["Derivation:LeaderRetryInterval"] = "00:00:01",
            // Every write of two records or more spread over three connections (docs/collector/storage.md, "Parallel
            // writes"): the leader must skip each of its own transactions when it reads the store back.
            ["Storage:PostgresWriteConnections"] = "3",
            ["Storage:PostgresWritePartMinRecords"] = "1",
        };
        await using var whole = await CollectorProcess.StartAsync(Path.Combine(directory, "whole"), Budgets);
        var a = await CollectorProcess.StartAsync(Path.Combine(directory, "a"), shared);
        var b = await CollectorProcess.StartAsync(Path.Combine(directory, "b"), shared);
        try
        {
            var rules = RepoPaths.Combine("alerting", "prometheus-rules", "perfotel-recording.rules.yaml");
            await using var prometheus = await PrometheusServer.StartAsync(
                new Dictionary<string, string[]> { ["perfotel-collector"] = [Target(a), Target(b)] }, ruleFiles: [rules]);

            // A started first on an empty store: it leads.
            Assert.Equal(1, await LeaderFlagAsync(a));
            Assert.Equal(0, await LeaderFlagAsync(b));

            await FeedAsync(whole, a, b, runs[0]);
            await AssertReplicasEqualWholeAsync(prometheus, whole, "from the start");

            // The follower restarts: it derived nothing and derives nothing after.
            await RestartAsync(b);
            await FeedAsync(whole, a, b, runs[1]);
            await AssertReplicasEqualWholeAsync(prometheus, whole, "after restarting the follower");

            // SIGKILL of the leader: its session dies, the follower takes the lock over and reads the whole store.
            a.Process.KillHard();
            await WaitForLeaderAsync(b);
            await RestartAsync(a);
            Assert.Equal(0, await LeaderFlagAsync(a));
            await FeedAsync(whole, a, b, runs[2]);
            await AssertReplicasEqualWholeAsync(prometheus, whole, "after SIGKILL of the leader");

            // A graceful restart of the new leader hands the leadership back to the other replica.
            b.Process.Terminate();
            Assert.True(await b.Process.WaitForExitAsync(TimeSpan.FromSeconds(60)), "replica b did not stop on SIGTERM");
            await WaitForLeaderAsync(a);
            await RestartAsync(b);
            await FeedAsync(whole, a, b, runs[3]);
            await AssertReplicasEqualWholeAsync(prometheus, whole, "after restarting the leader");

            await prometheus.WaitForAsync("sum(perfotel_collector_derivation_leader)", r => r.Count == 1 && r[0].Value == 1,
                TimeSpan.FromSeconds(60));
        }
        finally
        {
            await a.DisposeAsync();
            await b.DisposeAsync();
        }
    }

    /// <summary>
    /// Sends each run to the single collector and to one replica (alternating by request), then its feedback to the
    /// single collector and to the replica that did not get the invocation. For every other pair of requests the
    /// replicas get the runs split: the provider calls to one, then the invoke_agent spans to the other.
    /// </summary>
    private static async Task FeedAsync(CollectorProcess whole, CollectorProcess a, CollectorProcess b, List<Run> runs)
    {
        var chunks = runs.Chunk(10).ToList();
        for (var i = 0; i < chunks.Count; i++)
        {
            var end = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000L;
            var body = TraceBatch(chunks[i], end);
            await PostAsync(whole, "v1/traces", body);
            var (received, other) = i % 2 == 0 ? (a, b) : (b, a);
            if (i % 4 >= 2)
            {
                // The calls are stored by one replica with no agent known; their agents arrive at the other.
                await PostAsync(received, "v1/traces", TraceBatch(chunks[i], end, invocations: false));
                await PostAsync(other, "v1/traces", TraceBatch(chunks[i], end, calls: false));
            }
            else
            {
                await PostAsync(received, "v1/traces", body);
            }
            foreach (var run in chunks[i].Where(r => r.Feedback is not null))
            {
                var feedback = FeedbackBody(run);
                await PostAsync(whole, "api/v1/feedback", feedback);
                await PostAsync(other, "api/v1/feedback", feedback);
            }
        }
    }

    private static async Task AssertReplicasEqualWholeAsync(PrometheusServer prometheus, CollectorProcess whole, string when)
    {
        using var http = new HttpClient { BaseAddress = whole.BaseAddress };
        var deadline = DateTime.UtcNow.AddSeconds(120);
        var differences = new List<string>();
        while (true)
        {
            differences.Clear();
            var exposition = await http.GetStringAsync(new Uri("metrics", UriKind.Relative));
            foreach (var (family, aggregation) in Families)
            {
                var expected = Samples(exposition, family);
                var merged = await prometheus.QueryAsync(
                    $"{aggregation} without (instance, job, otel_scope_name, otel_scope_version) ({family}{{window!~\"5m|15m|7d|30d\"}})");
                var actual = merged.ToDictionary(r => Key(r.Labels), r => r.Value, StringComparer.Ordinal);
                if (expected.Count == 0)
                {
                    differences.Add($"{family}: the single collector exposes no sample");
                }
                foreach (var (labels, value) in expected)
                {
                    if (!actual.TryGetValue(labels, out var replicas))
                    {
                        differences.Add($"{family}{{{labels}}}: {value} on one collector, absent over the replicas");
                    }
                    else if (Math.Abs(replicas - value) > 1e-9 * Math.Max(1, Math.Abs(value)))
                    {
                        differences.Add($"{family}{{{labels}}}: {value} on one collector, {replicas} over the replicas");
                    }
                }
                differences.AddRange(actual.Keys.Where(k => !expected.ContainsKey(k))
                    .Select(k => $"{family}{{{k}}}: over the replicas only"));
            }
            if (differences.Count == 0)
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"{when}, the replicas' merged series differ from one collector's:\n{string.Join('\n', differences)}");
            }
            await Task.Delay(1000);
        }
    }

    /// <summary>Every sample of a family in the compared windows, keyed by its labels without the scope ones.</summary>
    private static Dictionary<string, double> Samples(string exposition, string family)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in exposition.Split('\n'))
        {
            if (!line.StartsWith(family + "{", StringComparison.Ordinal) && !line.StartsWith(family + " ", StringComparison.Ordinal))
            {
                continue;
            }
            var close = line.LastIndexOf('}');
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (close > 0)
            {
                foreach (var pair in line[(family.Length + 1)..close].Split("\",", StringSplitOptions.RemoveEmptyEntries))
                {
                    var equals = pair.IndexOf('=', StringComparison.Ordinal);
                    labels[pair[..equals]] = pair[(equals + 1)..].Trim('"');
                }
            }
            if (labels.TryGetValue("window", out var window) && window is "5m" or "15m" or "7d" or "30d")
            {
                continue;
            }
            var value = line[((close > 0 ? close : family.Length) + 1)..].Trim().Split(' ')[0];
            samples[Key(labels)] = double.Parse(value, CultureInfo.InvariantCulture);
        }
        return samples;
    }

    private static string Key(IReadOnlyDictionary<string, string> labels) =>
        string.Join(",", labels.Where(l => l.Key is not ("__name__" or "instance" or "job") && !l.Key.StartsWith("otel_scope_", StringComparison.Ordinal))
            .OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"));

    private static async Task<double> LeaderFlagAsync(CollectorProcess collector)
    {
        using var http = new HttpClient { BaseAddress = collector.BaseAddress };
        var text = await http.GetStringAsync(new Uri("metrics", UriKind.Relative));
        return Exposition.Sample(text, "perfotel_collector_derivation_leader")
            ?? throw new Xunit.Sdk.XunitException($"perfotel_collector_derivation_leader not exposed:\n{text}");
    }

    private static async Task WaitForLeaderAsync(CollectorProcess collector)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (await LeaderFlagAsync(collector) != 1)
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"replica on port {collector.Port} did not take the leadership over:\n{collector.Process.Output}");
            }
            await Task.Delay(250);
        }
    }

    private static async Task RestartAsync(CollectorProcess collector)
    {
        if (!collector.Process.HasExited)
        {
            collector.Process.Terminate();
            Assert.True(await collector.Process.WaitForExitAsync(TimeSpan.FromSeconds(60)), "replica did not stop on SIGTERM");
        }
        await collector.RestartAsync();
    }

    private static async Task PostAsync(CollectorProcess collector, string path, string json)
    {
        using var http = new HttpClient { BaseAddress = collector.BaseAddress };
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync(new Uri(path, UriKind.Relative), content);
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted,
            $"{path} on port {collector.Port}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private sealed record Run(string TraceId, string InvocationSpanId, string CallSpanId, string Agent, string Outcome,
        double Confidence, string Model, long InputTokens, long OutputTokens, double CostUsd, string? Feedback);

    /// <summary>Deterministic runs of two agents on two models, a third of them with feedback.</summary>
    private static List<Run> Runs(int phase, int count)
    {
        var random = new Random(20261202 + phase);
        return Enumerable.Range(0, count).Select(i =>
        {
            var agent = i % 2 == 0 ? "alpha" : "beta";
            var confidence = Math.Round(0.3 + (random.NextDouble() * 0.65), 3);
            var outcome = random.NextDouble() < confidence ? "success" : "failure";
            var feedback = i % 3 == 0
                ? $"{{\"refund\":{random.Next(50, 150)},\"reason\":\"damaged\"}}"
                : null;
            return new Run(NewTraceId(), NewSpanId(), NewSpanId(), agent, outcome, confidence,
                i % 4 < 2 ? "gpt-4o-mini" : "gpt-4o", random.Next(100, 2000), random.Next(10, 400),
                Math.Round(random.NextDouble() / 100, 6), feedback);
        }).ToList();
    }

    private static string FeedbackBody(Run run) =>
        $"{{\"traceId\":\"{run.TraceId}\",\"spanId\":\"{run.InvocationSpanId}\",\"feedbackId\":\"fb-{run.InvocationSpanId}\"," +
        $"\"success\":{(run.Outcome == "success" ? "true" : "false")},\"predicted\":{{\"refund\":100,\"reason\":\"damaged\"}}," +
        $"\"actual\":{run.Feedback}}}";

    /// <summary>One request: per run an invoke_agent span and its chat span with tokens and cost (or only one of them).</summary>
    private static string TraceBatch(IEnumerable<Run> runs, long end, bool calls = true, bool invocations = true)
    {
        var spans = new List<string>();
        foreach (var run in runs)
        {
            var start = end - 2_000_000_000L;
            spans.Add(!calls ? "" :
                $"{{\"traceId\":\"{run.TraceId}\",\"spanId\":\"{run.CallSpanId}\",\"parentSpanId\":\"{run.InvocationSpanId}\"," +
                $"\"name\":\"chat {run.Model}\",\"kind\":3,\"startTimeUnixNano\":\"{start + 100_000_000L}\",\"endTimeUnixNano\":\"{end - 100_000_000L}\",\"attributes\":[" +
                "{\"key\":\"gen_ai.operation.name\",\"value\":{\"stringValue\":\"chat\"}}," +
                "{\"key\":\"gen_ai.provider.name\",\"value\":{\"stringValue\":\"openai\"}}," +
                $"{{\"key\":\"gen_ai.request.model\",\"value\":{{\"stringValue\":\"{run.Model}\"}}}}," +
                $"{{\"key\":\"gen_ai.usage.input_tokens\",\"value\":{{\"intValue\":\"{run.InputTokens}\"}}}}," +
                $"{{\"key\":\"gen_ai.usage.output_tokens\",\"value\":{{\"intValue\":\"{run.OutputTokens}\"}}}}," +
                $"{{\"key\":\"perfotel.cost.usd\",\"value\":{{\"doubleValue\":{run.CostUsd.ToString("R", CultureInfo.InvariantCulture)}}}}}]}}");
            spans.Add(!invocations ? "" :
                $"{{\"traceId\":\"{run.TraceId}\",\"spanId\":\"{run.InvocationSpanId}\",\"name\":\"invoke_agent {run.Agent}\",\"kind\":1," +
                $"\"startTimeUnixNano\":\"{start}\",\"endTimeUnixNano\":\"{end}\",\"attributes\":[" +
                "{\"key\":\"gen_ai.operation.name\",\"value\":{\"stringValue\":\"invoke_agent\"}}," +
                $"{{\"key\":\"gen_ai.agent.name\",\"value\":{{\"stringValue\":\"{run.Agent}\"}}}}," +
                $"{{\"key\":\"perfotel.confidence\",\"value\":{{\"doubleValue\":{run.Confidence.ToString("R", CultureInfo.InvariantCulture)}}}}}," +
                // A quality score derived from the confidence, so that the runs stay what they were before quality was compared.
                $"{{\"key\":\"perfotel.quality\",\"value\":{{\"doubleValue\":{Math.Round(1 - run.Confidence, 3).ToString("R", CultureInfo.InvariantCulture)}}}}}," +
                $"{{\"key\":\"perfotel.outcome\",\"value\":{{\"stringValue\":\"{run.Outcome}\"}}}}]}}");
        }
        return "{\"resourceSpans\":[{\"resource\":{},\"scopeSpans\":[{\"spans\":[" + string.Join(',', spans.Where(s => s.Length > 0)) + "]}]}]}";
    }

    private static string Target(CollectorProcess c) => $"127.0.0.1:{c.Port}";

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
}

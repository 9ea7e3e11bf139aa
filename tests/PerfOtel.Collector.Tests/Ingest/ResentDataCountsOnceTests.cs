using System.Net;
using System.Text;
using Google.Protobuf;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Logs.V1;
using OpenTelemetry.Proto.Trace.V1;
using PerfOtel.Collector.Tests.Cost;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Collector.Tests.Storage;
using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;

namespace PerfOtel.Collector.Tests.Ingest;

/// <summary>
/// OTLP exporters retry, so the same spans arrive again; clients re-post feedback. The collector's own Program on a
/// real store is fed the same traffic twice: once exactly, and once with every request resent, overlapping requests,
/// a span repeated inside one request and feedback posted twice. Everything observers derive (analytics REST values,
/// cost totals, budget spend, models, experiments, the /metrics series) must be identical, and a restart that rebuilds
/// from the store must reproduce it. The hosts run one after another: the SDK listens to meters by name process-wide.
/// </summary>
public abstract class ResentDataCountsOnce
{
    private const string Triage = "triage";
    private const string Coder = "coder";
    private const int InvocationCount = 8;

    // Every span lies in the fixed clock's current hour, day and month, whatever the wall clock does meanwhile, and in
    // the wall clock's past, so no check against real time can take them for future data.
    private static readonly DateTimeOffset HourStart = StartOfHour(DateTimeOffset.UtcNow.AddMinutes(-5));
    private static readonly DateTimeOffset Now = HourStart.AddMinutes(30);

    private static readonly string[] RestPaths =
    [
        "api/v1/report?window=1h",
        "api/v1/report?window=24h",
        "api/v1/metrics/agents?window=1h",
        $"api/v1/metrics/agents/{Triage}?window=1h",
        $"api/v1/metrics/agents/{Coder}?window=24h",
        $"api/v1/agents/{Triage}/prediction?taskType=ticket",
        "api/v1/costs?period=hourly",
        "api/v1/costs?period=monthly",
        "api/v1/budgets",
        "api/v1/models?window=1h",
        "api/v1/experiments/prompt-v2",
    ];

    /// <summary>Settings that put a collector on a fresh, empty database called <paramref name="database"/>.</summary>
    protected abstract Task<Dictionary<string, string?>> NewDatabaseAsync(string database);

    [Fact]
    public async Task ResentRequestsOverlappingBatchesAndRepostedFeedbackCountOnceLiveAndAfterARestart()
    {
        var spans = Enumerable.Range(0, InvocationCount).Select(InvocationSpans).ToArray();
        var first = Traces(spans[..5].SelectMany(s => s));
        var overlapping = Traces(spans[3..].SelectMany(s => s).Concat(spans[6]));
        var rest = Traces(spans[5..].SelectMany(s => s));
        var pendingFeedback = Feedback("fb-pending", taskId: "task-6", success: false);
        var lateFeedback = Feedback("fb-late", taskId: "task-0", success: false);

        var onceSettings = await NewDatabaseAsync("once");
        string once;
        await using (var collector = new Collector(onceSettings))
        {
            using var client = collector.CreateClient();
            await PostFeedback(client, pendingFeedback);
            await PostTraces(client, first);
            await PostLogs(client, LogEvaluation(spans[1]));
            await PostFeedback(client, lateFeedback);
            await PostTraces(client, rest);
            once = await Snapshot(client);
        }

        // Guards against comparing two empty snapshots: the exact sums are visible.
        Assert.Contains($"\"invocations\":{InvocationCount}", once, StringComparison.Ordinal);
        Assert.Contains("perfotel_cost_usd_total{", once, StringComparison.Ordinal);

        var resentSettings = await NewDatabaseAsync("resent");
        await using (var collector = new Collector(resentSettings))
        {
            using var client = collector.CreateClient();
            await PostFeedback(client, pendingFeedback);
            await PostFeedback(client, pendingFeedback);
            // Sent at the same moment, so the writer may also coalesce them into one store transaction.
            await Task.WhenAll(PostTraces(client, first), PostTraces(client, first));
            await PostTraces(client, first);
            await PostLogs(client, LogEvaluation(spans[1]));
            await PostLogs(client, LogEvaluation(spans[1]));
            await PostFeedback(client, lateFeedback);
            await PostFeedback(client, lateFeedback);
            await PostTraces(client, overlapping);
            await PostTraces(client, rest);
            Assert.Equal(once, await Snapshot(client));
        }

        await using (var restarted = new Collector(resentSettings))
        {
            using var client = restarted.CreateClient();
            // Counters (`_total`) count since the process started: a restart resets them, as Prometheus expects.
            Assert.Equal(WithoutCounters(once), WithoutCounters(await Snapshot(client)));
        }
    }

    /// <summary>An invocation with a chat call, a tool call and an accuracy evaluation event; values exact in binary.</summary>
    private static Span[] InvocationSpans(int index)
    {
        var trace = ByteString.CopyFrom([0xab, .. new byte[14], (byte)(index + 1)]);
        var start = Nanos(HourStart.AddMinutes(1).AddSeconds(index * 10));
        var agent = index % 2 == 0 ? Triage : Coder;
        var invocation = Timed(Span($"invoke_agent {agent}", trace, SpanId(3 * index + 1), null, 0,
            (GenAiAttributes.OperationName, GenAiOperations.InvokeAgent),
            (GenAiAttributes.AgentName, agent),
            (PerfOtelAttributes.TaskId, $"task-{index}"),
            (PerfOtelAttributes.TaskType, "ticket"),
            (PerfOtelAttributes.Outcome, index % 3 == 2 ? Outcomes.Failure : Outcomes.Success),
            (PerfOtelAttributes.Confidence, index % 4 == 0 ? 0.25 : 0.75),
            (PerfOtelAttributes.Experiment, "prompt-v2"),
            (PerfOtelAttributes.Variant, index % 2 == 0 ? "a" : "b")), start, 2.5 + index);
        invocation.Events.Add(new Span.Types.Event
        {
            Name = GenAiEvents.EvaluationResult,
            TimeUnixNano = start + 1_000_000_000,
            Attributes =
            {
                Attr(GenAiAttributes.EvaluationName, "accuracy"),
                Attr(GenAiAttributes.EvaluationScoreValue, index % 2 == 0 ? 1.0 : 0.5),
            },
        });
        var chat = Timed(Span("chat gpt-4o-mini", trace, SpanId(3 * index + 2), invocation.SpanId, 0,
            (GenAiAttributes.OperationName, GenAiOperations.Chat),
            (GenAiAttributes.ProviderName, "openai"),
            (GenAiAttributes.RequestModel, "gpt-4o-mini"),
            (GenAiAttributes.UsageInputTokens, 1000L + index),
            (GenAiAttributes.UsageOutputTokens, 100L),
            (PerfOtelAttributes.CostUsd, index % 2 == 0 ? 0.25 : 0.125)), start + 100_000_000, 1.5);
        var tool = Timed(Span("execute_tool search", trace, SpanId(3 * index + 3), invocation.SpanId, 0,
            (GenAiAttributes.OperationName, GenAiOperations.ExecuteTool),
            (GenAiAttributes.ToolName, "search")), start + 2_000_000_000, 0.5);
        return [invocation, chat, tool];
    }

    private static Span Timed(Span span, ulong start, double seconds)
    {
        span.StartTimeUnixNano = start;
        span.EndTimeUnixNano = start + (ulong)(seconds * 1e9);
        return span;
    }

    private static DateTimeOffset StartOfHour(DateTimeOffset time) =>
        new(time.Year, time.Month, time.Day, time.Hour, 0, 0, TimeSpan.Zero);

    private static ulong Nanos(DateTimeOffset time) => (ulong)(time - DateTimeOffset.UnixEpoch).Ticks * 100;

    private static ExportLogsServiceRequest LogEvaluation(Span[] invocation)
    {
        var record = new LogRecord
        {
            TimeUnixNano = invocation[0].EndTimeUnixNano,
            TraceId = invocation[0].TraceId,
            SpanId = invocation[0].SpanId,
            EventName = GenAiEvents.EvaluationResult,
            Attributes = { Attr(GenAiAttributes.EvaluationName, "accuracy"), Attr(GenAiAttributes.EvaluationScoreValue, 0.25) },
        };
        var request = new ExportLogsServiceRequest();
        request.ResourceLogs.Add(new ResourceLogs { ScopeLogs = { new ScopeLogs { LogRecords = { record } } } });
        return request;
    }

    private static string Feedback(string id, string taskId, bool success) =>
        System.Text.Json.JsonSerializer.Serialize(new
        {
            feedbackId = id, taskId, success, predicted = new { amount = 75 }, actual = new { amount = 100 },
        });

    private static async Task PostTraces(HttpClient client, IMessage request)
    {
        using var response = await client.PostAsync(new Uri("v1/traces", UriKind.Relative), Protobuf(request));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task PostLogs(HttpClient client, IMessage request)
    {
        using var response = await client.PostAsync(new Uri("v1/logs", UriKind.Relative), Protobuf(request));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static async Task PostFeedback(HttpClient client, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(new Uri("api/v1/feedback", UriKind.Relative), content);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    /// <summary>
    /// Every REST answer and every /metrics sample derived from the data. The collector's self-metrics are left out:
    /// they count requests received, which a resend rightly increases.
    /// </summary>
    private static async Task<string> Snapshot(HttpClient client)
    {
        var snapshot = new StringBuilder();
        foreach (var path in RestPaths)
        {
            using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
            snapshot.Append("== ").Append(path).Append(' ').Append((int)response.StatusCode).Append('\n')
                .Append(await response.Content.ReadAsStringAsync()).Append('\n');
        }

        snapshot.Append("== metrics\n");
        var exposition = await client.GetStringAsync(new Uri("metrics", UriKind.Relative));
        foreach (var line in exposition.Split('\n'))
        {
            if (line.Length > 0 && !line.StartsWith('#') && !line.StartsWith("perfotel_collector_", StringComparison.Ordinal))
            {
                snapshot.Append(line).Append('\n');
            }
        }

        return snapshot.ToString();
    }

    private static string WithoutCounters(string snapshot) => string.Join('\n', snapshot.Split('\n')
        .Where(line => !line.Split('{', ' ')[0].EndsWith("_total", StringComparison.Ordinal)));

    /// <summary>The collector as shipped on the given store settings, with the fixed clock and retention off.</summary>
    private sealed class Collector(Dictionary<string, string?> settings) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }

            // Retention would sweep on start-up; budgets make spend visible per period.
            builder.UseSetting("Storage:RetentionDays", "0");
            builder.UseSetting("Budgets:Tenants:default:DailyUsd", "10");
            builder.UseSetting($"Budgets:Tenants:default:Agents:{Triage}:MonthlyUsd", "100");
            builder.UseSetting("Experiments:MinSamplesPerVariant", "2");
            // /metrics is compared right after ingestion: each scrape derives the analytics instead of serving the
            // background refresher's encoding, which may be up to two intervals old.
            builder.UseSetting("Analytics:ExpositionRefreshInterval", "00:00:00");
            builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(new ManualClock(Now)));
        }
    }
}

public sealed class ResentDataCountsOnceOnSqlite : ResentDataCountsOnce, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("perfotel-resent-").FullName;

    protected override Task<Dictionary<string, string?>> NewDatabaseAsync(string database) =>
        Task.FromResult(new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "sqlite",
            ["Storage:DataDirectory"] = Path.Combine(_directory, database),
        });

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}

[Collection(PostgresCollection.Name)]
public sealed class ResentDataCountsOnceOnPostgres(PostgresClusterFixture cluster) : ResentDataCountsOnce, IAsyncLifetime
{
    private readonly List<PostgresTestSchema> _schemas = [];

    protected override async Task<Dictionary<string, string?>> NewDatabaseAsync(string database)
    {
        var schema = new PostgresTestSchema(cluster, "resent_" + database + "_");
        _schemas.Add(schema);
        await schema.CreateAsync();
        return new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "postgres",
            ["Storage:ConnectionString"] = schema.ConnectionString,
        };
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var schema in _schemas)
        {
            await schema.DisposeAsync();
        }
    }
}

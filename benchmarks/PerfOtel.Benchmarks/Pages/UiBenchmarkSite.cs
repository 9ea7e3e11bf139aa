using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using PerfOtel.Benchmarks.Analytics;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Ingest;
using PerfOtel.Collector.Records;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Benchmarks.Pages;

/// <summary>
/// The collector's real Program in process (WebApplicationFactory's in-memory server: routing, the authentication
/// middleware, the page handlers, the response) over a real SQLite store holding two hours of a tenant of 1 000 agents:
/// one invocation per agent per minute with its provider call (one of four models), a tool call and an accuracy
/// evaluation, 200 agents in a two-variant experiment. The clock stands still at <see cref="AnalyticsBenchmarkHost.Now"/>
/// so no bucket rolls over mid-run.
/// The store is filled through the ingest queue and writer once and kept in <see cref="DataDirectory"/> (a marker says
/// it is complete); later runs start on it, so the windows come from the start-up replay of the store. Delete the
/// directory to fill it again.
/// </summary>
internal sealed class UiBenchmarkSite : IDisposable
{
    public const int Agents = 1_000;
    public const int Minutes = 120;
    public const string Agent = "agent-0007";

    public static readonly string DataDirectory = Path.Combine(Path.GetTempPath(), "perfotel-ui-bench-v1");
    private static readonly string[] Models = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "claude-haiku-4"];

    private readonly Factory factory;
    private int sequence;

    public UiBenchmarkSite()
    {
        var filled = File.Exists(Path.Combine(DataDirectory, "filled"));
        if (!filled && Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        Directory.CreateDirectory(DataDirectory);
        // WebApplicationFactory looks for the collector's content root beside the solution unless told; it has no files the
        // collector reads (configuration is the defaults and the settings below), so an empty directory serves.
        Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_PERFOTEL_COLLECTOR",
            Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "perfotel-ui-bench-root")).FullName);
        factory = new Factory(Clock);
        Client = factory.CreateClient();
        Windows = factory.Services.GetRequiredService<RollingWindows>();
        if (!filled)
        {
            Fill(factory.Services.GetRequiredService<IngestQueue>());
            File.WriteAllText(Path.Combine(DataDirectory, "filled"), "two hours of 1 000 agents\n");
        }
        sequence = Agents * Minutes;
        // One run of the agent whose page is measured (the run page's subject): its first invocation, ids as Fill makes them.
        RunPath = $"/ui/runs/{Id(0, 7):x32}/{Id(0, 7):x16}";
    }

    public StoppedClock Clock { get; } = new(AnalyticsBenchmarkHost.Now);

    public HttpClient Client { get; }

    public RollingWindows Windows { get; }

    public string RunPath { get; }

    /// <summary>The page's HTML; throws unless it answered 200.</summary>
    public string Get(string path)
    {
        using var response = Client.GetAsync(new Uri(path, UriKind.Relative)).GetAwaiter().GetResult();
        var body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET {path} answered {(int)response.StatusCode}: {body[..Math.Min(body.Length, 400)]}");
        }
        return body;
    }

    /// <summary>
    /// New data for one agent, as the ingest writer's derivation applies it (the store is not what the pages read for
    /// the windows): the next page request is the first after new data.
    /// </summary>
    public void NewData(string agent)
    {
        var id = Interlocked.Increment(ref sequence);
        Windows.RecordInvocation(new AgentInvocation
        {
            Tenant = "default", TraceId = id.ToString("x32"), SpanId = id.ToString("x16"), AgentName = agent,
            StartTime = Clock.Now.AddSeconds(-1), DurationSeconds = 0.5 + id % 13 * 0.1, Outcome = Outcomes.Success,
            Confidence = 0.85, TaskType = "code",
        });
    }

    private static int Id(int minute, int agent) => minute * Agents + agent + 1;

    private void Fill(IngestQueue queue)
    {
        for (var minute = 0; minute < Minutes; minute++)
        {
            var batch = new IngestBatch();
            for (var a = 0; a < Agents; a++)
            {
                Add(batch, minute, a);
            }
            if (queue.TryEnqueue(batch, out var pending) != EnqueueOutcome.Accepted)
            {
                throw new InvalidOperationException("the ingest queue refused a batch while filling");
            }
            pending!.Committed.GetAwaiter().GetResult();
        }
    }

    private void Add(IngestBatch batch, int minute, int agent)
    {
        var id = Id(minute, agent);
        var start = Clock.Now.AddMinutes(-Minutes + minute).AddSeconds(agent % 50);
        var name = $"agent-{agent:0000}";
        // Agents differ in how well they do, so they spread over the bands and some breach their thresholds.
        var failing = (id * 7 + agent) % 100 < 2 + agent % 20;
        var invocation = new AgentInvocation
        {
            Tenant = "default", TraceId = id.ToString("x32"), SpanId = id.ToString("x16"), AgentName = name,
            AgentType = agent % 3 == 0 ? "planner" : "worker", TaskId = $"task-{id}",
            TaskType = (id % 3) switch { 0 => "plan", 1 => "code", _ => "review" },
            Experiment = agent < 200 ? "prompt-v2" : null,
            Variant = agent < 200 ? (id % 2 == 0 ? "control" : "treatment") : null,
            StartTime = start, DurationSeconds = 0.3 + agent % 40 * 0.2 + id % 11 * 0.05,
            Outcome = failing ? Outcomes.Failure : Outcomes.Success, ErrorType = failing ? "timeout" : null,
            Confidence = (id % 10) / 10.0 + 0.05, Quality = 0.5 + (id % 6) / 10.0,
            Tokens = new TokenCounts(800, 200, 0, 0, 0), CostUsd = 0.001 + agent % 9 * 0.0005,
        };
        batch.Invocations.Add(invocation);
        var model = Models[(agent + minute / 30) % Models.Length];
        batch.ProviderCalls.Add(new ProviderCall
        {
            Tenant = "default", TraceId = invocation.TraceId, SpanId = (id + 0x10000000L).ToString("x16"),
            ParentSpanId = invocation.SpanId, InvocationSpanId = invocation.SpanId, AgentName = name,
            Operation = GenAiOperations.Chat, Provider = model.StartsWith("gpt", StringComparison.Ordinal) ? "openai" : "anthropic",
            RequestModel = model, ResponseModel = model, StartTime = start.AddMilliseconds(20), DurationSeconds = 0.2 + id % 7 * 0.05,
            Tokens = new TokenCounts(800, 200, 0, 0, 0), CostUsd = 0.001 + agent % 9 * 0.0005,
            ErrorType = id % 97 == 0 ? "rate_limit" : null,
        });
        batch.ToolCalls.Add(new ToolCall
        {
            Tenant = "default", TraceId = invocation.TraceId, SpanId = (id + 0x20000000L).ToString("x16"),
            ParentSpanId = invocation.SpanId, InvocationSpanId = invocation.SpanId, AgentName = name,
            ToolName = id % 2 == 0 ? "search" : "run_tests", StartTime = start.AddMilliseconds(250), DurationSeconds = 0.05,
        });
        batch.Evaluations.Add(new EvaluationRecord
        {
            Tenant = "default", TraceId = invocation.TraceId, SpanId = invocation.SpanId, Sequence = 0, AgentName = name,
            Name = "accuracy", Score = failing ? 0.2 : 0.7 + (id % 4) / 10.0, Time = start.AddSeconds(1),
        });
    }

    public void Dispose()
    {
        Client.Dispose();
        factory.Dispose();
    }

    private sealed class Factory(StoppedClock clock) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("Storage:Provider", "sqlite");
            builder.UseSetting("Storage:DataDirectory", DataDirectory);
            builder.UseSetting("Storage:Durability", "normal");
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
            builder.ConfigureTestServices(services =>
            {
                services.RemoveAll<TimeProvider>();
                services.AddSingleton<TimeProvider>(clock);
            });
        }
    }
}

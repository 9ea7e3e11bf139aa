using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage.Sqlite;

namespace PerfOtel.Benchmarks.Runs;

/// <summary>
/// GET /api/v1/invocations over a SQLite store holding one million invocations (five agents, one provider call each,
/// one in ten failed, a job per hundred runs): the first page, an agent's page, failures only, a page deep in the
/// cursor, and one job. Ratios against the first page, measured in the same run.
/// </summary>
[MemoryDiagnoser]
public class RunListBenchmarks
{
    public const int Invocations = 1_000_000;

    private string _directory = "";
    private SqliteExecutionStore _store = null!;
    private RunCursor _deep = null!;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "perfotel-runlist-" + Guid.NewGuid().ToString("N"));
        (_store, _deep) = RunListFill.FillAsync(_directory, Invocations).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public Task<IReadOnlyList<RunRow>> FirstPage() => Search(new RunSearch { Tenant = "default", Limit = 51 });

    [Benchmark]
    public Task<IReadOnlyList<RunRow>> AgentPage() => Search(new RunSearch { Tenant = "default", AgentName = "coder", Limit = 51 });

    [Benchmark]
    public Task<IReadOnlyList<RunRow>> FailuresPage() => Search(new RunSearch { Tenant = "default", Outcome = "failure", Limit = 51 });

    [Benchmark]
    public Task<IReadOnlyList<RunRow>> DeepCursorPage() => Search(new RunSearch { Tenant = "default", After = _deep, Limit = 51 });

    [Benchmark]
    public Task<IReadOnlyList<RunRow>> OneJob() => Search(new RunSearch { Tenant = "default", JobId = "job-4242", Limit = 10_001 });

    private Task<IReadOnlyList<RunRow>> Search(RunSearch search) => _store.SearchRunsAsync(search, CancellationToken.None);
}

/// <summary>Fills a store for the run list and times the queries without BenchmarkDotNet (<c>run-list</c> command).</summary>
internal static class RunListFill
{
    public const string Command = "run-list";

    public static async Task<(SqliteExecutionStore Store, RunCursor Deep)> FillAsync(string directory, int invocations)
    {
        var store = new SqliteExecutionStore(directory, fullDurability: false);
        await store.InitializeAsync(CancellationToken.None);
        var agents = new[] { "planner", "coder", "reviewer", "support", "research" };
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        RunCursor? deep = null;
        const int perBatch = 5_000;
        for (var first = 0; first < invocations; first += perBatch)
        {
            var batch = new IngestBatch();
            for (var i = first; i < Math.Min(invocations, first + perBatch); i++)
            {
                var trace = i.ToString("x32", CultureInfo.InvariantCulture);
                var span = (i + 1L).ToString("x16", CultureInfo.InvariantCulture);
                var agent = agents[i % agents.Length];
                var at = start.AddSeconds(i * 2.5);
                batch.Invocations.Add(new AgentInvocation
                {
                    Tenant = "default", TraceId = trace, SpanId = span, AgentName = agent, AgentType = "react",
                    JobId = "job-" + (i / 100).ToString(CultureInfo.InvariantCulture), TaskType = "ticket",
                    StartTime = at, DurationSeconds = 1 + i % 7, Outcome = i % 10 == 0 ? "failure" : "success",
                    Confidence = 0.8,
                });
                batch.ProviderCalls.Add(new ProviderCall
                {
                    Tenant = "default", TraceId = trace, SpanId = (i + 1L + (1L << 40)).ToString("x16", CultureInfo.InvariantCulture),
                    ParentSpanId = span, InvocationSpanId = span, AgentName = agent, Operation = "chat", Provider = "openai",
                    RequestModel = "gpt-4o-mini", StartTime = at, DurationSeconds = 0.5,
                    Tokens = new TokenCounts(800, 120, 0, 0, 0), CostUsd = 0.0002,
                });
                if (i == invocations / 2)
                {
                    deep = new RunCursor(at, span, trace);
                }
            }
            await store.WriteAsync(batch, CancellationToken.None);
        }
        return (store, deep ?? throw new InvalidOperationException("no invocations"));
    }

    /// <summary>Fills a store with the given number of invocations and prints each query's median of 50 runs.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : RunListBenchmarks.Invocations;
        var directory = Path.Combine(Path.GetTempPath(), "perfotel-runlist-" + Guid.NewGuid().ToString("N"));
        var fill = Stopwatch.StartNew();
        var (store, deep) = await FillAsync(directory, count);
        Console.WriteLine($"filled {count} invocations in {fill.Elapsed.TotalSeconds:0.0} s");
        try
        {
            foreach (var (name, search) in new (string, RunSearch)[]
                     {
                         ("first page", new RunSearch { Tenant = "default", Limit = 51 }),
                         ("agent page", new RunSearch { Tenant = "default", AgentName = "coder", Limit = 51 }),
                         ("failures page", new RunSearch { Tenant = "default", Outcome = "failure", Limit = 51 }),
                         ("deep cursor page", new RunSearch { Tenant = "default", After = deep, Limit = 51 }),
                         ("one job", new RunSearch { Tenant = "default", JobId = "job-4242", Limit = 10_001 }),
                         ("min cost page", new RunSearch { Tenant = "default", MinCostUsd = 0.0001, Limit = 51 }),
                     })
            {
                var times = new List<double>();
                for (var run = 0; run < 50; run++)
                {
                    var watch = Stopwatch.StartNew();
                    await store.SearchRunsAsync(search, CancellationToken.None);
                    times.Add(watch.Elapsed.TotalMilliseconds);
                }
                times.Sort();
                Console.WriteLine($"{name}: median {times[25]:0.00} ms, max {times[^1]:0.00} ms");
            }
        }
        finally
        {
            await store.DisposeAsync();
            Directory.Delete(directory, recursive: true);
        }
        return 0;
    }
}

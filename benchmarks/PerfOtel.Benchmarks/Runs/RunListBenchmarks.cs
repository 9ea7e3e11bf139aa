using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using Npgsql;
using PerfOtel.Collector.Derived.Runs;
using PerfOtel.Collector.Derived.Thresholds;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage.Postgres;
using PerfOtel.Collector.Storage.Sqlite;

namespace PerfOtel.Benchmarks.Runs;

/// <summary>
/// GET /api/v1/invocations over a store holding one million invocations (five agents, one provider call each, one in
/// ten failed, a job per hundred runs, every warning at a known rate, <see cref="RunListFill.FillAsync"/>): the first
/// page, an agent's page, failures only, a page deep in the cursor, one job, a <c>minCostUsd</c> page, and a
/// <c>warning=</c> page for each warning through the list's own pager. SQLite by default; PostgreSQL when
/// PERFOTEL_TEST_POSTGRES holds a connection string. Ratios against the first page, measured in the same run. The store
/// is filled once and reused by every case and every later run (<see cref="RunListStoreCache"/>); PostgreSQL's
/// statistics are gathered after the fill, as the driver does (without them the figures are of plans a store in
/// service does not run). <c>bash scripts/load/run-list-benchmark.sh sqlite|postgres</c> runs the class.
/// </summary>
[MemoryDiagnoser]
public class RunListBenchmarks
{
    public const int Invocations = 1_000_000;

    private IExecutionStore _store = null!;
    private RunCursor _deep = null!;

    [GlobalSetup]
    public void Setup()
    {
        _store = RunListStoreCache.OpenFilledAsync(Invocations,
            Environment.GetEnvironmentVariable(RunListFill.PostgresVariable), Console.Out).GetAwaiter().GetResult();
        _deep = RunListFill.DeepCursor(Invocations);
    }

    /// <summary>Closes the store and keeps it for the next case (<see cref="RunListStoreCache.DiscardAsync"/> removes it).</summary>
    [GlobalCleanup]
    public void Cleanup() => _store.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Baseline = true)]
    public Task<RunPage> FirstPage() => RunListFill.PageAsync(_store, RunListFill.Query.FirstPage, _deep);

    [Benchmark]
    public Task<RunPage> AgentPage() => RunListFill.PageAsync(_store, RunListFill.Query.AgentPage, _deep);

    [Benchmark]
    public Task<RunPage> FailuresPage() => RunListFill.PageAsync(_store, RunListFill.Query.FailuresPage, _deep);

    [Benchmark]
    public Task<RunPage> DeepCursorPage() => RunListFill.PageAsync(_store, RunListFill.Query.DeepCursorPage, _deep);

    [Benchmark]
    public Task<RunPage> OneJob() => RunListFill.PageAsync(_store, RunListFill.Query.OneJob, _deep);

    [Benchmark]
    public Task<RunPage> MinCostPage() => RunListFill.PageAsync(_store, RunListFill.Query.MinCostPage, _deep);

    [Benchmark]
    [Arguments(RunListFill.Query.LowConfidencePage)]
    [Arguments(RunListFill.Query.HighTokenUsagePage)]
    [Arguments(RunListFill.Query.SlowExecutionPage)]
    [Arguments(RunListFill.Query.QualityConcernPage)]
    [Arguments(RunListFill.Query.ManyRetriesPage)]
    [Arguments(RunListFill.Query.FallbackUsedPage)]
    [Arguments(RunListFill.Query.UnpricedModelPage)]
    [Arguments(RunListFill.Query.RareLowConfidencePage)]
    [Arguments(RunListFill.Query.NoHighTokenUsagePage)]
    public Task<RunPage> WarningPage(RunListFill.Query query) => RunListFill.PageAsync(_store, query, _deep);
}

/// <summary>
/// Fills a store for the run list and times the queries without BenchmarkDotNet (<c>run-list [count] [--postgres
/// connection-string]</c>; scripts/load/run-list.sh starts a throwaway PostgreSQL for it). The driver fills a fresh
/// store every run (its fill time is one of its figures); <c>run-list discard [count] [--postgres connection-string]</c>
/// removes the store the BenchmarkDotNet class keeps (<see cref="RunListStoreCache"/>).
/// </summary>
public static class RunListFill
{
    public const string Command = "run-list";
    public const string PostgresVariable = "PERFOTEL_TEST_POSTGRES";

    /// <summary>The queries measured, in the order of the docs' table.</summary>
    public enum Query
    {
        FirstPage,
        AgentPage,
        FailuresPage,
        DeepCursorPage,
        OneJob,
        MinCostPage,
        LowConfidencePage,
        HighTokenUsagePage,
        SlowExecutionPage,
        QualityConcernPage,
        ManyRetriesPage,
        FallbackUsedPage,
        UnpricedModelPage,
        RareLowConfidencePage,
        NoHighTokenUsagePage,
    }

    private static readonly Dictionary<Query, string> Names = new()
    {
        [Query.FirstPage] = "first page",
        [Query.AgentPage] = "agent page",
        [Query.FailuresPage] = "failures page",
        [Query.DeepCursorPage] = "deep cursor page",
        [Query.OneJob] = "one job",
        [Query.MinCostPage] = "min cost page",
        [Query.LowConfidencePage] = "warning=low_confidence (one run in 100)",
        [Query.HighTokenUsagePage] = "warning=high_token_usage (one run in 200)",
        [Query.SlowExecutionPage] = "warning=slow_execution (one run in 7)",
        [Query.QualityConcernPage] = "warning=quality_concern (one run in 100, by quality or feedback)",
        [Query.ManyRetriesPage] = "warning=many_retries (one run in 500)",
        [Query.FallbackUsedPage] = "warning=fallback_used (one run in 50)",
        [Query.UnpricedModelPage] = "warning=unpriced_model (one run in 1 000)",
        [Query.RareLowConfidencePage] = "warning=low_confidence, threshold 0.1 (one run in 100 000)",
        [Query.NoHighTokenUsagePage] = "warning=high_token_usage, threshold 10 000 000 (no run)",
    };

    private static readonly string[] Agents = ["planner", "coder", "reviewer", "support", "research"];

    /// <summary>Each agent's p95 as the route would pass it: 6.5 s, so the runs of 7 s (one in seven) are slow.</summary>
    private static readonly KeyValuePair<string, double?>[] AgentP95s =
        [.. Agents.Select(a => new KeyValuePair<string, double?>(a, 6.5))];

    private static readonly ThresholdSet Defaults = new();

    /// <summary>Thresholds that make a warning rare (confidence below 0.1) or absent (more than 10 M tokens).</summary>
    private static readonly ThresholdSet Rare = new() { MinRunConfidence = 0.1, MaxTokensPerInvocation = 10_000_000 };

    public static IExecutionStore Open(string directory, string? postgres) =>
        string.IsNullOrWhiteSpace(postgres)
            ? new SqliteExecutionStore(directory, fullDurability: false)
            : new PostgresExecutionStore(postgres);

    /// <summary>One page as GET /api/v1/invocations reads it: 50 runs, default thresholds, every agent's p95 6.5 s.</summary>
    public static Task<RunPage> PageAsync(IExecutionStore store, Query query, RunCursor deep)
    {
        ArgumentNullException.ThrowIfNull(deep);
        var all = new RunSearch { Tenant = "default", Limit = 50 };
        var (search, warning) = query switch
        {
            Query.FirstPage => (all, (string?)null),
            Query.AgentPage => (all with { AgentName = "coder" }, null),
            Query.FailuresPage => (all with { Outcome = "failure" }, null),
            Query.DeepCursorPage => (all with { After = deep }, null),
            Query.OneJob => (all with { JobId = "job-4242", Limit = 10_000 }, null),
            Query.MinCostPage => (all with { MinCostUsd = 0.0001 }, null),
            Query.LowConfidencePage => (all, RunWarnings.LowConfidence),
            Query.HighTokenUsagePage => (all, RunWarnings.HighTokenUsage),
            Query.SlowExecutionPage => (all, RunWarnings.SlowExecution),
            Query.QualityConcernPage => (all, RunWarnings.QualityConcern),
            Query.ManyRetriesPage => (all, RunWarnings.ManyRetries),
            Query.FallbackUsedPage => (all, RunWarnings.FallbackUsed),
            Query.UnpricedModelPage => (all, RunWarnings.UnpricedModel),
            Query.RareLowConfidencePage => (all, RunWarnings.LowConfidence),
            Query.NoHighTokenUsagePage => (all, RunWarnings.HighTokenUsage),
            _ => throw new ArgumentOutOfRangeException(nameof(query)),
        };
        var thresholds = query is Query.RareLowConfidencePage or Query.NoHighTokenUsagePage ? Rare : Defaults;
        var filter = warning is null ? null : RunWarnings.StoreFilter(warning, thresholds, AgentP95s);
        return RunPages.ReadAsync((IRunStore)store, search with { Warning = filter },
            row => RunWarnings.Summarize(row.Stored, row.Calls, thresholds, 6.5), CancellationToken.None);
    }

    private static readonly DateTimeOffset FillStart = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static string TraceOf(int i) => i.ToString("x32", CultureInfo.InvariantCulture);

    private static string SpanOf(int i) => (i + 1L).ToString("x16", CultureInfo.InvariantCulture);

    private static DateTimeOffset StartOf(int i) => FillStart.AddSeconds(i * 2.5);

    /// <summary>The key of the run half-way through a fill of <paramref name="invocations"/>: the deep page's cursor.</summary>
    public static RunCursor DeepCursor(int invocations)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(invocations, 1);
        var i = invocations / 2;
        return new RunCursor(StartOf(i), SpanOf(i), TraceOf(i));
    }

    public static async Task<RunCursor> FillAsync(IExecutionStore store, int invocations)
    {
        ArgumentNullException.ThrowIfNull(store);
        await store.InitializeAsync(CancellationToken.None);
        const int perBatch = 5_000;
        for (var first = 0; first < invocations; first += perBatch)
        {
            var batch = new IngestBatch();
            for (var i = first; i < Math.Min(invocations, first + perBatch); i++)
            {
                var trace = TraceOf(i);
                var span = SpanOf(i);
                var agent = Agents[i % Agents.Length];
                var at = StartOf(i);
                batch.Invocations.Add(new AgentInvocation
                {
                    Tenant = "default", TraceId = trace, SpanId = span, AgentName = agent, AgentType = "react",
                    JobId = "job-" + (i / 100).ToString(CultureInfo.InvariantCulture), TaskType = "ticket",
                    StartTime = at, DurationSeconds = 1 + i % 7, Outcome = i % 10 == 0 ? "failure" : "success",
                    Confidence = i % 100_000 == 3 ? 0.05 : i % 100 == 3 ? 0.3 : 0.8, Quality = i % 100 == 11 ? 0.5 : 0.9,
                });
                batch.ProviderCalls.Add(new ProviderCall
                {
                    Tenant = "default", TraceId = trace, SpanId = (i + 1L + (1L << 40)).ToString("x16", CultureInfo.InvariantCulture),
                    ParentSpanId = span, InvocationSpanId = span, AgentName = agent, Operation = "chat", Provider = "openai",
                    RequestModel = "gpt-4o-mini", StartTime = at, DurationSeconds = 0.5,
                    Tokens = i % 200 == 5 ? new TokenCounts(5_000, 1_000, 0, 0, 0) : new TokenCounts(800, 120, 0, 0, 0),
                    CostUsd = i % 1000 == 17 ? null : 0.0002, UnpricedTokens = i % 1000 == 17 ? 920 : 0,
                    FallbackFrom = i % 50 == 7 ? "anthropic/claude-sonnet-4" : null,
                    FallbackReason = i % 50 == 7 ? "rate_limited" : null,
                });
                // One run in 500 retries three times (more than MaxRunRetries, 2).
                for (var retry = 2; i % 500 == 13 && retry <= 4; retry++)
                {
                    batch.ProviderCalls.Add(new ProviderCall
                    {
                        Tenant = "default", TraceId = trace,
                        SpanId = (i + 1L + ((long)retry << 40)).ToString("x16", CultureInfo.InvariantCulture),
                        ParentSpanId = span, InvocationSpanId = span, AgentName = agent, Operation = "chat",
                        Provider = "openai", RequestModel = "gpt-4o-mini", StartTime = at, DurationSeconds = 0.5,
                        Tokens = new TokenCounts(100, 10, 0, 0, 0), CostUsd = 0.00002, Attempt = retry,
                    });
                }
            }
            await store.WriteAsync(batch, CancellationToken.None);
        }
        return DeepCursor(invocations);
    }

    /// <summary>
    /// Fills a store with the given number of invocations and prints each query's median of 50 runs; with
    /// <c>discard</c> first, removes the store <see cref="RunListBenchmarks"/> keeps for that count instead.
    /// </summary>
    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var discard = args.Length > 0 && args[0] == "discard";
        args = discard ? args[1..] : args;
        var count = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal)
            ? int.Parse(args[0], CultureInfo.InvariantCulture) : RunListBenchmarks.Invocations;
        var at = Array.IndexOf(args, "--postgres");
        var postgres = at >= 0 && at + 1 < args.Length ? args[at + 1] : Environment.GetEnvironmentVariable(PostgresVariable);
        if (discard)
        {
            var removed = await RunListStoreCache.DiscardAsync(count, postgres);
            Console.WriteLine(removed
                ? $"discarded the run-list store of {count} invocations"
                : $"no run-list store of {count} invocations to discard");
            return 0;
        }
        var directory = Path.Combine(Path.GetTempPath(), "perfotel-runlist-" + Guid.NewGuid().ToString("N"));
        var store = Open(directory, postgres);
        Console.WriteLine($"store: {(string.IsNullOrWhiteSpace(postgres) ? "sqlite" : "postgres")}");
        try
        {
            var fill = Stopwatch.StartNew();
            var deep = await FillAsync(store, count);
            Console.WriteLine($"filled {count} invocations in {fill.Elapsed.TotalSeconds:0.0} s");
            await AnalyzeAsync(postgres);
            foreach (var query in Enum.GetValues<Query>())
            {
                var times = new List<double>();
                var rows = 0;
                for (var run = 0; run < 50; run++)
                {
                    var watch = Stopwatch.StartNew();
                    rows = (await PageAsync(store, query, deep)).Runs.Count;
                    times.Add(watch.Elapsed.TotalMilliseconds);
                }
                times.Sort();
                Console.WriteLine($"{Names[query]}: {rows} runs, median {times[25]:0.00} ms, max {times[^1]:0.00} ms");
            }
        }
        finally
        {
            await store.DisposeAsync();
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        return 0;
    }

    /// <summary>
    /// PostgreSQL plans from table statistics, which autovacuum gathers a little after a bulk load; the driver gathers
    /// them at once (ANALYZE) so that it measures the plans a store in service runs. SQLite has none to gather.
    /// </summary>
    public static async Task AnalyzeAsync(string? postgres)
    {
        if (string.IsNullOrWhiteSpace(postgres))
        {
            return;
        }
        await using var connection = new NpgsqlConnection(postgres);
        await connection.OpenAsync();
        await using var analyze = new NpgsqlCommand("ANALYZE", connection);
        await analyze.ExecuteNonQueryAsync();
    }
}

using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage;

namespace PerfOtel.Collector.Tests.Storage;

// Migration 16 (docs/collector/storage.md, Schema): SQLite drops the (tenant, agent, time) indexes of provider calls
// and evaluations, which PostgreSQL dropped in its migration 15 (a no-op here on PostgreSQL). No read used them: every
// read answers the same on a database written at version 15 and migrated.
public abstract partial class ExecutionStoreContract
{
    [Fact]
    public async Task Migration16_DropsTheAgentIndexesOfCallsAndEvaluations_AndEveryReadAnswersTheSame()
    {
        // A database at version 15: two tenants, two agents, each run with one call and one evaluation, one call and
        // one evaluation without an agent (not attributed), records at distinct times.
        var at = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
        var runs = new[]
        {
            TestRecords.Invocation(start: at, tenant: "acme", agent: "planner"),
            TestRecords.Invocation(start: at.AddSeconds(1), tenant: "acme", agent: "coder"),
            TestRecords.Invocation(start: at.AddSeconds(2), tenant: "globex", agent: "planner"),
            TestRecords.Invocation(start: at.AddSeconds(3), tenant: "acme", agent: "planner"),
        }.Select(i => i with { Confidence = null, Quality = null }).ToArray();
        var calls = runs.Select((i, n) => TestRecords.ProviderCall(i.TraceId, i.SpanId, i.SpanId,
            new TokenCounts(1000 * (n + 1), 0, 0, 0, 0), 0.01, start: i.StartTime.AddMilliseconds(100)) with
        {
            Tenant = i.Tenant, AgentName = i.AgentName, Attempt = 1, FallbackFrom = null,
        }).ToList();
        var evaluations = runs.Select(i => TestRecords.Evaluation(i.TraceId, i.SpanId, time: i.StartTime.AddMilliseconds(200))
            with { Tenant = i.Tenant, AgentName = i.AgentName }).ToList();
        // Not attributed: no agent, owner its parent (a stored run's span, so the run's summary counts it too).
        var agentless = TestRecords.ProviderCall(runs[0].TraceId, runs[0].SpanId, null, new TokenCounts(7, 0, 0, 0, 0), 0.01,
            start: at.AddSeconds(4)) with { Tenant = "acme", AgentName = null, Attempt = 1, FallbackFrom = null };
        calls.Add(agentless);
        evaluations.Add(TestRecords.Evaluation(runs[0].TraceId, TestRecords.SpanId(), time: at.AddSeconds(5))
            with { Tenant = "acme", AgentName = null });
        var summaries = new long[] { 1000 + 7, 2000, 3000, 4000 };
        var version15 = runs.Select((i, n) => InsertRun(i, callCount: n == 0 ? 2 : 1, callTokens: summaries[n]))
            .Concat(calls.Select(InsertCall))
            .Concat(evaluations.Select(e => Insert("evaluations", Columns.Evaluation, e.Tenant, e.TraceId, e.SpanId,
                e.Sequence, e.AgentName, e.Name, e.Score, e.Label, e.Time, e.SampleWeight)));
        await Store.DisposeAsync();

        Store = await RecreateAtSchemaVersionAsync(15, string.Join(";\n", version15));

        // The two indexes are gone; the time indexes the reads take stay.
        Assert.Empty(await IndexKeyColumnsAsync("ix_provider_calls_tenant_agent_start"));
        Assert.Empty(await IndexKeyColumnsAsync("ix_evaluations_tenant_agent_time"));
        Assert.Single(await IndexKeyColumnsAsync(TimeIndex("provider_calls")));
        Assert.Single(await IndexKeyColumnsAsync(TimeIndex("evaluations")));

        // Every read of calls and evaluations, in time order: everything (the start-up replay), a tenant's, a tenant's
        // agent's, with a start and an end.
        async Task<List<ProviderCall>> Calls(InvocationQuery query) => await ReadAll(Store.ReadProviderCallsAsync(query, CancellationToken.None));
        async Task<List<EvaluationRecord>> Evaluations(InvocationQuery query) => await ReadAll(Store.ReadEvaluationsAsync(query, CancellationToken.None));
        Assert.Equal(calls, await Calls(new InvocationQuery()));
        Assert.Equal(calls.Where(c => c.Tenant == "acme"), await Calls(new InvocationQuery { Tenant = "acme" }));
        Assert.Equal([calls[0], calls[3]], await Calls(new InvocationQuery { Tenant = "acme", AgentName = "planner" }));
        Assert.Equal([calls[3]], await Calls(new InvocationQuery { Tenant = "acme", AgentName = "planner", Since = at.AddSeconds(1) }));
        Assert.Equal([calls[0]], await Calls(new InvocationQuery { Tenant = "acme", AgentName = "planner", Until = at.AddSeconds(1) }));
        Assert.Equal([calls[2]], await Calls(new InvocationQuery { Tenant = "globex", AgentName = "planner" }));
        Assert.Empty(await Calls(new InvocationQuery { Tenant = "globex", AgentName = "coder" }));
        Assert.Equal([calls[1], calls[2]], await Calls(new InvocationQuery { Since = at.AddSeconds(1), Limit = 2 }));
        Assert.Equal(evaluations, await Evaluations(new InvocationQuery()));
        Assert.Equal([evaluations[0], evaluations[3]], await Evaluations(new InvocationQuery { Tenant = "acme", AgentName = "planner" }));
        Assert.Equal([evaluations[1]], await Evaluations(new InvocationQuery { Tenant = "acme", AgentName = "coder" }));
        Assert.Equal(evaluations.Where(e => e.Tenant == "acme"), await Evaluations(new InvocationQuery { Tenant = "acme" }));

        // A run's trace, its roll-up (the invocation read) and the run list's summary, which read the calls by owner.
        var trace = await ((IRunStore)Store).ReadTraceAsync("acme", runs[0].TraceId, CancellationToken.None);
        Assert.Equal([calls[0], agentless], trace.ProviderCalls.OrderBy(c => c.StartTime));
        Assert.Equal([evaluations[0], evaluations[4]], trace.Evaluations.OrderBy(e => e.Time));
        var rolled = await ReadInvocations(new InvocationQuery { Tenant = "acme", AgentName = "planner" });
        Assert.Equal([1007L, 4000L], rolled.Select(s => s.RolledUpTokens.Input));
        async Task<List<(string, long, long)>> RunList(string tenant, string? agent) =>
            [.. (await ((IRunStore)Store).SearchRunsAsync(new RunSearch { Tenant = tenant, AgentName = agent, Limit = 10 },
                CancellationToken.None)).Select(r => (r.Stored.Invocation.SpanId, r.Calls.Calls, r.Stored.RolledUpTokens.Input))];
        Assert.Equal([(runs[3].SpanId, 1L, 4000L), (runs[0].SpanId, 2L, 1007L)], await RunList("acme", "planner"));
        Assert.Equal([(runs[2].SpanId, 1L, 3000L)], await RunList("globex", null));

        // New records after the migration are stored and read the same way.
        var later = TestRecords.ProviderCall(runs[1].TraceId, runs[1].SpanId, runs[1].SpanId, new TokenCounts(5, 0, 0, 0, 0), 0.01,
            start: at.AddSeconds(6)) with { Tenant = "acme", AgentName = "coder", Attempt = 1, FallbackFrom = null };
        Assert.Single((await Store.WriteAsync(TestRecords.Batch(later), CancellationToken.None)).ProviderCalls);
        Assert.Equal([calls[1], later], await Calls(new InvocationQuery { Tenant = "acme", AgentName = "coder" }));
        Assert.Equal([(runs[1].SpanId, 2L, 2005L)], await RunList("acme", "coder"));
    }

    /// <summary>An invocation's row with the call summary of <paramref name="callCount"/> stored calls.</summary>
    private string InsertRun(AgentInvocation j, long callCount, long callTokens) => Insert("invocations", Columns.Invocation + ", " + CallTotals.ColumnNames,
        j.Tenant, j.TraceId, j.SpanId, j.ParentSpanId, j.ServiceName, j.AgentName, j.AgentId, j.AgentType, j.TaskId, j.TaskType,
        j.JobId, j.ConversationId, j.Experiment, j.Variant, j.StartTime, j.DurationSeconds, j.Outcome, j.ErrorType, j.Confidence,
        j.Quality, j.Tokens.Input, j.Tokens.Output, j.Tokens.CacheRead, j.Tokens.CacheCreation, j.Tokens.Reasoning,
        j.CostUsd, j.AttributesJson, j.SampleWeight, callCount, callTokens, 0, 0, 0);
}

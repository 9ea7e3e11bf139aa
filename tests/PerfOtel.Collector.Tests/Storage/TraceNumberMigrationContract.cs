using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage;

namespace PerfOtel.Collector.Tests.Storage;

// Migration 17 (docs/collector/storage.md, Schema): SQLite numbers traces and keys its span tables (trace_no, span_id),
// rebuilding them from what is stored; on PostgreSQL it adds nothing. A database written at version 16 answers every
// read, write and join as the same records written live through the store do, before and after new writes.
public abstract partial class ExecutionStoreContract
{
    [Fact]
    public async Task Migration17_AnswersEveryReadWriteAndJoinAsTheSameRecordsWrittenLive()
    {
        var at = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
        // The same trace and span ids under two tenants (two records each), a second trace, a call whose owner has no
        // invocation yet (an early call owner), a tool call, an evaluation and feedback joined to a run.
        var shared = TestRecords.TraceId();
        var spanA = TestRecords.SpanId();
        var a = TestRecords.Invocation(traceId: shared, spanId: spanA, taskId: "task-a", start: at, tenant: "acme");
        var g = TestRecords.Invocation(traceId: shared, spanId: spanA, start: at.AddSeconds(1), tenant: "globex");
        var b = TestRecords.Invocation(taskId: "task-b", start: at.AddSeconds(2), tenant: "acme", agent: "coder");
        ProviderCall Call(AgentInvocation owner, long tokens, int milliseconds) =>
            TestRecords.ProviderCall(owner.TraceId, owner.SpanId, owner.SpanId, new TokenCounts(tokens, 0, 0, 0, 0), 0.01,
                start: owner.StartTime.AddMilliseconds(milliseconds)) with
            {
                Tenant = owner.Tenant, AgentName = owner.AgentName, Attempt = 1, FallbackFrom = null,
            };
        var a1 = Call(a, 100, 10);
        var a2 = Call(a, 200, 20) with { RequestModel = "o3", CostUsd = 0.02 };
        var g1 = Call(g, 400, 10) with { SpanId = a1.SpanId };
        var b1 = Call(b, 800, 10);
        var waiting = TestRecords.SpanId();
        var early = TestRecords.ProviderCall(shared, waiting, waiting, new TokenCounts(1600, 0, 0, 0, 0), 0.04,
            start: at.AddSeconds(3)) with { Tenant = "acme", Attempt = 1, FallbackFrom = null };
        var tool = TestRecords.ToolCall(shared, at.AddMilliseconds(30)) with { Tenant = "acme", InvocationSpanId = spanA };
        var globexTool = tool with { Tenant = "globex" };
        var evaluation = TestRecords.Evaluation(shared, spanA, time: at.AddMilliseconds(40)) with { Tenant = "acme" };
        var feedback = TestRecords.Feedback(traceId: shared, spanId: spanA, receivedAt: at.AddMinutes(1)) with { Tenant = "acme" };
        var records = new object[] { a, g, b, a1, a2, g1, b1, early, tool, globexTool, evaluation };
        // Written after the migration (and after the live records): the early owner's invocation, a new call of b.
        var late = TestRecords.Invocation(traceId: shared, spanId: waiting, start: at.AddSeconds(4), tenant: "acme");
        var laterCall = Call(b, 3200, 30);

        async Task<List<List<object>>> AnswersAsync()
        {
            var runs = (IRunStore)Store;
            var answers = new List<List<object>>();
            answers.Add([.. await ReadInvocations()]);
            answers.Add([.. await ReadInvocations(new InvocationQuery { Tenant = "acme" })]);
            answers.Add([.. await ReadAll(Store.ReadProviderCallsAsync(new InvocationQuery(), CancellationToken.None))]);
            answers.Add([.. await ReadAll(Store.ReadToolCallsAsync(new InvocationQuery(), CancellationToken.None))]);
            answers.Add([.. await ReadAll(Store.ReadEvaluationsAsync(new InvocationQuery(), CancellationToken.None))]);
            foreach (var (tenant, trace) in new[] { ("acme", shared), ("globex", shared), ("acme", b.TraceId), ("globex", b.TraceId) })
            {
                var records = await runs.ReadTraceAsync(tenant, trace, CancellationToken.None);
                answers.Add([.. records.Invocations]);
                answers.Add([.. records.ProviderCalls.OrderBy(c => c.StartTime)]);
                answers.Add([.. records.ToolCalls]);
                answers.Add([.. records.Evaluations]);
            }

            foreach (var search in new[]
                     {
                         new RunSearch { Tenant = "acme", Limit = 10 },
                         new RunSearch { Tenant = "globex", Limit = 10 },
                         new RunSearch { Tenant = "acme", Limit = 10, TraceId = shared },
                         new RunSearch { Tenant = "acme", Limit = 10, Model = "o3" },
                         new RunSearch { Tenant = "acme", Limit = 10, MinCostUsd = 0.025 },
                         new RunSearch { Tenant = "globex", Limit = 10, TraceId = b.TraceId },
                     })
            {
                answers.Add([.. await runs.SearchRunsAsync(search, CancellationToken.None)]);
            }

            return answers;
        }

        async Task<List<List<object>>> WriteMoreAsync()
        {
            var more = new List<object>
            {
                // A resend of a stored call is not new; the early owner's invocation takes its call's sums; a new call of b.
                (await Store.WriteAsync(TestRecords.Batch(a1), CancellationToken.None)).ProviderCalls.Count,
                (await Store.WriteAsync(TestRecords.Batch(late), CancellationToken.None)).Invocations.Count,
                (await Store.WriteAsync(TestRecords.Batch(laterCall), CancellationToken.None)).ProviderCalls.Count,
                // Feedback by span and by task joins the stored runs.
                await Store.AddFeedbackAsync(TestRecords.Feedback(traceId: b.TraceId, spanId: b.SpanId, receivedAt: at.AddMinutes(2))
                    with { Tenant = "acme", FeedbackId = "by-span" }, CancellationToken.None),
                await Store.AddFeedbackAsync(TestRecords.Feedback(taskId: "task-a", receivedAt: at.AddMinutes(3))
                    with { Tenant = "acme", FeedbackId = "by-task" }, CancellationToken.None),
            };
            var answers = await AnswersAsync();
            answers.Add(more);
            return answers;
        }

        // Written live through the store.
        var onSqlite = Store is PerfOtel.Collector.Storage.Sqlite.SqliteExecutionStore;
        Assert.Equal(records.Length, (await Store.WriteAsync(TestRecords.Batch(records), CancellationToken.None)).Count);
        Assert.True((await Store.AddFeedbackAsync(feedback, CancellationToken.None)).Joined);
        var live = await AnswersAsync();
        var liveAfter = await WriteMoreAsync();
        await Store.DisposeAsync();

        // The same records as a database at version 16 stores them, then migrated.
        var version16 = new[]
            {
                InsertRun(a, callCount: 2, callTokens: 300), InsertRun(g, callCount: 1, callTokens: 400),
                InsertRun(b, callCount: 1, callTokens: 800),
            }
            .Concat(new[] { a1, a2, g1, b1, early }.Select(InsertCall))
            .Concat(new[] { tool, globexTool }.Select(t => Insert("tool_calls", Columns.ToolCall, t.Tenant, t.TraceId, t.SpanId,
                t.ParentSpanId, t.InvocationSpanId, t.AgentName, t.ToolName, t.ToolCallId, t.StartTime, t.DurationSeconds,
                t.ErrorType, t.SampleWeight)))
            .Append(Insert("evaluations", Columns.Evaluation, evaluation.Tenant, evaluation.TraceId, evaluation.SpanId,
                evaluation.Sequence, evaluation.AgentName, evaluation.Name, evaluation.Score, evaluation.Label, evaluation.Time,
                evaluation.SampleWeight))
            // SQLite's record of the early call's owner (migrations 12 and 14; PostgreSQL has none).
            .Concat(onSqlite ? [Insert("early_call_owners", "tenant, trace_id, span_id, " + CallTotals.ColumnNames, "acme", shared,
                waiting, 1, 1600, 0, 0, 0)] : Array.Empty<string>())
            .Append(FeedbackInsert(feedback, a));
        Store = await RecreateAtSchemaVersionAsync(16, string.Join(";\n", version16));

        var migrated = await AnswersAsync();
        Assert.Equal(live.Count, migrated.Count);
        for (var index = 0; index < live.Count; index++)
        {
            Assert.Equal(live[index], migrated[index]);
        }

        var migratedAfter = await WriteMoreAsync();
        for (var index = 0; index < liveAfter.Count; index++)
        {
            Assert.Equal(liveAfter[index], migratedAfter[index]);
        }

        // Not vacuous: the reads found the records (the run list of acme holds a, b and the early owner's run).
        const int firstRunList = 5 + 4 * 4;
        Assert.Equal(3, liveAfter[firstRunList].Count);
        Assert.Equal(new object[] { 0, 1, 1 }, liveAfter[^1].Take(3));
    }
}

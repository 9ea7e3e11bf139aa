using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Tests.Storage;

// Migration 18 (docs/collector/storage.md, Schema): SQLite keeps each task's latest run in task_latest_runs, filled from
// what is stored and kept by triggers, instead of an index of every run by task; on PostgreSQL it adds nothing. Feedback
// that names a task joins the same run on a migrated database as on one written live, before and after new runs.
public abstract partial class ExecutionStoreContract
{
    [Fact]
    public async Task Migration18_JoinsFeedbackByTaskToTheSameLatestRunAsTheRunsWrittenLive()
    {
        var at = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
        // task-a three times under acme (the newest stored second), once under globex; task-b once; a run with no task.
        var a1 = TestRecords.Invocation(taskId: "task-a", start: at, tenant: "acme");
        var a2 = TestRecords.Invocation(taskId: "task-a", start: at.AddSeconds(5), tenant: "acme");
        var a3 = TestRecords.Invocation(taskId: "task-a", start: at.AddSeconds(2), tenant: "acme");
        var g1 = TestRecords.Invocation(taskId: "task-a", start: at.AddSeconds(1), tenant: "globex");
        var b1 = TestRecords.Invocation(taskId: "task-b", start: at.AddSeconds(3), tenant: "acme", agent: "coder");
        var none = TestRecords.Invocation(start: at.AddSeconds(4), tenant: "acme");
        var stored = new[] { a1, a2, a3, g1, b1, none };
        // Written after the migration: an older run of task-a (not the latest), a newer one of task-b.
        var older = TestRecords.Invocation(taskId: "task-a", start: at.AddSeconds(-5), tenant: "acme");
        var newer = TestRecords.Invocation(taskId: "task-b", start: at.AddSeconds(30), tenant: "acme");
        var feedbackNumber = 0;

        async Task<List<object?>> JoinsAsync()
        {
            var joins = new List<object?>();
            foreach (var (tenant, task) in new[] { ("acme", "task-a"), ("globex", "task-a"), ("acme", "task-b"), ("acme", "task-c") })
            {
                var result = await Store.AddFeedbackAsync(TestRecords.Feedback(taskId: task, receivedAt: at.AddMinutes(1)) with
                {
                    Tenant = tenant, FeedbackId = $"f-{++feedbackNumber}",
                }, CancellationToken.None);
                joins.Add(result.Joined);
                joins.Add(result.Invocation?.SpanId);
            }
            return joins;
        }

        async Task<List<object?>> AnswersAsync()
        {
            var before = await JoinsAsync();
            Assert.Single((await Store.WriteAsync(TestRecords.Batch(older), CancellationToken.None)).Invocations);
            Assert.Single((await Store.WriteAsync(TestRecords.Batch(newer), CancellationToken.None)).Invocations);
            return [.. before, .. await JoinsAsync()];
        }

        // Written live through the store.
        Assert.Equal(stored.Length, (await Store.WriteAsync(TestRecords.Batch(stored), CancellationToken.None)).Count);
        var live = await AnswersAsync();
        await Store.DisposeAsync();

        // The same runs as a database at version 16 stores them, then migrated (17 and 18).
        feedbackNumber = 0;
        Store = await RecreateAtSchemaVersionAsync(16, string.Join(";\n", stored.Select(j => InsertRun(j, callCount: 0, callTokens: 0))));
        var migrated = await AnswersAsync();

        Assert.Equal(live, migrated);
        // Not vacuous: the newest run of each task, and task-b's new run once written.
        Assert.Equal(new object?[] { true, a2.SpanId, true, g1.SpanId, true, b1.SpanId, false, null }, live.Take(8));
        Assert.Equal(new object?[] { true, a2.SpanId, true, g1.SpanId, true, newer.SpanId, false, null }, live.Skip(8));
    }
}

using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage.Postgres;

namespace PerfOtel.Collector.Tests.Storage;

/// <summary>
/// Migration 15 on PostgreSQL (docs/collector/storage.md, Schema): the trace and span id columns compared by their bytes
/// (<c>COLLATE "C"</c>) instead of the database's collation, and the (tenant, agent, time) indexes of provider calls and
/// evaluations, which no read uses, dropped. The database here has the collation users' clusters usually have, ICU's
/// en-US, not the test cluster's C.UTF-8 (under which the old and new orders could not differ anywhere).
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresIdsInByteOrderMigrationTests(PostgresClusterFixture cluster) : IAsyncLifetime
{
    private readonly PostgresTestSchema _schema = PostgresTestSchema.InDatabaseOfItsOwn(
        cluster, "ids_", "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'");

    private string ConnectionString => _schema.ConnectionString;

    public Task InitializeAsync() => _schema.CreateAsync();

    public async Task DisposeAsync() => await _schema.DisposeAsync();

    [Fact]
    public async Task Migration15_ComparesIdsByTheirBytes_KeepsEveryRowAndItsReadsInTheirOrder()
    {
        // A database at version 14 under en-US, written by the store itself (its writes are the same at 14 and 15).
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await new PostgresMigrator(connection, NullLogger.Instance)
                .ApplyAsync([.. PostgresSchema.Migrations.Where(m => m.Version <= 14)], CancellationToken.None);
            Assert.True(await ScalarAsync<bool>(connection, "SELECT 'a' < 'B'"), "the database does not sort as en-US does");
        }

        // Runs sharing one start time (the run list's tie order is span id, then trace id), runs of two tenants, their
        // calls, tools and evaluations, a call whose invocation comes after the migration, feedback joined and pending.
        var at = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
        var runs = new[]
        {
            TestRecords.Invocation(spanId: "00000000000000c3", start: at, taskId: "t-1"),
            TestRecords.Invocation(spanId: "0f000000000000a1", start: at),
            TestRecords.Invocation(spanId: "a000000000000000", start: at),
            TestRecords.Invocation(spanId: "9fffffffffffffff", start: at, agent: "coder"),
            TestRecords.Invocation(start: at.AddSeconds(-1)),
            TestRecords.Invocation(start: at, tenant: "acme"),
        };
        var calls = runs.Where(r => r.Tenant == "default")
            .SelectMany(r => new[] { 100, 2000 }.Select(tokens =>
                TestRecords.ProviderCall(r.TraceId, r.SpanId, r.SpanId, new TokenCounts(tokens, 1, 0, 0, 0), 0.01)))
            .ToArray();
        var tools = runs.Take(2).Select(r => TestRecords.ToolCall(r.TraceId) with { InvocationSpanId = r.SpanId }).ToArray();
        var evaluations = runs.Take(2).Select(r => TestRecords.Evaluation(r.TraceId, r.SpanId)).ToArray();
        var laterRun = TestRecords.Invocation(start: at.AddSeconds(5));
        var earlyCall = TestRecords.ProviderCall(laterRun.TraceId, laterRun.SpanId, laterRun.SpanId,
            new TokenCounts(7000, 0, 0, 0, 0), 0.02);
        var seenAt = at.AddMinutes(1);
        var write = TestRecords.Batch([.. runs, .. calls, .. tools, .. evaluations, earlyCall]);
        write.SpanLinks.AddRange(runs.Select(r => new SpanLink
        {
            Tenant = r.Tenant, TraceId = r.TraceId, SpanId = r.SpanId, InvocationAgent = r.AgentName, SeenAt = seenAt,
        }));
        write.ExpiredSpans.Add(new ExpiredSpan("default", runs[4].TraceId, runs[4].SpanId, seenAt));

        await using (var atVersion14 = new PostgresExecutionStore(ConnectionString))
        {
            await atVersion14.WriteAsync(write, CancellationToken.None);
            Assert.True((await atVersion14.AddFeedbackAsync(
                TestRecords.Feedback(traceId: runs[1].TraceId, spanId: runs[1].SpanId), CancellationToken.None)).Joined);
            Assert.False((await atVersion14.AddFeedbackAsync(
                TestRecords.Feedback(traceId: laterRun.TraceId, spanId: laterRun.SpanId), CancellationToken.None)).Joined);
        }

        string[] before;
        await using (var atVersion14 = new PostgresExecutionStore(ConnectionString))
        {
            before = await ReadEverythingAsync(atVersion14, runs);
        }

        // Migration 15, as a collector's start-up applies it.
        await using var store = new PostgresExecutionStore(ConnectionString);
        await store.InitializeAsync(CancellationToken.None);
        var after = await ReadEverythingAsync(store, runs);

        // Every row and every read, in the same order (ids are lowercase hex: byte order is en-US's order for them).
        Assert.Equal(before.Length, after.Length);
        for (var read = 0; read < before.Length; read++)
        {
            Assert.Equal(before[read], after[read]);
        }
        Assert.Contains(runs[1].SpanId, before[5], StringComparison.Ordinal);

        await using var connection14 = new NpgsqlConnection(ConnectionString);
        await connection14.OpenAsync();
        // The id columns of every table that compares ids compare bytes; the tenant keeps the database's collation.
        var collations = await RowsAsync(connection14, """
            SELECT table_name || '.' || column_name || ' ' || coalesce(collation_name, 'default') FROM information_schema.columns
            WHERE table_schema = current_schema() AND data_type = 'text'
              AND (column_name LIKE '%trace_id' OR column_name LIKE '%span_id' OR column_name = 'tenant')
              AND table_name IN ('invocations', 'provider_calls', 'tool_calls', 'evaluations', 'feedback', 'span_link_expiries')
            ORDER BY 1
            """);
        Assert.Equal(26, collations.Count);
        Assert.All(collations, c => Assert.EndsWith(c.Contains(".tenant ", StringComparison.Ordinal) ? " default" : " C", c));
        Assert.False(await ScalarAsync<bool>(connection14, "SELECT to_regclass('ix_provider_calls_tenant_agent_start') IS NOT NULL"));
        Assert.False(await ScalarAsync<bool>(connection14, "SELECT to_regclass('ix_evaluations_tenant_agent_time') IS NOT NULL"));

        // The lookups between tables keep their indexes (an index serves a comparison only under its own collation, and a
        // text column of the database's collation compared with a "C" one is compared under "C"): a run's own calls
        // (the summary's probe, the run reads), its latest feedback (the invocation reads).
        await ScalarAsync<long>(connection14, "SET enable_seqscan = off");
        foreach (var (sql, index, column) in new[]
                 {
                     ("SELECT * FROM invocations i JOIN provider_calls p ON p.tenant = i.tenant AND p.trace_id = i.trace_id AND p.owner_span_id = i.span_id WHERE i.tenant = 'default' AND i.trace_id = 'x' AND i.span_id = 'y'", "ix_provider_calls_owner", "owner_span_id"),
                     ("SELECT * FROM invocations i LEFT JOIN LATERAL (SELECT * FROM feedback f WHERE f.invocation_trace_id = i.trace_id AND f.invocation_span_id = i.span_id AND f.tenant = i.tenant ORDER BY f.received_at DESC LIMIT 1) f ON true WHERE i.tenant = 'default' AND i.trace_id = 'x' AND i.span_id = 'y'", "ix_feedback_invocation", "invocation_span_id"),
                 })
        {
            await using var explain = new NpgsqlCommand("EXPLAIN " + sql, connection14);
            var plan = new List<string>();
            await using (var reader = await explain.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    plan.Add(reader.GetString(0));
                }
            }
            // The index, with the id compared inside it (not only the tenant, which keeps its collation).
            var found = plan.FindIndex(line => line.Contains(index, StringComparison.Ordinal));
            Assert.True(found >= 0, string.Join('\n', plan));
            Assert.Contains($"{column} = ", plan[found + 1], StringComparison.Ordinal);
            Assert.Contains("Index Cond", plan[found + 1], StringComparison.Ordinal);
        }

        // Writes after it: the invocation whose call and feedback came first takes both; a late call joins its run.
        var lateCall = TestRecords.ProviderCall(runs[0].TraceId, runs[0].SpanId, runs[0].SpanId, new TokenCounts(5, 5, 0, 0, 0), 0.01);
        var written = await store.WriteAsync(TestRecords.Batch(laterRun, lateCall), CancellationToken.None);
        Assert.Equal(runs[0].SpanId, Assert.Single(written.ProviderCalls).InvocationSpanId);
        Assert.Equal(laterRun.SpanId, Assert.Single(written.JoinedFeedback).Invocation.SpanId);
        var summaries = await RowsAsync(connection14,
            "SELECT span_id || ' ' || call_count || ' ' || call_tokens FROM invocations WHERE span_id IN ('00000000000000c3', '" + laterRun.SpanId + "') ORDER BY start_time");
        Assert.Equal(["00000000000000c3 3 2112", $"{laterRun.SpanId} 1 7000"], summaries);
    }

    /// <summary>Every read the collector makes of these records, each as JSON in the order the store returned it.</summary>
    internal static async Task<string[]> ReadEverythingAsync(PostgresExecutionStore store, AgentInvocation[] runs)
    {
        static async Task<string> Json<T>(IAsyncEnumerable<T> source)
        {
            var items = new List<T>();
            await foreach (var item in source)
            {
                items.Add(item);
            }
            return JsonSerializer.Serialize(items);
        }

        var everything = new InvocationQuery();
        var page = await store.SearchRunsAsync(new RunSearch { Tenant = "default", Limit = 3 }, CancellationToken.None);
        var last = page[^1].Stored.Invocation;
        var next = await store.SearchRunsAsync(new RunSearch
        {
            Tenant = "default", Limit = 10, After = new RunCursor(last.StartTime, last.SpanId, last.TraceId),
        }, CancellationToken.None);
        return
        [
            await Json(store.ReadInvocationsAsync(everything, CancellationToken.None)),
            await Json(store.ReadProviderCallsAsync(everything, CancellationToken.None)),
            await Json(store.ReadToolCallsAsync(everything, CancellationToken.None)),
            await Json(store.ReadEvaluationsAsync(everything, CancellationToken.None)),
            await Json(store.ReadSpanLinksAsync(CancellationToken.None)),
            JsonSerializer.Serialize(page.Concat(next).Select(r => r.Stored.Invocation.SpanId + " " + r.Calls)),
            JsonSerializer.Serialize(await store.SearchRunsAsync(new RunSearch { Tenant = "default", Limit = 10, AgentName = "coder" }, CancellationToken.None)),
            JsonSerializer.Serialize(await store.ReadTraceAsync("default", runs[0].TraceId, CancellationToken.None)),
            await Json(store.ReadCommittedAsync(0, long.MaxValue, new HashSet<long>(), 4096, CancellationToken.None)),
        ];
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        var value = await command.ExecuteScalarAsync();
        return value is T typed ? typed : default!;
    }

    private static async Task<List<string>> RowsAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }
        return rows;
    }
}

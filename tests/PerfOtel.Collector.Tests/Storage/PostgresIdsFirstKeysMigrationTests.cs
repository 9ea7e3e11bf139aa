using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage.Postgres;

namespace PerfOtel.Collector.Tests.Storage;

/// <summary>
/// Migration 19 on PostgreSQL (docs/collector/storage.md, Schema): the B-trees looked up by a record's ids lead with
/// the trace and span ids and end with the tenant. Data written at version 18 answers every read after it as before,
/// tenants stay apart (the same ids from two tenants are two records, each read by its own tenant only), and the
/// primary keys still decide exactly-once: a resend is redone skipping what is stored, by the keys' unchanged names.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresIdsFirstKeysMigrationTests(PostgresClusterFixture cluster) : IAsyncLifetime
{
    private readonly PostgresTestSchema _schema = new(cluster, "keys_");

    private string ConnectionString => _schema.ConnectionString;

    public Task InitializeAsync() => _schema.CreateAsync();

    public async Task DisposeAsync() => await _schema.DisposeAsync();

    /// <summary>The id-keyed B-trees and their key columns after migration 19.</summary>
    public static readonly (string Index, string[] Columns)[] IdsFirst =
    [
        ("invocations_pkey", ["trace_id", "span_id", "tenant"]),
        ("provider_calls_pkey", ["trace_id", "span_id", "tenant"]),
        ("tool_calls_pkey", ["trace_id", "span_id", "tenant"]),
        ("evaluations_pkey", ["trace_id", "span_id", "sequence", "tenant"]),
        ("span_link_expiries_pkey", ["trace_id", "span_id", "tenant"]),
        ("ix_provider_calls_owner", ["trace_id", "owner_span_id", "tenant"]),
        ("ix_feedback_pending_span", ["trace_id", "span_id", "tenant"]),
        ("ix_feedback_invocation", ["invocation_trace_id", "invocation_span_id", "tenant", "received_at"]),
    ];

    [Fact]
    public async Task Migration19_PutsTheIdsBeforeTheTenant_KeepsEveryRowItsReadsTenantsApartAndExactlyOnce()
    {
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await new PostgresMigrator(connection, NullLogger.Instance)
                .ApplyAsync([.. PostgresSchema.Migrations.Where(m => m.Version <= 18)], CancellationToken.None);
        }

        // Runs sharing one start time (the run list's tie order is span id, then trace id), a run of tenant acme with
        // the very trace and span ids of a default run, and one of its calls with a default call's ids; calls, tools,
        // evaluations, links and an expiry mark; a call whose invocation comes after the migration; feedback joined
        // and pending.
        var at = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
        var runs = new[]
        {
            TestRecords.Invocation(spanId: "00000000000000c3", start: at, taskId: "t-1"),
            TestRecords.Invocation(spanId: "0f000000000000a1", start: at),
            TestRecords.Invocation(spanId: "a000000000000000", start: at),
            TestRecords.Invocation(spanId: "9fffffffffffffff", start: at, agent: "coder"),
            TestRecords.Invocation(start: at.AddSeconds(-1)),
        };
        var twin = runs[1] with { Tenant = "acme", AgentName = "acme-agent" };
        var calls = runs
            .SelectMany(r => new[] { 100, 2000 }.Select(tokens =>
                TestRecords.ProviderCall(r.TraceId, r.SpanId, r.SpanId, new TokenCounts(tokens, 1, 0, 0, 0), 0.01)))
            .ToArray();
        var twinCall = calls[2] with { Tenant = "acme", Tokens = new TokenCounts(30_000, 0, 0, 0, 0) };
        var tools = runs.Take(2).Select(r => TestRecords.ToolCall(r.TraceId) with { InvocationSpanId = r.SpanId }).ToArray();
        var evaluations = runs.Take(2).Select(r => TestRecords.Evaluation(r.TraceId, r.SpanId)).ToArray();
        var twinEvaluation = evaluations[1] with { Tenant = "acme", Score = 0.1 };
        var laterRun = TestRecords.Invocation(start: at.AddSeconds(5));
        var earlyCall = TestRecords.ProviderCall(laterRun.TraceId, laterRun.SpanId, laterRun.SpanId,
            new TokenCounts(7000, 0, 0, 0, 0), 0.02);
        var seenAt = at.AddMinutes(1);
        var write = TestRecords.Batch([.. runs, twin, .. calls, twinCall, .. tools, .. evaluations, twinEvaluation, earlyCall]);
        write.SpanLinks.AddRange(runs.Append(twin).Select(r => new SpanLink
        {
            Tenant = r.Tenant, TraceId = r.TraceId, SpanId = r.SpanId, InvocationAgent = r.AgentName, SeenAt = seenAt,
        }));
        write.ExpiredSpans.Add(new ExpiredSpan("default", runs[4].TraceId, runs[4].SpanId, seenAt));

        await using (var atVersion18 = new PostgresExecutionStore(ConnectionString))
        {
            var stored = await atVersion18.WriteAsync(write, CancellationToken.None);
            Assert.Equal((6, 12, 2, 3), (stored.Invocations.Count, stored.ProviderCalls.Count, stored.ToolCalls.Count, stored.Evaluations.Count));
            Assert.True((await atVersion18.AddFeedbackAsync(
                TestRecords.Feedback(traceId: runs[1].TraceId, spanId: runs[1].SpanId), CancellationToken.None)).Joined);
            Assert.True((await atVersion18.AddFeedbackAsync(
                TestRecords.Feedback(traceId: twin.TraceId, spanId: twin.SpanId) with { Tenant = "acme", Score = 0.2 },
                CancellationToken.None)).Joined);
            Assert.False((await atVersion18.AddFeedbackAsync(
                TestRecords.Feedback(traceId: laterRun.TraceId, spanId: laterRun.SpanId), CancellationToken.None)).Joined);
        }

        string[] before;
        await using (var atVersion18 = new PostgresExecutionStore(ConnectionString))
        {
            before = [.. await PostgresIdsInByteOrderMigrationTests.ReadEverythingAsync(atVersion18, runs), .. await ReadAcmeAsync(atVersion18, twin)];
        }

        // Migration 19, as a collector's start-up applies it.
        await using var store = new PostgresExecutionStore(ConnectionString);
        await store.InitializeAsync(CancellationToken.None);
        string[] after = [.. await PostgresIdsInByteOrderMigrationTests.ReadEverythingAsync(store, runs), .. await ReadAcmeAsync(store, twin)];

        Assert.Equal(before.Length, after.Length);
        for (var read = 0; read < before.Length; read++)
        {
            Assert.Equal(before[read], after[read]);
        }

        // Each tenant reads its own records of the shared ids, and only those.
        Assert.Contains("acme-agent", before[^2], StringComparison.Ordinal);
        Assert.Contains("30000", before[^2], StringComparison.Ordinal);
        Assert.Contains(twin.SpanId, before[^1], StringComparison.Ordinal);
        Assert.DoesNotContain("acme-agent", before[^1], StringComparison.Ordinal);
        Assert.DoesNotContain("30000", before[^1], StringComparison.Ordinal);

        await using var connection19 = new NpgsqlConnection(ConnectionString);
        await connection19.OpenAsync();
        foreach (var (index, columns) in IdsFirst)
        {
            Assert.Equal(columns, await KeyColumnsAsync(connection19, index));
        }

        // Exactly-once after it: the whole write again stores nothing and is redone skipping what is stored (a plain
        // insert meeting a key named table_pkey); the same ids from a third tenant are new records.
        var again = await store.WriteAsync(write, CancellationToken.None);
        Assert.Equal((0, 0, 0, 0), (again.Invocations.Count, again.ProviderCalls.Count, again.ToolCalls.Count, again.Evaluations.Count));
        Assert.Equal(1, store.WritesRedoneSkippingStored);
        var third = await store.WriteAsync(TestRecords.Batch(runs[0] with { Tenant = "third" },
            calls[0] with { Tenant = "third" }, evaluations[0] with { Tenant = "third" }), CancellationToken.None);
        Assert.Equal((1, 1, 1), (third.Invocations.Count, third.ProviderCalls.Count, third.Evaluations.Count));
        Assert.Equal(1, store.WritesRedoneSkippingStored);

        // Writes after it: the invocation whose call and feedback came first takes both; a late call joins its run.
        var lateCall = TestRecords.ProviderCall(runs[0].TraceId, runs[0].SpanId, runs[0].SpanId, new TokenCounts(5, 5, 0, 0, 0), 0.01);
        var written = await store.WriteAsync(TestRecords.Batch(laterRun, lateCall), CancellationToken.None);
        Assert.Equal(runs[0].SpanId, Assert.Single(written.ProviderCalls).InvocationSpanId);
        Assert.Equal(laterRun.SpanId, Assert.Single(written.JoinedFeedback).Invocation.SpanId);
        await using var summary = new NpgsqlCommand("""
            SELECT tenant || ' ' || span_id || ' ' || call_count || ' ' || call_tokens FROM invocations
            WHERE span_id IN ($1, $2, $3) ORDER BY start_time, tenant, span_id
            """, connection19);
        summary.Parameters.AddWithValue(runs[0].SpanId);
        summary.Parameters.AddWithValue(runs[1].SpanId);
        summary.Parameters.AddWithValue(laterRun.SpanId);
        var rows = new List<string>();
        await using (var reader = await summary.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows.Add(reader.GetString(0));
            }
        }
        Assert.Equal([$"acme {runs[1].SpanId} 1 30000", $"default {runs[0].SpanId} 3 2112", $"default {runs[1].SpanId} 2 2102",
            $"third {runs[0].SpanId} 1 101", $"default {laterRun.SpanId} 1 7000"], rows);
    }

    /// <summary>Tenant acme's reads of its records that share their ids with default ones, then default's read of that trace.</summary>
    private static async Task<string[]> ReadAcmeAsync(PostgresExecutionStore store, AgentInvocation twin)
    {
        var acme = new InvocationQuery { Tenant = "acme" };
        var invocations = new List<StoredInvocation>();
        await foreach (var invocation in store.ReadInvocationsAsync(acme, CancellationToken.None))
        {
            invocations.Add(invocation);
        }
        return
        [
            JsonSerializer.Serialize(invocations),
            JsonSerializer.Serialize(await store.SearchRunsAsync(new RunSearch { Tenant = "acme", Limit = 10 }, CancellationToken.None)),
            JsonSerializer.Serialize(await store.ReadTraceAsync("acme", twin.TraceId, CancellationToken.None)),
            JsonSerializer.Serialize(await store.ReadTraceAsync("default", twin.TraceId, CancellationToken.None)),
        ];
    }

    /// <summary>An index's key columns in order (INCLUDE columns left out).</summary>
    internal static async Task<string[]> KeyColumnsAsync(NpgsqlConnection connection, string index)
    {
        await using var command = new NpgsqlCommand("""
            SELECT a.attname FROM pg_index x
            CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
            JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
            WHERE x.indexrelid = to_regclass($1) AND k.n <= x.indnkeyatts
            ORDER BY k.n
            """, connection);
        command.Parameters.AddWithValue(index);
        var columns = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            columns.Add(reader.GetString(0));
        }
        return [.. columns];
    }
}

using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage.Postgres;

namespace PerfOtel.Collector.Tests.Storage;

/// <summary>
/// Migration 21 on PostgreSQL (docs/collector/storage.md, Schema): fewer index entries per record. Data written at
/// version 20 by two tenants answers every read after it as before, the derivation leader's catch-up by commit position
/// reads exactly the records of each range (those written before the migration and those written after), and retention
/// deletes exactly the records before its cutoff.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresTimeIndexMigrationTests(PostgresClusterFixture cluster) : IAsyncLifetime
{
    private readonly string _schema = "timeidx_" + Guid.NewGuid().ToString("N")[..16];

    private string ConnectionString =>
        new NpgsqlConnectionStringBuilder(cluster.ConnectionString) { SearchPath = _schema }.ToString();

    public async Task InitializeAsync()
    {
        await using var connection = new NpgsqlConnection(cluster.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE SCHEMA {_schema}", connection);
        await command.ExecuteNonQueryAsync();
    }

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(cluster.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"DROP SCHEMA IF EXISTS {_schema} CASCADE", connection);
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task Migration21_KeepsEveryReadTheLeadersCommitRangesAndRetentionExact_ForTwoTenants()
    {
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await new PostgresMigrator(connection, NullLogger.Instance)
                .ApplyAsync([.. PostgresSchema.Migrations.Where(m => m.Version <= 20)], CancellationToken.None);
        }

        // Runs of two tenants, some sharing one start time and some within one second of each other, an old run of each
        // tenant before the retention cutoff, calls, tool calls and evaluations with times out of their arrival order;
        // one task id run twice by default and once by acme.
        var at = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
        var cutoff = at.AddMinutes(-30);
        var runs = new[]
        {
            TestRecords.Invocation(start: at.AddMilliseconds(900), taskId: "t-1"),
            TestRecords.Invocation(start: at, taskId: "t-1"),
            TestRecords.Invocation(start: at, agent: "coder"),
            TestRecords.Invocation(start: at.AddMilliseconds(-1)),
            TestRecords.Invocation(start: at.AddSeconds(1)),
            TestRecords.Invocation(start: at, tenant: "acme", agent: "acme-agent", taskId: "t-1"),
            TestRecords.Invocation(start: cutoff.AddSeconds(-1)),
            TestRecords.Invocation(start: cutoff.AddMilliseconds(-1), tenant: "acme", agent: "acme-agent"),
        };
        IngestBatch Records(AgentInvocation[] of, int late)
        {
            var batch = TestRecords.Batch([.. of]);
            foreach (var (run, n) in of.Select((r, n) => (r, n)))
            {
                foreach (var offset in (int[])[700 - n, 5, -300])
                {
                    batch.ProviderCalls.Add(TestRecords.ProviderCall(run.TraceId, run.SpanId, run.SpanId,
                        new TokenCounts(100 + n, 1, 0, 0, 0), 0.01, start: run.StartTime.AddMilliseconds(offset + late)) with { Tenant = run.Tenant });
                }
                batch.ToolCalls.Add(TestRecords.ToolCall(run.TraceId, run.StartTime.AddMilliseconds(400 - n)) with
                {
                    Tenant = run.Tenant, InvocationSpanId = run.SpanId,
                });
                batch.Evaluations.Add(TestRecords.Evaluation(run.TraceId, run.SpanId, time: run.StartTime.AddMilliseconds(999 - n)) with
                {
                    Tenant = run.Tenant,
                });
            }
            return batch;
        }

        var first = Records(runs, 0);
        IReadOnlyList<long> firstPositions;
        await using (var atVersion20 = new PostgresExecutionStore(ConnectionString))
        {
            var stored = await atVersion20.WriteAsync(first, CancellationToken.None);
            Assert.Equal((8, 24, 8, 8), (stored.Invocations.Count, stored.ProviderCalls.Count, stored.ToolCalls.Count, stored.Evaluations.Count));
            firstPositions = stored.CommitPositions;
        }

        string[] before;
        await using (var atVersion20 = new PostgresExecutionStore(ConnectionString))
        {
            before = [.. await PostgresIdsInByteOrderMigrationTests.ReadEverythingAsync(atVersion20, runs), .. await ReadAcmeAsync(atVersion20)];
        }

        // Migration 21, as a collector's start-up applies it.
        await using var store = new PostgresExecutionStore(ConnectionString);
        await store.InitializeAsync(CancellationToken.None);
        string[] after = [.. await PostgresIdsInByteOrderMigrationTests.ReadEverythingAsync(store, runs), .. await ReadAcmeAsync(store)];
        Assert.Equal(before.Length, after.Length);
        for (var read = 0; read < before.Length; read++)
        {
            Assert.Equal(before[read], after[read]);
        }
        Assert.Contains("acme-agent", before[^1], StringComparison.Ordinal);
        Assert.DoesNotContain("\"planner\"", before[^1], StringComparison.Ordinal);

        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync();
            foreach (var (index, definition) in Indexes)
            {
                await using var command = new NpgsqlCommand("SELECT pg_get_indexdef(to_regclass($1))", connection);
                command.Parameters.AddWithValue(index);
                Assert.Contains(definition, (await command.ExecuteScalarAsync()) as string ?? $"{index}: no such index", StringComparison.Ordinal);
            }
            foreach (var index in Dropped)
            {
                await using var command = new NpgsqlCommand("SELECT to_regclass($1) IS NULL", connection);
                command.Parameters.AddWithValue(index);
                Assert.True((bool)(await command.ExecuteScalarAsync())!, $"{index} is still there");
            }
        }

        // Records written after it, of both tenants: the leader's range of their commits reads exactly them, the range
        // before reads exactly the records written at version 20, and a skipped position is left out.
        var later = new[]
        {
            TestRecords.Invocation(start: at.AddMilliseconds(500), taskId: "t-1"),
            TestRecords.Invocation(start: at.AddMilliseconds(500), tenant: "acme", agent: "acme-agent"),
        };
        var second = Records(later, -2000);
        var written = await store.WriteAsync(second, CancellationToken.None);
        Assert.Equal((2, 6, 2, 2), (written.Invocations.Count, written.ProviderCalls.Count, written.ToolCalls.Count, written.Evaluations.Count));
        var end = written.CommitPositions.Max() + 1;
        var afterMigration = await CommittedAsync(store, firstPositions.Max() + 1, end, []);
        Assert.Equal(Ids(second), afterMigration);
        Assert.Equal(Ids(first), await CommittedAsync(store, 0, firstPositions.Max() + 1, []));
        Assert.Equal(Ids(first).Concat(Ids(second)).Order(StringComparer.Ordinal),
            (await CommittedAsync(store, 0, end, [])).Order(StringComparer.Ordinal));
        Assert.Empty(await CommittedAsync(store, 0, end, [.. firstPositions, .. written.CommitPositions]));

        // Feedback by task joins its own tenant's latest run of that task.
        var feedback = await store.AddFeedbackAsync(TestRecords.Feedback(taskId: "t-1", receivedAt: at), CancellationToken.None);
        Assert.Equal(runs[0].SpanId, feedback.Invocation?.SpanId);
        var acmeFeedback = await store.AddFeedbackAsync(TestRecords.Feedback(taskId: "t-1", receivedAt: at) with { Tenant = "acme" },
            CancellationToken.None);
        Assert.Equal(runs[5].SpanId, acmeFeedback.Invocation?.SpanId);

        // Retention: exactly the records that started before the cutoff, of both tenants, whatever their order of
        // arrival (an old run's calls, tool call and evaluation fall on either side of it).
        var all = new[] { first, second };
        var old = all.Sum(b => b.Invocations.Count(i => i.StartTime < cutoff) + b.ProviderCalls.Count(c => c.StartTime < cutoff)
                               + b.ToolCalls.Count(t => t.StartTime < cutoff) + b.Evaluations.Count(e => e.Time < cutoff));
        Assert.InRange(old, 8, 16);
        Assert.Equal(old, await store.DeleteOlderThanAsync(cutoff, CancellationToken.None));
        var kept = await PostgresIdsInByteOrderMigrationTests.ReadEverythingAsync(store, runs);
        foreach (var batch in all)
        {
            foreach (var (id, time, read) in batch.Invocations.Select(i => (i.SpanId, i.StartTime, 0))
                         .Concat(batch.ProviderCalls.Select(c => (c.SpanId, c.StartTime, 1)))
                         .Concat(batch.ToolCalls.Select(t => (t.SpanId, t.StartTime, 2)))
                         .Concat(batch.Evaluations.Select(e => (e.TraceId, e.Time, 3))))
            {
                Assert.Equal(time >= cutoff, kept[read].Contains(id, StringComparison.Ordinal));
            }
        }
        Assert.Equal(0, await store.DeleteOlderThanAsync(cutoff, CancellationToken.None));
    }

    /// <summary>The indexes migration 21 leaves, each with a part of its definition (pg_get_indexdef).</summary>
    internal static readonly (string Index, string Definition)[] Indexes =
    [
        ("ix_provider_calls_start_second", "USING btree (date_bin('00:00:01'::interval, start_time, '2000-01-01 "),
        ("ix_tool_calls_start_second", "USING btree (date_bin('00:00:01'::interval, start_time, '2000-01-01 "),
        ("ix_evaluations_time_second", "USING btree (date_bin('00:00:01'::interval, \"time\", '2000-01-01 "),
        ("ix_invocations_start", "USING btree (start_time)"),
    ];

    /// <summary>The indexes migration 21 drops.</summary>
    internal static readonly string[] Dropped = ["ix_provider_calls_start", "ix_tool_calls_start", "ix_evaluations_time"];

    private static IEnumerable<string> Ids(IngestBatch batch) =>
        batch.Invocations.Select(i => $"i {i.Tenant} {i.SpanId}")
            .Concat(batch.ProviderCalls.Select(c => $"c {c.Tenant} {c.SpanId}"))
            .Concat(batch.ToolCalls.Select(t => $"t {t.Tenant} {t.SpanId}"))
            .Concat(batch.Evaluations.Select(e => $"e {e.Tenant} {e.SpanId}"))
            .Order(StringComparer.Ordinal);

    private static async Task<List<string>> CommittedAsync(PostgresExecutionStore store, long from, long to, long[] skip)
    {
        var ids = new List<string>();
        await foreach (var batch in store.ReadCommittedAsync(from, to, new HashSet<long>(skip), 4096, CancellationToken.None))
        {
            ids.AddRange(Ids(batch));
        }
        return [.. ids.Order(StringComparer.Ordinal)];
    }

    /// <summary>Tenant acme's reads: its invocations with their calls, its run list.</summary>
    private static async Task<string[]> ReadAcmeAsync(PostgresExecutionStore store)
    {
        var invocations = new List<StoredInvocation>();
        await foreach (var invocation in store.ReadInvocationsAsync(new InvocationQuery { Tenant = "acme" }, CancellationToken.None))
        {
            invocations.Add(invocation);
        }
        return
        [
            JsonSerializer.Serialize(invocations),
            JsonSerializer.Serialize(await store.SearchRunsAsync(new RunSearch { Tenant = "acme", Limit = 10 }, CancellationToken.None)),
        ];
    }
}

using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage.Sqlite;

namespace PerfOtel.Collector.Tests.Storage;

// Migration 20 (docs/collector/storage.md, Schema): SQLite keys the time indexes of provider calls, tool calls and
// evaluations by the second. Every read of them and retention answer the same, on a store written live and on one
// written at version 19 and migrated: records inside one second stored out of their time order, a tie in time, the
// edges of a second, a range and a retention cutoff inside a second.
public sealed partial class SqliteExecutionStoreTests
{
    private static readonly string[] TimeIndexes = ["ix_provider_calls_start_second", "ix_tool_calls_start_second", "ix_evaluations_time_second"];

    [Fact]
    public async Task Migration20_TimeIndexesBySecond_EveryReadAndRetentionAnswerTheSame()
    {
        var at = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
        // Milliseconds after `at`, in the order written (so rowids are out of time order inside each second); 100 twice.
        int[] offsets = [900, 100, 1000, 999, 0, 2500, 1999, 100, 500, -1];
        var calls = new List<ProviderCall>();
        var tools = new List<ToolCall>();
        var evaluations = new List<EvaluationRecord>();
        for (var n = 0; n < offsets.Length; n++)
        {
            var time = at.AddMilliseconds(offsets[n]);
            var (tenant, agent) = (n % 2 == 0 ? "acme" : "globex", n % 3 == 0 ? "planner" : "coder");
            var traceId = TestRecords.TraceId();
            calls.Add(TestRecords.ProviderCall(traceId, null, null, new TokenCounts(10, 1, 0, 0, 0), 0.01, start: time)
                with { Tenant = tenant, AgentName = agent });
            tools.Add(TestRecords.ToolCall(traceId, time) with { Tenant = tenant, AgentName = agent });
            evaluations.Add(TestRecords.Evaluation(traceId, TestRecords.SpanId(), time: time) with { Tenant = tenant, AgentName = agent });
        }

        async Task WriteAsync()
        {
            for (var n = 0; n < offsets.Length; n++)
            {
                await Store.WriteAsync(TestRecords.Batch(calls[n], tools[n], evaluations[n]), CancellationToken.None);
            }
        }

        // What each read must return: the records in time order, ties in the order written, then filtered.
        var queries = new (InvocationQuery Query, Func<DateTimeOffset, string, string?, bool> Keeps, int? Limit)[]
        {
            (new InvocationQuery(), (_, _, _) => true, null),
            (new InvocationQuery { Tenant = "acme" }, (_, t, _) => t == "acme", null),
            (new InvocationQuery { Tenant = "acme", AgentName = "planner" }, (_, t, a) => t == "acme" && a == "planner", null),
            (new InvocationQuery { Since = at.AddMilliseconds(500) }, (time, _, _) => time >= at.AddMilliseconds(500), null),
            (new InvocationQuery { Until = at.AddMilliseconds(1500) }, (time, _, _) => time < at.AddMilliseconds(1500), null),
            (new InvocationQuery { Since = at.AddMilliseconds(100), Until = at.AddSeconds(1) },
                (time, _, _) => time >= at.AddMilliseconds(100) && time < at.AddSeconds(1), null),
            (new InvocationQuery { Since = at.AddMilliseconds(100), Limit = 3 }, (time, _, _) => time >= at.AddMilliseconds(100), 3),
            (new InvocationQuery { Tenant = "globex", Since = at.AddMilliseconds(-1), Until = at.AddSeconds(2) },
                (time, t, _) => t == "globex" && time >= at.AddMilliseconds(-1) && time < at.AddSeconds(2), null),
        };

        async Task AnswersAsync(DateTimeOffset? retainedSince)
        {
            bool Stored(DateTimeOffset time) => retainedSince is not { } cutoff || time >= cutoff;
            foreach (var (query, keeps, limit) in queries)
            {
                List<T> Expected<T>(List<T> records, Func<T, (DateTimeOffset, string, string?)> key) =>
                    [.. records.Select((r, n) => (r, n)).OrderBy(x => key(x.r).Item1).ThenBy(x => x.n).Select(x => x.r)
                        .Where(r => Stored(key(r).Item1) && keeps(key(r).Item1, key(r).Item2, key(r).Item3))
                        .Take(limit ?? int.MaxValue)];
                Assert.Equal(Expected(calls, c => (c.StartTime, c.Tenant, c.AgentName)),
                    await ReadAll(Store.ReadProviderCallsAsync(query, CancellationToken.None)));
                Assert.Equal(Expected(tools, c => (c.StartTime, c.Tenant, c.AgentName)),
                    await ReadAll(Store.ReadToolCallsAsync(query, CancellationToken.None)));
                Assert.Equal(Expected(evaluations, e => (e.Time, e.Tenant, e.AgentName)),
                    await ReadAll(Store.ReadEvaluationsAsync(query, CancellationToken.None)));
            }
        }

        async Task AnswersThroughRetentionAsync()
        {
            await AnswersAsync(null);
            // A cutoff inside a second (950 ms: 999 and 1000 stay), then one at a second's start (1999 goes, 2500 stays).
            Assert.Equal(3 * 6, await Store.DeleteOlderThanAsync(at.AddMilliseconds(950), CancellationToken.None));
            await AnswersAsync(at.AddMilliseconds(950));
            Assert.Equal(3 * 3, await Store.DeleteOlderThanAsync(at.AddSeconds(2), CancellationToken.None));
            await AnswersAsync(at.AddSeconds(2));
        }

        // Written live at version 20.
        await WriteAsync();
        Assert.Equal(TimeIndexes, await IndexesAsync());
        await AnswersThroughRetentionAsync();

        // Written at version 19 (the same database with migration 20 undone: exactly the indexes of a version-19
        // database), then migrated when the store opens.
        var runListAt20 = await Version20RunListIndexSqlAsync();
        Store = await RecreateAtSchemaVersionAsync(20, "SELECT 1");
        await WriteAsync();
        await Store.DisposeAsync();
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(_directory, SqliteExecutionStore.FileName)};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            // Migrations 22 and 21 undone too (the store opened at version 20 went on to 22): the run-list indexes of
            // version 20.
            command.CommandText = UndoMigration22 + string.Concat(RunListIndexes.Select(name => $"DROP INDEX {name};\n"))
                + string.Concat(runListAt20.Select(sql => sql + ";\n")) + """
                DELETE FROM schema_migrations WHERE version = 21;
                DROP INDEX ix_provider_calls_start_second;
                DROP INDEX ix_tool_calls_start_second;
                DROP INDEX ix_evaluations_time_second;
                CREATE INDEX ix_provider_calls_start ON provider_calls (start_time);
                CREATE INDEX ix_tool_calls_start ON tool_calls (start_time);
                CREATE INDEX ix_evaluations_time ON evaluations (time);
                DELETE FROM schema_migrations WHERE version = 20;
                """;
            await command.ExecuteNonQueryAsync();
        }
        Assert.Equal(await IndexSqlAsync(Path.Combine(_directory, SqliteExecutionStore.FileName)), await AtVersionAsync(19, IndexSqlAsync));

        Store = await OpenStoreAsync();
        Assert.Equal(TimeIndexes, await IndexesAsync());
        await AnswersThroughRetentionAsync();
    }

    private async Task<List<string>> IndexesAsync()
    {
        await using var connection = new SqliteConnection($"Data Source={((SqliteExecutionStore)Store).DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT name FROM sqlite_schema WHERE type = 'index'
              AND tbl_name IN ('provider_calls', 'tool_calls', 'evaluations') AND (name LIKE '%start%' OR name LIKE '%time%')
            ORDER BY tbl_name = 'evaluations', tbl_name = 'tool_calls', name
            """;
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }
        return names;
    }

    private static async Task<List<string>> IndexSqlAsync(string path)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT name || ': ' || coalesce(sql, '') FROM sqlite_schema WHERE type = 'index' ORDER BY name";
        var indexes = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            indexes.Add(reader.GetString(0));
        }
        return indexes;
    }

    /// <summary>The names of the invocations' indexes whose names are LIKE <paramref name="like"/>, sorted.</summary>
    private async Task<List<string>> InvocationIndexNamesAsync(string like)
    {
        await using var connection = new SqliteConnection($"Data Source={((SqliteExecutionStore)Store).DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'invocations' AND name LIKE $like ORDER BY name";
        command.Parameters.AddWithValue("$like", like);
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }
        return names;
    }

    /// <summary>Reads, with <paramref name="read"/>, a throwaway database migrated up to <paramref name="version"/>.</summary>
    private static async Task<List<string>> AtVersionAsync(int version, Func<string, Task<List<string>>> read)
    {
        var path = Path.Combine(Path.GetTempPath(), $"perfotel-sqlite-v{version}-" + Guid.NewGuid().ToString("N") + ".db");
        try
        {
            await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
            {
                await connection.OpenAsync();
                new SqliteMigrator(connection, NullLogger.Instance).Apply([.. SqliteSchema.Migrations.Where(m => m.Version <= version)]);
            }
            return await read(path);
        }
        finally
        {
            File.Delete(path);
        }
    }
}

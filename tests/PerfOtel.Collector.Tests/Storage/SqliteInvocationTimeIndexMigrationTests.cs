using Microsoft.Data.Sqlite;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage.Sqlite;

namespace PerfOtel.Collector.Tests.Storage;

// Migration 22 (docs/collector/storage.md, Schema): SQLite keys the invocations' time index by the second, and the
// invocation read puts each second's invocations in time order itself. Every invocation read (with its calls' roll-up)
// and retention answer as the time order says, on a store written live and on one written at version 21 and migrated:
// invocations inside one second stored out of their time order, a tie in time, the edges of a second, a range, a limit
// that ends inside a second and retention cutoffs inside a second.
public sealed partial class SqliteExecutionStoreTests
{
    [Fact]
    public async Task Migration22_InvocationTimeIndexBySecond_EveryInvocationReadAndRetentionAnswerTheSame()
    {
        var at = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
        // Milliseconds after `at`, in the order written (so rowids are out of time order inside each second); 100 twice.
        int[] offsets = [900, 100, 1000, 999, 0, 2500, 1999, 100, 500, -1];
        var invocations = new List<AgentInvocation>();
        var calls = new List<ProviderCall>();
        for (var n = 0; n < offsets.Length; n++)
        {
            var time = at.AddMilliseconds(offsets[n]);
            var invocation = TestRecords.Invocation(start: time, tenant: n % 2 == 0 ? "acme" : "globex",
                agent: n % 3 == 0 ? "planner" : "coder");
            invocations.Add(invocation);
            // One call each, owned by its invocation, with tokens that say which invocation rolled it up.
            calls.Add(TestRecords.ProviderCall(invocation.TraceId, invocation.SpanId, invocation.SpanId,
                new TokenCounts(100 * (n + 1), 1, 0, 0, 0), 0.01, start: time) with { Tenant = invocation.Tenant, AgentName = invocation.AgentName });
        }

        async Task WriteAsync()
        {
            for (var n = 0; n < offsets.Length; n++)
            {
                await Store.WriteAsync(TestRecords.Batch(invocations[n], calls[n]), CancellationToken.None);
            }
        }

        var queries = new (InvocationQuery Query, Func<AgentInvocation, bool> Keeps)[]
        {
            (new InvocationQuery(), _ => true),
            (new InvocationQuery { Tenant = "acme" }, i => i.Tenant == "acme"),
            (new InvocationQuery { Tenant = "acme", AgentName = "planner" }, i => i.Tenant == "acme" && i.AgentName == "planner"),
            (new InvocationQuery { Since = at.AddMilliseconds(500) }, i => i.StartTime >= at.AddMilliseconds(500)),
            (new InvocationQuery { Until = at.AddMilliseconds(1500) }, i => i.StartTime < at.AddMilliseconds(1500)),
            (new InvocationQuery { Since = at.AddMilliseconds(100), Until = at.AddSeconds(1) },
                i => i.StartTime >= at.AddMilliseconds(100) && i.StartTime < at.AddSeconds(1)),
            // Ends inside the second whose rowid order differs most from its time order.
            (new InvocationQuery { Since = at.AddMilliseconds(100), Limit = 3 }, i => i.StartTime >= at.AddMilliseconds(100)),
            (new InvocationQuery { Limit = 7 }, _ => true),
            (new InvocationQuery { Limit = 0 }, _ => true),
            (new InvocationQuery { Tenant = "globex", Since = at.AddMilliseconds(-1), Until = at.AddSeconds(2), Limit = 50 },
                i => i.Tenant == "globex" && i.StartTime >= at.AddMilliseconds(-1) && i.StartTime < at.AddSeconds(2)),
        };

        async Task AnswersAsync(DateTimeOffset? retainedSince)
        {
            foreach (var (query, keeps) in queries)
            {
                // The invocations in time order, ties in the order written, then filtered and limited.
                var expected = invocations.Select((i, n) => (i, n)).OrderBy(x => x.i.StartTime).ThenBy(x => x.n)
                    .Where(x => (retainedSince is not { } cutoff || x.i.StartTime >= cutoff) && keeps(x.i))
                    .Take(query.Limit ?? int.MaxValue).ToList();
                var read = await ReadInvocations(query);
                Assert.Equal(expected.Select(x => x.i.SpanId), read.Select(s => s.Invocation.SpanId));
                Assert.Equal(expected.Select(x => 100L * (x.n + 1)), read.Select(s => s.RolledUpTokens.Input));
            }
        }

        async Task AnswersThroughRetentionAsync()
        {
            await AnswersAsync(null);
            // A cutoff inside a second (950 ms: 999 and 1000 stay), then one at a second's start (1999 goes, 2500 stays);
            // each invocation goes with its call.
            Assert.Equal(2 * 6, await Store.DeleteOlderThanAsync(at.AddMilliseconds(950), CancellationToken.None));
            await AnswersAsync(at.AddMilliseconds(950));
            Assert.Equal(2 * 3, await Store.DeleteOlderThanAsync(at.AddSeconds(2), CancellationToken.None));
            await AnswersAsync(at.AddSeconds(2));
        }

        // Written live at version 22.
        await WriteAsync();
        Assert.Equal(["ix_invocations_start_second"], await InvocationIndexNamesAsync("ix_invocations_start%"));
        await AnswersThroughRetentionAsync();

        // Written at version 21 (the same database with migration 22 undone), then migrated when the store opens.
        Store = await RecreateAtSchemaVersionAsync(21, "SELECT 1");
        await WriteAsync();
        await Store.DisposeAsync();
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(_directory, SqliteExecutionStore.FileName)};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = UndoMigration22;
            await command.ExecuteNonQueryAsync();
        }
        Assert.Equal(await IndexSqlAsync(Path.Combine(_directory, SqliteExecutionStore.FileName)), await AtVersionAsync(21, IndexSqlAsync));

        Store = await OpenStoreAsync();
        Assert.Equal(["ix_invocations_start_second"], await InvocationIndexNamesAsync("ix_invocations_start%"));
        await AnswersThroughRetentionAsync();
    }

    [Fact]
    public async Task RetentionFindsTheInvocationsBeforeTheCutoffOnTheirTimeIndexBySecond()
    {
        await Store.WriteAsync(TestRecords.Batch(TestRecords.Invocation()), CancellationToken.None);
        var plan = await QueryPlanAsync($"SELECT rowid FROM invocations WHERE {SqliteWriteSession.SecondsBefore("start_time")} LIMIT $limit",
            [("$cutoff", SqliteTime.ToMicros(TestRecords.Start)), ("$limit", 1000)]);

        Assert.Equal(["SEARCH invocations USING INDEX ix_invocations_start_second (<expr><?)"], plan);
    }

    /// <summary>Turns a version-22 database back into a version-21 one (the tests of earlier migrations undo it too).</summary>
    private const string UndoMigration22 = """
        DROP INDEX ix_invocations_start_second;
        CREATE INDEX ix_invocations_start ON invocations (start_time);
        DELETE FROM schema_migrations WHERE version = 22;

        """;
}

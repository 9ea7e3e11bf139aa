using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage;
using PerfOtel.Collector.Storage.Sqlite;

namespace PerfOtel.Collector.Tests.Storage;

// Migration 21 (docs/collector/storage.md, Schema): SQLite keys the run list's indexes of invocations by the second, and
// the run list orders by (second, start_time, span_id, trace_id) newest first. Every page answers the same, on a store
// written live and on one written at version 20 and migrated: runs inside one second stored out of their time order,
// ties in start time broken by span id and then trace id, the edges of a second, two tenants and agents, cursors across
// a second's edge, each filter with an index (agent, job, error type, the warnings) and since/until inside a second.
public sealed partial class SqliteExecutionStoreTests
{
    private static readonly string[] RunListIndexes =
    [
        "ix_invocations_tenant_agent_second", "ix_invocations_tenant_error_second", "ix_invocations_tenant_fallback_second",
        "ix_invocations_tenant_high_tokens_second", "ix_invocations_tenant_job_second",
        "ix_invocations_tenant_low_confidence_second", "ix_invocations_tenant_low_quality_second",
        "ix_invocations_tenant_retried_second", "ix_invocations_tenant_second", "ix_invocations_tenant_unpriced_second",
    ];

    private static readonly string[] RunListIndexesBefore21 =
    [
        "ix_invocations_tenant_agent_start_span", "ix_invocations_tenant_error_start", "ix_invocations_tenant_fallback_start",
        "ix_invocations_tenant_high_tokens_start", "ix_invocations_tenant_job_start",
        "ix_invocations_tenant_low_confidence_start", "ix_invocations_tenant_low_quality_start",
        "ix_invocations_tenant_retried_start", "ix_invocations_tenant_start_span", "ix_invocations_tenant_unpriced_start",
    ];

    [Fact]
    public async Task Migration21_RunListIndexesBySecond_EveryPageAnswersTheSame()
    {
        var at = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
        // Milliseconds after `at`, in the order written (rowids out of time order inside each second); 100 four times,
        // twice with the same span id (the tie goes to the trace id), 1000 twice (a second's first microsecond).
        int[] offsets = [900, 100, 1000, 999, 0, 2500, 1999, 100, 500, -1, 1000, 3000, 2001, 100, 100, 1500];
        var sharedSpan = TestRecords.SpanId();
        var runs = new List<AgentInvocation>();
        for (var n = 0; n < offsets.Length; n++)
        {
            runs.Add(TestRecords.Invocation(spanId: n is 13 or 14 ? sharedSpan : null, start: at.AddMilliseconds(offsets[n]),
                tenant: n % 5 == 4 ? "globex" : "acme", agent: n % 3 == 0 ? "planner" : "coder") with
            {
                JobId = n % 4 == 0 ? null : n % 4 == 1 ? "job-1" : "job-2",
                ErrorType = n % 2 == 0 ? "timeout" : null,
                Confidence = n % 3 == 1 ? 0.1 : n % 3 == 2 ? 0.4 : 0.9,
                Quality = n % 4 == 3 ? 0.3 : 0.95,
                Tokens = new TokenCounts(n % 2 == 1 ? 4_000 + 1_000 * n : 100, 1_000, 0, 0, 0),
            });
        }

        async Task WriteAsync()
        {
            foreach (var run in runs)
            {
                await Store.WriteAsync(TestRecords.Batch(run), CancellationToken.None);
            }
        }

        static int Newest(AgentInvocation a, AgentInvocation b)
        {
            var c = b.StartTime.CompareTo(a.StartTime);
            c = c != 0 ? c : string.CompareOrdinal(b.SpanId, a.SpanId);
            return c != 0 ? c : string.CompareOrdinal(b.TraceId, a.TraceId);
        }

        RunWarningFilter Warning(string name, double threshold) =>
            new() { Warning = name, Threshold = threshold, AccuracyThreshold = 0.5 };
        var searches = new (RunSearch Search, Func<AgentInvocation, bool> Keeps)[]
        {
            (new RunSearch { Tenant = "acme", Limit = 0 }, r => r.Tenant == "acme"),
            (new RunSearch { Tenant = "globex", Limit = 0 }, r => r.Tenant == "globex"),
            (new RunSearch { Tenant = "acme", AgentName = "planner", Limit = 0 }, r => r.Tenant == "acme" && r.AgentName == "planner"),
            (new RunSearch { Tenant = "acme", JobId = "job-2", Limit = 0 }, r => r.Tenant == "acme" && r.JobId == "job-2"),
            (new RunSearch { Tenant = "acme", ErrorType = "timeout", Limit = 0 }, r => r.Tenant == "acme" && r.ErrorType == "timeout"),
            (new RunSearch { Tenant = "acme", Since = at.AddMilliseconds(100), Until = at.AddMilliseconds(2001), Limit = 0 },
                r => r.Tenant == "acme" && r.StartTime >= at.AddMilliseconds(100) && r.StartTime < at.AddMilliseconds(2001)),
            (new RunSearch { Tenant = "acme", Until = at.AddSeconds(1), Limit = 0 }, r => r.Tenant == "acme" && r.StartTime < at.AddSeconds(1)),
            (new RunSearch { Tenant = "acme", Warning = Warning("low_confidence", 0.5), Limit = 0 },
                r => r.Tenant == "acme" && r.Confidence < 0.5),
            (new RunSearch { Tenant = "acme", Warning = Warning("low_confidence", 0.2), Limit = 0 },
                r => r.Tenant == "acme" && r.Confidence < 0.2),
            (new RunSearch { Tenant = "acme", Warning = Warning("low_confidence", 0.95), Limit = 0 },
                r => r.Tenant == "acme" && r.Confidence < 0.95),
            (new RunSearch { Tenant = "acme", Warning = Warning("high_token_usage", 5_000), Limit = 0 },
                r => r.Tenant == "acme" && r.Tokens.Input + r.Tokens.Output > 5_000),
            (new RunSearch { Tenant = "acme", Warning = Warning("high_token_usage", 12_000), Limit = 0 },
                r => r.Tenant == "acme" && r.Tokens.Input + r.Tokens.Output > 12_000),
            (new RunSearch { Tenant = "acme", AgentName = "coder", Warning = Warning("quality_concern", 0.7), Limit = 0 },
                r => r.Tenant == "acme" && r.AgentName == "coder" && r.Quality < 0.7),
        };

        async Task AnswersAsync()
        {
            foreach (var (search, keeps) in searches)
            {
                var expected = runs.Where(keeps).Order(Comparer<AgentInvocation>.Create(Newest))
                    .Select(r => (r.TraceId, r.SpanId)).ToList();
                Assert.NotEmpty(expected);
                // One page of everything, then pages of 2 and 3 by the keyset cursor (across the seconds' edges).
                foreach (var limit in new[] { 100, 2, 3 })
                {
                    var pages = new List<(string, string)>();
                    RunCursor? after = null;
                    while (true)
                    {
                        var page = await ((IRunStore)Store).SearchRunsAsync(search with { Limit = limit, After = after },
                            CancellationToken.None);
                        pages.AddRange(page.Select(r => (r.Stored.Invocation.TraceId, r.Stored.Invocation.SpanId)));
                        if (page.Count < limit)
                        {
                            break;
                        }
                        var last = page[^1].Stored.Invocation;
                        after = new RunCursor(last.StartTime, last.SpanId, last.TraceId);
                    }
                    Assert.Equal(expected, pages);
                }
            }
        }

        // The quality_concern search in its two steps as well (a window of one run per result, then the index).
        async Task AnswersBothStepsAsync()
        {
            await AnswersAsync();
            var walk = RunSql.TimeWalkRowsPerResult;
            RunSql.TimeWalkRowsPerResult = 1;
            try
            {
                await AnswersAsync();
            }
            finally
            {
                RunSql.TimeWalkRowsPerResult = walk;
            }
        }

        // Written live at version 21.
        await WriteAsync();
        Assert.Equal(RunListIndexes, await InvocationIndexNamesAsync("ix_invocations_tenant_%"));
        await AnswersBothStepsAsync();

        // Written at version 20 (the same database with migration 21 undone: the run-list indexes of a version-20
        // database, exactly), then migrated when the store opens.
        var version20 = await Version20RunListIndexSqlAsync();
        Store = await RecreateAtSchemaVersionAsync(21, "SELECT 1");
        await WriteAsync();
        await Store.DisposeAsync();
        var path = Path.Combine(_directory, SqliteExecutionStore.FileName);
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            // Migration 22 undone first (the store opened at version 21 went on to 22).
            command.CommandText = UndoMigration22 + string.Concat(RunListIndexes.Select(name => $"DROP INDEX {name};\n"))
                + string.Concat(version20.Select(sql => sql + ";\n")) + "DELETE FROM schema_migrations WHERE version = 21;";
            await command.ExecuteNonQueryAsync();
        }
        Assert.Equal(await Version20IndexSqlAsync(), await IndexSqlAsync(path));

        Store = await OpenStoreAsync();
        Assert.Equal(RunListIndexes, await InvocationIndexNamesAsync("ix_invocations_tenant_%"));
        await AnswersBothStepsAsync();
    }

    [Theory]
    [InlineData(null, null, "ix_invocations_tenant_second (tenant=?", false)]
    [InlineData(null, null, "ix_invocations_tenant_second (tenant=?", true)]
    [InlineData("planner", null, "ix_invocations_tenant_agent_second (tenant=? AND agent_name=?", false)]
    [InlineData("planner", null, "ix_invocations_tenant_agent_second (tenant=? AND agent_name=?", true)]
    [InlineData(null, "job-1", "ix_invocations_tenant_job_second (tenant=? AND job_id=?", true)]
    [InlineData(null, "low_confidence", "ix_invocations_tenant_low_confidence_second (tenant=?", false)]
    [InlineData(null, "low_confidence", "ix_invocations_tenant_low_confidence_second (tenant=?", true)]
    [InlineData(null, "high_token_usage", "ix_invocations_tenant_high_tokens_second (tenant=?", false)]
    [InlineData(null, "fallback_used", "ix_invocations_tenant_fallback_second (tenant=?", true)]
    public async Task RunListPages_RangeOverTheSecondsOfTheirIndex_SortingOneSecondAtATime(string? agent, string? filter,
        string index, bool after)
    {
        // The first page and a page after a cursor: a range of seconds (up to the cursor's) of the filter's index (keyed
        // by the second since migration 21), the rows of each second sorted by (start_time, span_id, trace_id), never all
        // of the tenant's. The first page too gives a range on the second (from the lowest): without one SQLite took
        // the agent index with the tenant alone and sorted every run of the tenant.
        await Store.WriteAsync(TestRecords.Batch(TestRecords.Invocation()), CancellationToken.None);
        var warning = filter is "low_confidence" or "high_token_usage" or "fallback_used"
            ? new RunWarningFilter { Warning = filter, Threshold = filter == "low_confidence" ? 0.5 : 5_000 }
            : null;
        var (sql, parameters) = SqliteExecutionStore.Runs.Search(new RunSearch
        {
            Tenant = "default", AgentName = agent, JobId = filter == "job-1" ? filter : null, Warning = warning, Limit = 50,
            After = after ? new RunCursor(TestRecords.Start, TestRecords.SpanId(), TestRecords.TraceId()) : null,
        });

        var plan = await QueryPlanAsync(sql, parameters);

        Assert.Contains($"SEARCH i USING INDEX {index} AND {(after ? "<expr><?" : "<expr>>?")})", plan);
        Assert.Contains("USE TEMP B-TREE FOR LAST 3 TERMS OF ORDER BY", plan);
        Assert.DoesNotContain(plan, step => step.StartsWith("SCAN i", StringComparison.Ordinal));
    }

    private static async Task<List<string>> Version20IndexSqlAsync() => await AtVersionAsync(20, IndexSqlAsync);

    /// <summary>The CREATE statements of the run-list indexes of a version-20 database, as it has them.</summary>
    private static async Task<List<string>> Version20RunListIndexSqlAsync() => await AtVersionAsync(20, async path =>
    {
        await using var connection = new SqliteConnection($"Data Source={path};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        var statements = new List<string>();
        foreach (var name in RunListIndexesBefore21)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT sql FROM sqlite_schema WHERE type = 'index' AND name = $name";
            command.Parameters.AddWithValue("$name", name);
            statements.Add((string)(await command.ExecuteScalarAsync())!);
        }
        return statements;
    });
}

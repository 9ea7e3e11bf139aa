using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage;
using PerfOtel.Collector.Storage.Sqlite;

namespace PerfOtel.Collector.Tests.Storage;

/// <summary>Heavy store suites run alone (see <see cref="PostgresCollection"/>).</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeavyStoreCollection
{
    public const string Name = "heavy-store";
}

[Collection(HeavyStoreCollection.Name)]
public sealed partial class SqliteExecutionStoreTests : ExecutionStoreContract
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "perfotel-sqlite-" + Guid.NewGuid().ToString("N"));

    protected override IReadOnlyDictionary<string, string?> HostSettings => new Dictionary<string, string?>
    {
        ["Storage:Provider"] = "sqlite",
        ["Storage:DataDirectory"] = _directory,
    };

    protected override async Task<IExecutionStore> OpenStoreAsync()
    {
        var store = new SqliteExecutionStore(_directory, fullDurability: true);
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    protected override async Task<IExecutionStore> RecreateAtSchemaVersionAsync(int version, string sql)
    {
        Directory.Delete(_directory, recursive: true);
        Directory.CreateDirectory(_directory);
        await using (var connection = new SqliteConnection(
                         $"Data Source={Path.Combine(_directory, SqliteExecutionStore.FileName)};Pooling=False"))
        {
            await connection.OpenAsync();
            new SqliteMigrator(connection, NullLogger.Instance).Apply([.. SqliteSchema.Migrations.Where(m => m.Version <= version)]);
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync();
        }

        return await OpenStoreAsync();
    }

    protected override async Task<List<string?>> IndexKeyColumnsAsync(string index)
    {
        await using var connection = new SqliteConnection($"Data Source={((SqliteExecutionStore)Store).DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        // index_xinfo lists the key columns (key = 1) in order, then the rowid; an expression's name is NULL.
        command.CommandText = "SELECT name FROM pragma_index_xinfo($index) WHERE key = 1 ORDER BY seqno";
        command.Parameters.AddWithValue("$index", index);
        var columns = new List<string?>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            columns.Add(reader.IsDBNull(0) ? null : reader.GetString(0));
        }
        return columns;
    }

    protected override string TimeIndex(string table) => base.TimeIndex(table) + "_second";

    // Migration 21: the warnings' partial indexes keyed (tenant, second), the compared value tested on the row.
    protected override (string Index, List<string?> Columns) WarningIndex(string warning) =>
        (warning == PerfOtel.Collector.Derived.Runs.RunWarnings.LowConfidence
            ? "ix_invocations_tenant_low_confidence_second" : "ix_invocations_tenant_high_tokens_second", ["tenant", null]);

    protected override string TimeLiteral(DateTimeOffset time) =>
        SqliteTime.ToMicros(time).ToString(System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task EarlyCallOwners_HoldOnlyOwnersWithStoredCallsAndNoInvocation()
    {
        // Calls under I's span before I, under an intermediate span X later re-owned to I, and agent-less under Y.
        var now = DateTimeOffset.UtcNow;
        var i = TestRecords.Invocation(start: now.AddMinutes(-5));
        ProviderCall Call(string traceId, string parent, DateTimeOffset start) =>
            TestRecords.ProviderCall(traceId, parent, null, new TokenCounts(10, 0, 0, 0, 0), 0.01, start: start);
        var x = TestRecords.SpanId();
        var y = TestRecords.SpanId();
        var underX = Call(i.TraceId, x, now.AddMinutes(-4));
        var agentless = Call(i.TraceId, y, now.AddMinutes(-30));
        await Store.WriteAsync(TestRecords.Batch(Call(i.TraceId, i.SpanId, now.AddMinutes(-4)), underX, agentless), CancellationToken.None);
        Assert.Equal(new[] { i.SpanId, x, y }.Order(StringComparer.Ordinal), (await EarlyOwnersAsync()).Order(StringComparer.Ordinal));

        // I's arrival takes its record; re-owning X's only call takes X's; retention of Y's only call takes Y's.
        var batch = TestRecords.Batch(i);
        batch.Attributions.Add(new AttributionUpdate("default", i.TraceId, underX.SpanId, i.SpanId, i.AgentName));
        await Store.WriteAsync(batch, CancellationToken.None);
        Assert.Equal([y], await EarlyOwnersAsync());
        await Store.DeleteOlderThanAsync(now.AddMinutes(-10), CancellationToken.None);
        Assert.Empty(await EarlyOwnersAsync());

        // Retention of I while its calls stay gives it back its record.
        await Store.DeleteOlderThanAsync(now.AddMinutes(-4.5), CancellationToken.None);
        Assert.Equal([i.SpanId], await EarlyOwnersAsync());
    }

    [Fact]
    public async Task EarlyCallOwners_CarryExactlyTheSumsOfTheirStoredCalls_ThroughReowningAndRetention()
    {
        // Since migration 14 an early call owner holds its calls' sums, which a new invocation takes instead of reading
        // the calls. Checked against the calls themselves after every step: calls of one owner over three writes (a
        // retry, a fallback, a resend), two owners under intermediate spans of one trace, a partial re-owning, retention
        // of some of an owner's calls, then the owners' invocations.
        var now = DateTimeOffset.UtcNow;
        var traceId = TestRecords.TraceId();
        var (a, b) = (TestRecords.SpanId(), TestRecords.SpanId());
        ProviderCall Call(string parent, long tokens, int minutesAgo) =>
            TestRecords.ProviderCall(traceId, parent, null, new TokenCounts(tokens, 7, 0, 0, 0), 0.01, start: now.AddMinutes(-minutesAgo))
                with { Attempt = 1, FallbackFrom = null };
        var a1 = Call(a, 100, 30);
        var a2 = Call(a, 200, 5) with { Attempt = 3 };
        var a3 = Call(a, 400, 5) with { FallbackFrom = "gpt-4o", UnpricedTokens = 407 };
        var b1 = Call(b, 800, 30);
        var b2 = Call(b, 1600, 5);
        await Store.WriteAsync(TestRecords.Batch(a1, b1), CancellationToken.None);
        await AssertEarlyOwnerSumsMatchTheCallsAsync(2);
        await Store.WriteAsync(TestRecords.Batch(a2, b2), CancellationToken.None);
        await Store.WriteAsync(TestRecords.Batch(a3, a1), CancellationToken.None);
        await AssertEarlyOwnerSumsMatchTheCallsAsync(2);

        // b2 moves from B to invocation A (not stored either); then retention takes a1 and b1; B is left without calls.
        var moving = TestRecords.Batch();
        moving.Attributions.Add(new AttributionUpdate("default", traceId, b2.SpanId, a, "agent"));
        await Store.WriteAsync(moving, CancellationToken.None);
        await AssertEarlyOwnerSumsMatchTheCallsAsync(2);
        await Store.DeleteOlderThanAsync(now.AddMinutes(-10), CancellationToken.None);
        await AssertEarlyOwnerSumsMatchTheCallsAsync(1);

        // A's invocation takes the record: its summary is exactly what stays under A (a2, a3, b2), read from the calls.
        var invocationA = TestRecords.Invocation(traceId: traceId, spanId: a, start: now.AddMinutes(-6));
        await Store.WriteAsync(TestRecords.Batch(invocationA), CancellationToken.None);
        await AssertEarlyOwnerSumsMatchTheCallsAsync(0);
        Assert.Equal((3L, 200 + 7 + 400 + 7 + 1600 + 7L, 407L, 1L, 1L), await SummaryAsync(a));

        // Retention of A while its calls stay gives the record back with A's summary.
        await Store.DeleteOlderThanAsync(now.AddMinutes(-5.5), CancellationToken.None);
        await AssertEarlyOwnerSumsMatchTheCallsAsync(1);
    }

    [Fact]
    public async Task OwnerReads_TakeThePrimaryKeysTraceNumberPrefix_NoIndexIsKeyedByOwner()
    {
        // Migration 14: one B-tree keyed by trace per call (the primary key), not two; since migration 17 that key is
        // (trace_no, span_id). The owner reads (the roll-up of the run reads and the run list, which read every call of
        // the trace, no more) use its trace_no prefix.
        await using var connection = new SqliteConnection($"Data Source={((SqliteExecutionStore)Store).DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT i.name FROM pragma_index_list('provider_calls') i
            WHERE EXISTS (SELECT 1 FROM pragma_index_info(i.name) c WHERE c.name = 'owner_span_id')
            """;
        Assert.Null(await command.ExecuteScalarAsync());

        command.CommandText = """
            EXPLAIN QUERY PLAN SELECT COUNT(*), SUM(input_tokens) FROM provider_calls
            WHERE trace_no = 7 AND owner_span_id = 'bb'
            """;
        var plan = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(3));
            }
        }

        Assert.Equal(["SEARCH provider_calls USING INDEX sqlite_autoindex_provider_calls_1 (trace_no=?)"], plan);
    }

    [Fact]
    public async Task SpanTablesAreKeyedByTraceNumber_OneRandomKeyedTreePerTrace()
    {
        // Migration 17: the one B-tree keyed by the random trace id is traces (tenant, trace_id), one entry per trace; the
        // three span tables' keys are (trace_no, span_id), numbers given in arrival order (they grow at the right edge).
        Assert.Equal(["tenant", "trace_id"], await PrimaryKeyAsync("traces"));
        foreach (var table in new[] { "invocations", "provider_calls", "tool_calls" })
        {
            Assert.Equal(["trace_no", "span_id"], await PrimaryKeyAsync(table));
            // No other index of the table leads with the trace id.
            Assert.DoesNotContain(await IndexesLeadingWithAsync(table, "trace_id"), name => true);
        }

        // Three traces in three writes (two of them in one): numbered in that order, one number per trace and tenant,
        // whatever its spans and however often it is sent.
        var first = TestRecords.Invocation();
        var second = TestRecords.Invocation();
        var third = TestRecords.Invocation();
        var secondCall = TestRecords.ProviderCall(second.TraceId, second.SpanId, second.SpanId, new TokenCounts(1, 0, 0, 0, 0), 0.01);
        await Store.WriteAsync(TestRecords.Batch(first), CancellationToken.None);
        await Store.WriteAsync(TestRecords.Batch(second, secondCall, TestRecords.ToolCall(second.TraceId), third), CancellationToken.None);
        await Store.WriteAsync(TestRecords.Batch(first, TestRecords.ToolCall(first.TraceId)), CancellationToken.None);
        Assert.Equal([(first.TraceId, 1L), (second.TraceId, 2L), (third.TraceId, 3L)], await TraceNumbersAsync());
        // Every span row carries its trace's number (six rows: the resent invocation is not stored twice).
        Assert.Equal((6L, 0L), (await ScalarAsync(SpanRows("count(*)", "")), await ScalarAsync(SpanRows("count(*)",
            "LEFT JOIN traces t ON t.tenant = s.tenant AND t.trace_id = s.trace_id WHERE t.trace_no IS NOT s.trace_no"))));

        // The writer's statements that find a stored span go through the number: each a search of the key, no scan.
        foreach (var sql in new[]
                 {
                     "UPDATE invocations SET call_count = call_count + 1 WHERE trace_no = (SELECT trace_no FROM traces WHERE tenant = 'default' AND trace_id = 'aa') AND span_id = 'bb'",
                     "SELECT * FROM invocations WHERE trace_no = (SELECT trace_no FROM traces WHERE tenant = 'default' AND trace_id = 'aa') AND span_id = 'bb'",
                 })
        {
            var plan = await PlanAsync(sql);
            Assert.Contains(plan, step => step.StartsWith("SEARCH invocations USING INDEX sqlite_autoindex_invocations_1 (trace_no=? AND span_id=?)", StringComparison.Ordinal));
            Assert.Contains(plan, step => step.StartsWith("SEARCH traces USING PRIMARY KEY (tenant=? AND trace_id=?)", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task EveryRunReadFindsTheSpanTablesThroughTheTraceNumber_NoScanOfThem()
    {
        // The run reads shared with PostgreSQL (RunSql) join and filter the span tables on trace_no since migration 17:
        // a join on trace_id would find no index and scan a whole table (or a tenant's range of it) per run of the page.
        await Store.WriteAsync(TestRecords.Batch(TestRecords.Invocation()), CancellationToken.None);
        var searches = new[]
        {
            new RunSearch { Tenant = "default", Limit = 50 },
            new RunSearch { Tenant = "default", Limit = 50, TraceId = "aa" },
            new RunSearch { Tenant = "default", Limit = 50, Model = "gpt-4o" },
            new RunSearch { Tenant = "default", Limit = 50, MinCostUsd = 0.5 },
        };
        var statements = searches.Select(search => SqliteExecutionStore.Runs.Search(search))
            .Append(SqliteExecutionStore.Runs.Search(new RunSearch { Tenant = "default", Limit = 50 }, "aa"))
            .Concat(new[] { "provider_calls", "tool_calls" }.Select(table =>
                SqliteExecutionStore.Runs.TraceRecords(table, "*", "start_time", "default", "aa")))
            .Append((SqliteExecutionStore.InvocationsCommand(new InvocationQuery { Tenant = "default" }).Sql, []))
            .ToList();
        foreach (var (sql, parameters) in statements)
        {
            var plan = await PlanAsync(sql, parameters);
            Assert.DoesNotContain(plan, step => step.StartsWith("SCAN ", StringComparison.Ordinal)
                && !step.StartsWith("SCAN page", StringComparison.Ordinal) && !step.StartsWith("SCAN c", StringComparison.Ordinal));
            Assert.DoesNotContain(plan, step => step.Contains("(tenant=?)", StringComparison.Ordinal)
                && (step.Contains(" p ", StringComparison.Ordinal) || step.Contains("provider_calls", StringComparison.Ordinal)
                    || step.Contains("tool_calls", StringComparison.Ordinal)));
            Assert.Contains(plan, step => step.Contains("(trace_no=?", StringComparison.Ordinal));
        }

        // A trace's runs (a run's page, a trace filter) are a search of the invocations' key by the trace's number.
        foreach (var (sql, parameters) in new[] { statements[1], statements[4] })
        {
            Assert.Contains("SEARCH i USING INDEX sqlite_autoindex_invocations_1 (trace_no=?)", await PlanAsync(sql, parameters));
        }
    }

    [Fact]
    public async Task RetentionDeletesTheNumberOfATraceOnceNoSpanOfItIsLeft()
    {
        // Trace gone: every span older than the cutoff. Trace kept: its invocation older, a call newer. The number of the
        // first leaves traces with its last span; the second keeps its number, and its new spans keep joining the kept call.
        var now = DateTimeOffset.UtcNow;
        var gone = TestRecords.Invocation(start: now.AddHours(-3));
        var goneCall = TestRecords.ProviderCall(gone.TraceId, gone.SpanId, gone.SpanId, new TokenCounts(5, 0, 0, 0, 0), 0.01, start: now.AddHours(-3));
        var goneTool = TestRecords.ToolCall(gone.TraceId, now.AddHours(-3));
        var kept = TestRecords.Invocation(start: now.AddHours(-3));
        var keptCall = TestRecords.ProviderCall(kept.TraceId, kept.SpanId, kept.SpanId, new TokenCounts(7, 0, 0, 0, 0), 0.01, start: now.AddMinutes(-1));
        await Store.WriteAsync(TestRecords.Batch(gone, goneCall, goneTool, kept, keptCall), CancellationToken.None);
        Assert.Equal([(gone.TraceId, 1L), (kept.TraceId, 2L)], await TraceNumbersAsync());

        Assert.Equal(4, await Store.DeleteOlderThanAsync(now.AddHours(-1), CancellationToken.None));
        Assert.Equal([(kept.TraceId, 2L)], await TraceNumbersAsync());

        // The kept trace's invocation sent again finds its call through the kept number; the gone trace's records sent
        // again are new records of a newly numbered trace.
        var again = await Store.WriteAsync(TestRecords.Batch(kept, gone, goneCall), CancellationToken.None);
        Assert.Equal(2, again.Invocations.Count);
        Assert.Single(again.ProviderCalls);
        Assert.Equal([(kept.TraceId, 2L), (gone.TraceId, 3L)], await TraceNumbersAsync());
        var runs = await ((IRunStore)Store).SearchRunsAsync(new RunSearch { Tenant = "default", Limit = 10, TraceId = kept.TraceId }, CancellationToken.None);
        Assert.Equal((1L, 7L), (Assert.Single(runs).Calls.Calls, runs[0].Stored.RolledUpTokens.Input));

        // A restart numbers new traces above every stored one.
        await Store.DisposeAsync();
        Store = await OpenStoreAsync();
        var next = TestRecords.Invocation();
        await Store.WriteAsync(TestRecords.Batch(next), CancellationToken.None);
        Assert.Contains((next.TraceId, 4L), await TraceNumbersAsync());
    }

    private static string SpanRows(string what, string join) => $"""
        SELECT {what} FROM (SELECT tenant, trace_id, trace_no FROM invocations UNION ALL SELECT tenant, trace_id, trace_no FROM provider_calls
            UNION ALL SELECT tenant, trace_id, trace_no FROM tool_calls) s {join}
        """;

    private async Task<List<string>> PrimaryKeyAsync(string table)
    {
        var name = (string?)await ScalarObjectAsync($"SELECT name FROM pragma_index_list('{table}') WHERE origin = 'pk'");
        Assert.NotNull(name);
        await using var connection = await OpenReadAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT name FROM pragma_index_xinfo('{name}') WHERE key = 1 ORDER BY seqno";
        var columns = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            columns.Add(reader.GetString(0));
        }

        return columns;
    }

    private async Task<List<string>> IndexesLeadingWithAsync(string table, string column)
    {
        await using var connection = await OpenReadAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            SELECT i.name FROM pragma_index_list('{table}') i
            WHERE (SELECT c.name FROM pragma_index_info(i.name) c WHERE c.seqno = 0) = $column
            """;
        command.Parameters.AddWithValue("$column", column);
        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    private async Task<List<(string, long)>> TraceNumbersAsync()
    {
        await using var connection = await OpenReadAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT trace_id, trace_no FROM traces ORDER BY trace_no";
        var numbers = new List<(string, long)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            numbers.Add((reader.GetString(0), reader.GetInt64(1)));
        }

        return numbers;
    }

    private async Task<List<string>> PlanAsync(string sql, IEnumerable<(string Name, object Value)>? parameters = null)
    {
        await using var connection = await OpenReadAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        foreach (var (name, value) in parameters ?? [])
        {
            command.Parameters.AddWithValue(name, value);
        }

        var plan = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            plan.Add(reader.GetString(3));
        }

        return plan;
    }

    private async Task<object?> ScalarObjectAsync(string sql)
    {
        await using var connection = await OpenReadAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }

    private async Task<long> ScalarAsync(string sql) => (long)(await ScalarObjectAsync(sql))!;

    private async Task<SqliteConnection> OpenReadAsync()
    {
        var connection = new SqliteConnection($"Data Source={((SqliteExecutionStore)Store).DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        return connection;
    }

    private async Task AssertEarlyOwnerSumsMatchTheCallsAsync(int owners)
    {
        await using var connection = new SqliteConnection($"Data Source={((SqliteExecutionStore)Store).DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        // Every early owner's sums against its calls, and every owner with calls and no invocation recorded.
        command.CommandText = $"""
            SELECT (SELECT COUNT(*) FROM early_call_owners),
                   (SELECT COUNT(*) FROM early_call_owners e WHERE ({CallTotals.ColumnNames}) <> (
                        SELECT COUNT(*), COALESCE(SUM(p.input_tokens + p.output_tokens), 0), COALESCE(SUM(p.unpriced_tokens), 0),
                               COALESCE(SUM(p.attempt > 1), 0), COALESCE(SUM(p.fallback_from IS NOT NULL), 0)
                        FROM provider_calls p WHERE p.tenant = e.tenant AND p.trace_id = e.trace_id AND p.owner_span_id = e.span_id)),
                   (SELECT COUNT(DISTINCT p.owner_span_id) FROM provider_calls p
                    WHERE NOT EXISTS (SELECT 1 FROM invocations i WHERE i.tenant = p.tenant AND i.trace_id = p.trace_id AND i.span_id = p.owner_span_id)
                      AND NOT EXISTS (SELECT 1 FROM early_call_owners e WHERE e.tenant = p.tenant AND e.trace_id = p.trace_id AND e.span_id = p.owner_span_id))
            """;
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((owners, 0L, 0L), (reader.GetInt32(0), reader.GetInt64(1), reader.GetInt64(2)));
    }

    private async Task<(long, long, long, long, long)> SummaryAsync(string spanId)
    {
        await using var connection = new SqliteConnection($"Data Source={((SqliteExecutionStore)Store).DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {CallTotals.ColumnNames} FROM invocations WHERE span_id = $span";
        command.Parameters.AddWithValue("$span", spanId);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4));
    }

    private async Task<List<string>> EarlyOwnersAsync()
    {
        await using var connection = new SqliteConnection($"Data Source={((SqliteExecutionStore)Store).DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT span_id FROM early_call_owners";
        var owners = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            owners.Add(reader.GetString(0));
        }

        return owners;
    }

    [Fact]
    public async Task ConcurrentWritesShareTransactions()
    {
        var store = (SqliteExecutionStore)Store;
        var before = store.CommittedTransactions;
        // Queued together, before the writer has committed any of them: the writer must take them as one group.
        var writes = Enumerable.Range(0, 200)
            .Select(_ => store.WriteAsync(TestRecords.Batch(TestRecords.Invocation()), CancellationToken.None))
            .ToArray();
        await Task.WhenAll(writes);

        Assert.Equal(200, (await ReadInvocations()).Count);
        Assert.True(store.CommittedTransactions - before < 200,
            $"{store.CommittedTransactions - before} transactions for 200 writes: no group commit happened");
    }

    [Fact]
    public async Task CommittedDataSurvivesClosingAndReopeningTheFile()
    {
        var invocation = TestRecords.Invocation(taskId: "persisted");
        var batch = TestRecords.Batch(invocation,
            TestRecords.ProviderCall(invocation.TraceId, invocation.SpanId, null, new TokenCounts(5, 6, 0, 0, 0), 0.5));
        await Store.WriteAsync(batch, CancellationToken.None);
        await Store.AddFeedbackAsync(TestRecords.Feedback(taskId: "pending-task"), CancellationToken.None);
        await Store.DisposeAsync();
        Assert.True(File.Exists(Path.Combine(_directory, SqliteExecutionStore.FileName)));

        Store = await OpenStoreAsync();

        var stored = Assert.Single(await ReadInvocations());
        Assert.Equal(invocation, stored.Invocation);
        Assert.Equal(new TokenCounts(5, 6, 0, 0, 0), stored.RolledUpTokens);
        // Pending feedback survived too: it still joins after the restart.
        var late = await Store.WriteAsync(TestRecords.Batch(TestRecords.Invocation(taskId: "pending-task")), CancellationToken.None);
        Assert.Single(late.JoinedFeedback);
    }

    [Fact]
    public async Task ARejectedBatchFailsAloneAndTheOthersInItsGroupCommit()
    {
        var good = TestRecords.Batch(TestRecords.Invocation());
        // NOT NULL violation: agent_name is required by the schema even if a caller bypasses the record's contract.
        var bad = TestRecords.Batch(TestRecords.Invocation() with { AgentName = null! });
        var alsoGood = TestRecords.Batch(TestRecords.Invocation());

        var writes = new[] { good, bad, alsoGood }.Select(b => Store.WriteAsync(b, CancellationToken.None)).ToArray();

        await writes[0];
        await Assert.ThrowsAsync<SqliteWriteFailedException>(() => writes[1]);
        await writes[2];
        Assert.Equal(2, (await ReadInvocations()).Count);
    }

    [Fact]
    public async Task ASpanOfARolledBackWriteIsNewForTheNextWriteThatStoresIt()
    {
        var shared = TestRecords.Invocation();
        // The shared span is inserted, then the NOT NULL violation rolls the whole write back to its savepoint.
        var bad = TestRecords.Batch(shared, TestRecords.Invocation() with { AgentName = null! });
        var resend = TestRecords.Batch(shared, TestRecords.Invocation());

        var writes = new[] { bad, resend }.Select(b => Store.WriteAsync(b, CancellationToken.None)).ToArray();

        await Assert.ThrowsAsync<SqliteWriteFailedException>(() => writes[0]);
        var committed = await writes[1];
        Assert.Equal(resend.Invocations, committed.Invocations);
        Assert.Equal(2, (await ReadInvocations()).Count);
    }

    [Theory]
    [InlineData(null, null, false)]
    [InlineData("default", null, true)]
    [InlineData("default", null, false)]
    [InlineData("default", "planner", true)]
    [InlineData("default", "planner", false)]
    public async Task InvocationReadsStreamInIndexOrderWithoutSortingEverything(string? tenant, string? agent, bool since)
    {
        await Store.WriteAsync(TestRecords.Batch(TestRecords.Invocation()), CancellationToken.None);
        var (sql, filter) = SqliteExecutionStore.InvocationsCommand(new InvocationQuery
        {
            Tenant = tenant, AgentName = agent, Since = since ? TestRecords.Start : null,
        });

        var plan = await QueryPlanAsync(sql, filter.Parameters);

        // A temp b-tree would hold every matching row inside SQLite before the first one reaches an export. Since
        // migration 22 the read groups and orders by (second, rowid), the order of the time index keyed by the second,
        // and the store sorts one second's invocations at a time (Migration22_...).
        Assert.DoesNotContain(plan, step => step.Contains("TEMP B-TREE", StringComparison.Ordinal));
        Assert.Contains(plan, step => step.StartsWith("SEARCH i USING INDEX ix_invocations_start_second (<expr>>?)", StringComparison.Ordinal));
    }

    /// <summary>SQLite's plan for <paramref name="sql"/> with its parameters, one step a line, on a read-only connection.</summary>
    private async Task<List<string>> QueryPlanAsync(string sql, IEnumerable<(string Name, object Value)> parameters)
    {
        await using var connection = new SqliteConnection($"Data Source={((SqliteExecutionStore)Store).DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var plan = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(3));
            }
        }

        return plan;
    }

    [Fact]
    public async Task FeedbackOfATask_FindsItsLatestRunByKeySearches_NotByWalkingTheTenantsRuns()
    {
        // Planned newest first on the run-list index instead, the lookup read every run of the tenant whenever the task
        // was old or not stored yet (1.2-1.5 s at 66 000 runs, on the writer's thread). Since migration 18 the task's
        // latest run is one row of task_latest_runs: three key searches, no index of every run by task to write.
        await Store.WriteAsync(TestRecords.Batch(TestRecords.Invocation(taskId: "t-1")), CancellationToken.None);
        await using var connection = new SqliteConnection($"Data Source={((SqliteExecutionStore)Store).DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + SqliteWriteSession.InvocationByTaskSql;
        command.Parameters.AddWithValue("$p0", "default");
        command.Parameters.AddWithValue("$p1", "t-1");
        var plan = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(reader.GetString(3));
            }
        }

        Assert.Equal(
        [
            "SEARCH k USING PRIMARY KEY (tenant=? AND task_id=?)",
            "SEARCH t USING PRIMARY KEY (tenant=? AND trace_id=?)",
            "SEARCH i USING INDEX sqlite_autoindex_invocations_1 (trace_no=? AND span_id=?)",
        ], plan);
        await using (var indexes = connection.CreateCommand())
        {
            indexes.CommandText = "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'invocations' AND sql LIKE '%task_id%'";
            Assert.Equal(0L, (long)(await indexes.ExecuteScalarAsync())!);
        }

        var joined = await Store.AddFeedbackAsync(TestRecords.Feedback(taskId: "t-1"), CancellationToken.None);
        Assert.True(joined.Joined);
    }

    [Fact]
    public async Task TaskLatestRuns_HoldsEachTasksNewestRunWhateverTheOrder_AndRetentionTakesItWithTheRuns()
    {
        // The triggers of migration 18: a run that started earlier, sent later, does not replace the newest; a resend is no
        // new run; retention that deletes the newest deletes the task's row (its other runs started no later).
        var at = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
        var newest = TestRecords.Invocation(taskId: "t-1", start: at.AddSeconds(10));
        var older = TestRecords.Invocation(taskId: "t-1", start: at);
        var other = TestRecords.Invocation(taskId: "t-2", start: at.AddHours(2));
        await Store.WriteAsync(TestRecords.Batch(newest), CancellationToken.None);
        await Store.WriteAsync(TestRecords.Batch(older, other), CancellationToken.None);
        await Store.WriteAsync(TestRecords.Batch(newest), CancellationToken.None);

        async Task<List<(string, string, string)>> RowsAsync()
        {
            await using var connection = new SqliteConnection($"Data Source={((SqliteExecutionStore)Store).DatabasePath};Mode=ReadOnly;Pooling=False");
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT task_id, trace_id, span_id FROM task_latest_runs ORDER BY task_id";
            var rows = new List<(string, string, string)>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
            }
            return rows;
        }

        Assert.Equal([("t-1", newest.TraceId, newest.SpanId), ("t-2", other.TraceId, other.SpanId)], await RowsAsync());
        var byTask = await Store.AddFeedbackAsync(TestRecords.Feedback(taskId: "t-1") with { FeedbackId = "f-1" }, CancellationToken.None);
        Assert.Equal(newest.SpanId, byTask.Invocation!.SpanId);

        await Store.DeleteOlderThanAsync(at.AddHours(1), CancellationToken.None);
        Assert.Equal([("t-2", other.TraceId, other.SpanId)], await RowsAsync());
        Assert.False((await Store.AddFeedbackAsync(TestRecords.Feedback(taskId: "t-1") with { FeedbackId = "f-2" }, CancellationToken.None)).Joined);
    }

    [Theory]
    [InlineData("provider_calls", "start_time", "ix_provider_calls_start_second", null, null, false)]
    [InlineData("provider_calls", "start_time", "ix_provider_calls_start_second", null, null, true)]
    [InlineData("provider_calls", "start_time", "ix_provider_calls_start_second", "default", null, false)]
    [InlineData("provider_calls", "start_time", "ix_provider_calls_start_second", "default", "planner", true)]
    [InlineData("tool_calls", "start_time", "ix_tool_calls_start_second", null, null, false)]
    [InlineData("tool_calls", "start_time", "ix_tool_calls_start_second", "default", "planner", false)]
    [InlineData("evaluations", "time", "ix_evaluations_time_second", null, null, true)]
    [InlineData("evaluations", "time", "ix_evaluations_time_second", "default", "planner", false)]
    public async Task CallToolAndEvaluationReadsStreamOnTheirTimeIndex_WithTheTenantAndAgentAsFilters(string table,
        string timeColumn, string index, string? tenant, string? agent, bool until)
    {
        // Since migration 16 no index of these tables leads with (tenant, agent): a tenant's read takes the time index and
        // tests the tenant on each row, rather than the primary key's tenant prefix and a sort of all its rows. Since
        // migration 20 the time index is keyed by the second: the read ranges over the seconds and sorts each second's
        // rows by time (the last two terms of its ORDER BY), never all the rows it returns.
        await Store.WriteAsync(TestRecords.Batch(TestRecords.Invocation()), CancellationToken.None);
        var (sql, filter) = SqliteExecutionStore.RecordsCommand(table, "*", timeColumn,
            new InvocationQuery { Tenant = tenant, AgentName = agent, Until = until ? TestRecords.Start : null });

        var plan = await QueryPlanAsync(sql, filter.Parameters);

        Assert.Equal([$"SEARCH {table} USING INDEX {index} ({(until ? "<expr>>? AND <expr><?" : "<expr>>?")})",
            "USE TEMP B-TREE FOR LAST 2 TERMS OF ORDER BY"], plan);
    }

    [Theory]
    [InlineData("provider_calls", "start_time", "ix_provider_calls_start_second")]
    [InlineData("tool_calls", "start_time", "ix_tool_calls_start_second")]
    [InlineData("evaluations", "time", "ix_evaluations_time_second")]
    public async Task RetentionFindsTheRowsBeforeTheCutoffOnTheTimeIndexBySecond(string table, string timeColumn, string index)
    {
        // Retention's slice (SqliteWriteSession.DeleteOlderThan) searches the seconds up to the cutoff's own and tests the
        // time on each entry: a range of the index, not a scan of the table.
        await Store.WriteAsync(TestRecords.Batch(TestRecords.Invocation()), CancellationToken.None);
        var plan = await QueryPlanAsync($"SELECT rowid FROM {table} WHERE {SqliteWriteSession.SecondsBefore(timeColumn)} LIMIT $limit",
            [("$cutoff", SqliteTime.ToMicros(TestRecords.Start)), ("$limit", 1000)]);

        Assert.Equal([$"SEARCH {table} USING INDEX {index} (<expr><?)"], plan);
    }

    [Theory]
    [InlineData("low_confidence", "ix_invocations_tenant_low_confidence_second")]
    [InlineData("high_token_usage", "ix_invocations_tenant_high_tokens_second")]
    public async Task AStricterThresholdPage_RangesOverItsWarningsIndex_TestingTheValueOnTheRow(string warning, string index)
    {
        await Store.WriteAsync(TestRecords.Batch(TestRecords.Invocation()), CancellationToken.None);
        var strict = new PerfOtel.Collector.Derived.Thresholds.ThresholdSet { MinRunConfidence = 0.1, MaxTokensPerInvocation = 10_000_000 };
        var (sql, parameters) = SqliteExecutionStore.Runs.Search(new RunSearch
        {
            Tenant = "default", Limit = 50,
            Warning = PerfOtel.Collector.Derived.Runs.RunWarnings.StoreFilter(warning, strict, []),
        });

        await using var connection = new SqliteConnection($"Data Source={((SqliteExecutionStore)Store).DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        async Task<List<(string Text, long P1, long P2, long P3)>> ExplainAsync(string prefix, int text, int p1, int p2, int p3)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = prefix + sql;
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value);
            }
            var steps = new List<(string, long, long, long)>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                steps.Add((reader.GetValue(text).ToString()!, p1 < 0 ? 0 : reader.GetInt64(p1), p2 < 0 ? 0 : reader.GetInt64(p2),
                    p3 < 0 ? 0 : reader.GetInt64(p3)));
            }
            return steps;
        }

        // The page is a range of the warning's partial index, sorted one second at a time.
        var plan = await ExplainAsync("EXPLAIN QUERY PLAN ", 3, -1, -1, -1);
        Assert.Contains(plan, step => step.Text.StartsWith("SEARCH i USING", StringComparison.Ordinal) && step.Text.Contains(index, StringComparison.Ordinal));

        // The program: the cursor on that index and the table cursor it positions. Since migration 21 the index is keyed
        // (tenant, second) and holds neither the compared value nor the ids (migration 13 had the value as the last key
        // column; inside a second it would order the entries by value, not at their right edge): every run of the range
        // below the index's bound is read from the table, as with migration 11's index (docs/collector/rest-api.md).
        await using var root = connection.CreateCommand();
        root.CommandText = "SELECT rootpage FROM sqlite_master WHERE type = 'index' AND name = $index";
        root.Parameters.AddWithValue("$index", index);
        var rootPage = (long)(await root.ExecuteScalarAsync())!;
        var program = await ExplainAsync("EXPLAIN ", 1, 2, 3, 4);
        var indexCursor = Assert.Single(program, s => s.Text == "OpenRead" && s.P2 == rootPage).P1;
        Assert.Contains(program, s => s.Text == "Column" && s.P1 == indexCursor);
        var rowCursors = program.Where(s => s.P1 == indexCursor && s.Text is "DeferredSeek" or "SeekRowid" or "IdxRowid")
            .Select(s => s.Text == "DeferredSeek" ? s.P3 : -1).ToList();
        Assert.NotEmpty(rowCursors);
        Assert.True(rowCursors.Contains(-1L) || program.Any(s => s.Text == "Column" && rowCursors.Contains(s.P1)));
    }

    [Fact]
    public async Task SpanLinksArePackedPerCommitAndTheRunListIndexesServeTheInvocationReads()
    {
        var link = new SpanLink { Tenant = "default", TraceId = "4bf92f3577b34da6a3ce929d0e0e4736", SpanId = "00f067aa0ba902b7", SeenAt = TestRecords.Start };
        var batch = TestRecords.Batch();
        for (var i = 0; i < 100; i++)
        {
            batch.SpanLinks.Add(link with { SpanId = i.ToString("x16", System.Globalization.CultureInfo.InvariantCulture) });
        }
        await Store.WriteAsync(batch, CancellationToken.None);

        await using var connection = new SqliteConnection($"Data Source={((SqliteExecutionStore)Store).DatabasePath};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT name, sql FROM sqlite_master WHERE tbl_name IN ('span_links', 'span_link_packs', 'span_link_expiries', 'invocations');
            SELECT count(*), sum(length(links)) FROM span_link_packs;
            """;
        var schema = new Dictionary<string, string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            schema[reader.GetString(0)] = reader.IsDBNull(1) ? "" : reader.GetString(1);
        }

        // Migration 9: one row per commit for its links (here 100 links, packed in under 20 bytes each), decisions
        // clustered on their key. Migration 10: the (tenant[, agent], start_time) indexes are gone. Migration 21: the
        // run-list twins are keyed by the second. Migration 22: so is the invocations' time index, which the invocation
        // reads take with the tenant as a filter (InvocationReadsStreamInIndexOrderWithoutSortingEverything).
        Assert.DoesNotContain("span_links", schema.Keys);
        Assert.Contains("ix_span_link_packs_seen", schema.Keys);
        Assert.EndsWith("WITHOUT ROWID", schema["span_link_expiries"].TrimEnd(), StringComparison.Ordinal);
        Assert.Contains("ix_span_link_expiries_seen", schema.Keys);
        Assert.DoesNotContain("ix_invocations_tenant_start", schema.Keys);
        Assert.DoesNotContain("ix_invocations_tenant_agent_start", schema.Keys);
        Assert.Contains("ix_invocations_tenant_second", schema.Keys);
        Assert.Contains("ix_invocations_tenant_agent_second", schema.Keys);
        Assert.DoesNotContain("ix_invocations_start", schema.Keys);
        Assert.Contains("ix_invocations_start_second", schema.Keys);
        Assert.True(await reader.NextResultAsync());
        Assert.True(await reader.ReadAsync());
        Assert.Equal(1, reader.GetInt64(0));
        Assert.InRange(reader.GetInt64(1), 100, 2_000);
    }

    [Fact]
    public async Task RetentionDeletesABacklogLargerThanOneSlice()
    {
        var old = TestRecords.Start.AddDays(-100);
        for (var batch = 0; batch < 3; batch++)
        {
            var records = Enumerable.Range(0, 4_000).Select(_ => (object)TestRecords.Invocation(start: old)).ToArray();
            await Store.WriteAsync(TestRecords.Batch(records), CancellationToken.None);
        }

        await Store.WriteAsync(TestRecords.Batch(TestRecords.Invocation()), CancellationToken.None);

        Assert.Equal(12_000, await Store.DeleteOlderThanAsync(TestRecords.Start.AddDays(-1), CancellationToken.None));
        Assert.Single(await ReadInvocations());
    }

    [Fact]
    public async Task MigrationsAreRecordedOnceAndANewerSchemaIsRefused()
    {
        await Store.DisposeAsync();
        Store = await OpenStoreAsync();
        var path = ((SqliteExecutionStore)Store).DatabasePath;
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var count = connection.CreateCommand();
            count.CommandText = "SELECT count(*), max(version) FROM schema_migrations";
            await using (var reader = await count.ExecuteReaderAsync())
            {
                Assert.True(await reader.ReadAsync());
                Assert.Equal(SqliteSchema.Migrations.Count, reader.GetInt64(0));
                Assert.Equal(SqliteSchema.Migrations.Max(m => m.Version), reader.GetInt64(1));
            }

            await using var future = connection.CreateCommand();
            future.CommandText = "INSERT INTO schema_migrations VALUES (99, 'from a newer collector', '2027-01-01')";
            await future.ExecuteNonQueryAsync();
        }

        await using var newer = new SqliteExecutionStore(_directory, fullDurability: true);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => newer.InitializeAsync(CancellationToken.None));
        Assert.Contains("schema version 99", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WritesBeforeInitializeFailClearly()
    {
        await using var store = new SqliteExecutionStore(_directory, fullDurability: false);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => store.WriteAsync(TestRecords.Batch(TestRecords.Invocation()), CancellationToken.None));
        Assert.Contains("InitializeAsync", error.Message, StringComparison.Ordinal);
    }
}

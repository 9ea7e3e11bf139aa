using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage.Postgres;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Exporter;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Storage;

/// <summary>One throwaway PostgreSQL cluster for all PostgreSQL tests; each test gets its own schema in it.</summary>
public sealed class PostgresClusterFixture : IAsyncLifetime
{
    private PostgresServer? _server;

    public string ConnectionString => _server?.ConnectionString
        ?? throw new InvalidOperationException("PostgreSQL did not start");

    public async Task InitializeAsync() => _server = await PostgresServer.StartAsync();

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

// Not parallel with other collections: these suites write tens of thousands of records, and tests elsewhere that
// measure process-wide allocation (the gzip-bomb test) must not count them.
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PostgresCollection : ICollectionFixture<PostgresClusterFixture>
{
    public const string Name = "postgres";
}

[Collection(PostgresCollection.Name)]
public class PostgresExecutionStoreTests(PostgresClusterFixture cluster) : ExecutionStoreContract
{
    private readonly PostgresTestSchema _schema = new(cluster, "test_");

    /// <summary>
    /// <c>Storage:PostgresWriteConnections</c> and <c>Storage:PostgresWritePartMinRecords</c> of the stores under test:
    /// the defaults here (writes of fewer than 512 records in one transaction, so every write of this contract).
    /// </summary>
    protected virtual (int Connections, int PartMinRecords) Writes =>
        (PostgresExecutionStore.DefaultWriteConnections, PostgresExecutionStore.DefaultMinRecordsPerPart);

    protected string SchemaConnectionString => _schema.ConnectionString;

    protected override IReadOnlyDictionary<string, string?> HostSettings => new Dictionary<string, string?>
    {
        ["Storage:Provider"] = "postgres",
        ["Storage:ConnectionString"] = SchemaConnectionString,
        ["Storage:PostgresWriteConnections"] = Writes.Connections.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Storage:PostgresWritePartMinRecords"] = Writes.PartMinRecords.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public override async Task InitializeAsync()
    {
        await _schema.CreateAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _schema.DisposeAsync();
    }

    protected override async Task<IExecutionStore> RecreateAtSchemaVersionAsync(int version, string sql)
    {
        await _schema.RecreateAsync();
        await using (var connection = new NpgsqlConnection(SchemaConnectionString))
        {
            await connection.OpenAsync();
            await new PostgresMigrator(connection, NullLogger.Instance)
                .ApplyAsync([.. PostgresSchema.Migrations.Where(m => m.Version <= version)], CancellationToken.None);
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }

        return await OpenStoreAsync();
    }

    protected override async Task<List<string?>> IndexKeyColumnsAsync(string index)
    {
        await using var connection = new NpgsqlConnection(SchemaConnectionString);
        await connection.OpenAsync();
        // indkey holds the key columns first (indnkeyatts of them), then any INCLUDE ones; 0 is an expression.
        await using var command = new NpgsqlCommand("""
            SELECT a.attname FROM pg_index x
            CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
            LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum AND k.attnum > 0
            WHERE x.indexrelid = to_regclass(@index) AND k.n <= x.indnkeyatts
            ORDER BY k.n
            """, connection);
        command.Parameters.AddWithValue("index", index);
        var columns = new List<string?>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            columns.Add(reader.IsDBNull(0) ? null : reader.GetString(0));
        }
        return columns;
    }

    [Fact]
    public async Task TheInvocationIndexesThatPrefixTheirRunListTwinsAreGone()
    {
        await using var connection = new NpgsqlConnection(SchemaConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'invocations'", connection);
        var indexes = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                indexes.Add(reader.GetString(0));
            }
        }

        // Migration 8: every query the two served takes the longer twin (docs/collector/storage.md, Schema).
        Assert.DoesNotContain("ix_invocations_tenant_start", indexes);
        Assert.DoesNotContain("ix_invocations_tenant_agent_start", indexes);
        Assert.Contains("ix_invocations_tenant_start_span", indexes);
        Assert.Contains("ix_invocations_tenant_agent_start_span", indexes);
    }

    [Fact]
    public async Task Migration9_KeepsTheCommitPositionOfEveryLinkAndStoresPacksUncompressed()
    {
        // Links of two commits (positions 100 and 200) as migration 8 stored them.
        var first = new DateTimeOffset(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
        await Store.DisposeAsync();
        Store = await RecreateAtSchemaVersionAsync(8, $"""
            INSERT INTO span_links (tenant, trace_id, span_id, parent_span_id, invocation_agent, seen_at, expired, commit_position)
            VALUES ('acme', 't1', 'agent', NULL, 'planner', {TimeLiteral(first)}, false, 100),
                   ('acme', 't1', 'call', 'agent', NULL, {TimeLiteral(first)}, false, 100),
                   ('acme', 't2', 'call', 'tool', NULL, {TimeLiteral(first)}, true, 200),
                   ('acme', 't2', 'tool', NULL, NULL, {TimeLiteral(first.AddSeconds(1))}, false, 200)
            """);
        var shared = (ISharedStore)Store;

        async Task<string[]> Range(long from, long to, params long[] skip) =>
            [.. (await ReadAll(shared.ReadCommittedSpanLinksAsync(from, to, skip.ToHashSet(), CancellationToken.None)))
                .Select(l => $"{l.TraceId}/{l.SpanId}{(l.Expired ? " expired" : "")}").Order(StringComparer.Ordinal)];
        Assert.Equal(["t1/agent", "t1/call"], await Range(0, 150));
        Assert.Equal(["t2/call expired", "t2/tool"], await Range(150, 250));
        Assert.Equal(["t2/call expired", "t2/tool"], await Range(0, 250, 100));
        Assert.Empty(await Range(201, 1_000));

        // Three packs: one per commit and seen-at time; the packed links are stored as they are (no compression).
        await using var connection = new NpgsqlConnection(SchemaConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT (SELECT count(*) FROM span_link_packs),
                   (SELECT attstorage::text FROM pg_attribute WHERE attrelid = 'span_link_packs'::regclass AND attname = 'links'),
                   to_regclass('span_links') IS NULL
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(3, reader.GetInt64(0));
        Assert.Equal("e", reader.GetString(1));
        Assert.True(reader.GetBoolean(2));
    }

    [Fact]
    public async Task NewRecordsGoInWithoutSpeculativeInsertion_AndAResendIsRedoneSkippingWhatIsStored()
    {
        // What the server wrote for a write of new records, read back from its WAL (pg_walinspect): ON CONFLICT DO
        // NOTHING inserts every row speculatively and confirms it with a record of its own (Heap CONFIRM); a plain
        // insert writes none. Other tests of the collection do not run at the same time.
        await using var connection = new NpgsqlConnection(cluster.ConnectionString);
        await connection.OpenAsync();
        async Task<T> Scalar<T>(string sql, params object[] values)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            foreach (var value in values)
            {
                command.Parameters.AddWithValue(value);
            }
            return (T)(await command.ExecuteScalarAsync())!;
        }

        await Scalar<int>("CREATE EXTENSION IF NOT EXISTS pg_walinspect SCHEMA public; SELECT 1");
        var batch = new IngestBatch();
        foreach (var trace in Enumerable.Range(0, 20).Select(_ => TestRecords.TraceId()))
        {
            var invocation = TestRecords.Invocation(trace);
            batch.Invocations.Add(invocation);
            batch.ProviderCalls.Add(TestRecords.ProviderCall(trace, invocation.SpanId, invocation.SpanId, new TokenCounts(100, 50, 0, 0, 0), 0.1));
            batch.ProviderCalls.Add(TestRecords.ProviderCall(trace, invocation.SpanId, invocation.SpanId, new TokenCounts(10, 5, 0, 0, 0), 0.1));
            batch.ToolCalls.Add(TestRecords.ToolCall(trace));
            batch.Evaluations.Add(TestRecords.Evaluation(trace, invocation.SpanId));
        }

        var store = (PostgresExecutionStore)Store;
        var before = await Scalar<string>("SELECT pg_current_wal_lsn()::text");
        var stored = await store.WriteAsync(batch, CancellationToken.None);
        // Up to the flushed end: pg_walinspect refuses an end past it, and other tests' inserts on the shared server move
        // pg_current_wal_lsn() ahead of the flush. The write's own records are flushed: its COMMIT waits for that.
        Task<long> ConfirmedSince(string lsn) => Scalar<long>("""
            SELECT count(*) FROM public.pg_get_wal_records_info($1::text::pg_lsn, pg_current_wal_flush_lsn())
            WHERE resource_manager = 'Heap' AND record_type = 'HEAP_CONFIRM'
            """, lsn);

        Assert.Equal(0, await ConfirmedSince(before));
        Assert.Equal(0, store.WritesRedoneSkippingStored);
        Assert.Equal((20, 40, 20, 20),
            (stored.Invocations.Count, stored.ProviderCalls.Count, stored.ToolCalls.Count, stored.Evaluations.Count));

        // The same batch again with one new call of a stored invocation: the plain insert meets a stored key, the
        // write is redone with ON CONFLICT DO NOTHING, and only the new call is stored, reported and summed.
        var first = batch.Invocations[0];
        var late = TestRecords.ProviderCall(first.TraceId, first.SpanId, first.SpanId, new TokenCounts(7, 0, 0, 0, 0), 0.1);
        batch.ProviderCalls.Add(late);
        before = await Scalar<string>("SELECT pg_current_wal_lsn()::text");
        var resent = await store.WriteAsync(batch, CancellationToken.None);

        // The redo inserted the late call speculatively: the WAL read above sees such records when there are some.
        Assert.Equal(1, await ConfirmedSince(before));
        Assert.True(store.WritesRedoneSkippingStored > 0);
        Assert.Empty(resent.Invocations);
        Assert.Same(late, Assert.Single(resent.ProviderCalls));
        Assert.Empty(resent.ToolCalls);
        Assert.Empty(resent.Evaluations);
        Assert.NotEmpty(resent.CommitPositions);
        await using var schema = new NpgsqlConnection(SchemaConnectionString);
        await schema.OpenAsync();
        await using var summary = new NpgsqlCommand("""
            SELECT call_count, call_tokens, (SELECT count(*) FROM provider_calls) FROM invocations WHERE span_id = $1
            """, schema);
        summary.Parameters.AddWithValue(first.SpanId);
        await using var reader = await summary.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal((3L, 172L, 41L), (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2)));
    }

    [Fact]
    public async Task AResendMeetingStoredRecordsIsCountedAsARedoneWriteOnTheMetricsEndpoint()
    {
        var port = TestPorts.GetFree();
        using var provider = Sdk.CreateMeterProviderBuilder()
            .AddPerfOtelCollectorMetrics()
            .AddPerfOtelPrometheusHttpListener(o =>
            {
                o.UriPrefixes = [$"http://127.0.0.1:{port}/"];
                o.ScrapeResponseCacheDuration = TimeSpan.Zero; // scraped before and after the resend
            })
            .Build();
        await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        await using var store = new PostgresExecutionStore(SchemaConnectionString, writeConnections: Writes.Connections,
            minRecordsPerPart: Writes.PartMinRecords, metrics: new CollectorMetrics(services.GetRequiredService<IMeterFactory>()));
        using var scraper = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var redone = new Regex($@"(?m)^{SelfMetricCatalog.StoreWritesRedone.PrometheusName}(\{{[^}}]*\}})? (\d+)");
        async Task<long> Redone() => redone.Match(await scraper.GetStringAsync($"http://127.0.0.1:{port}/metrics")) is { Success: true } found
            ? long.Parse(found.Groups[2].Value, CultureInfo.InvariantCulture)
            : 0;
        var trace = TestRecords.TraceId();
        var invocation = TestRecords.Invocation(trace);
        var batch = TestRecords.Batch(invocation,
            TestRecords.ProviderCall(trace, invocation.SpanId, invocation.SpanId, new TokenCounts(10, 5, 0, 0, 0), 0.1));
        batch.ToolCalls.Add(TestRecords.ToolCall(trace));

        var first = await store.WriteAsync(batch, CancellationToken.None);
        Assert.Equal((1, 1, 1), (first.Invocations.Count, first.ProviderCalls.Count, first.ToolCalls.Count));
        Assert.Equal(0, await Redone());

        // The same records again, as an exporter's retry after a lost answer: the plain insert meets the stored keys.
        var resent = await store.WriteAsync(batch, CancellationToken.None);

        Assert.Equal((0, 0, 0), (resent.Invocations.Count, resent.ProviderCalls.Count, resent.ToolCalls.Count));
        Assert.Equal(1, await Redone());
    }

    [Fact]
    public async Task TheRecordInsertsTakeTheirRowsFromTheArraysInLockstep_NotFromAFunctionScanThatStoresThem()
    {
        // The plans the server makes for the record inserts, each statement explained with its own parameters: the
        // rows come from unnest in the select list (a ProjectSet, walking the arrays together as it reads), not from a
        // function scan of unnest(...), which first stores every array's elements in a tuple store of its own
        // (docs/collector/ingest-performance.md, "PostgreSQL toward 30 000"). The first attempt's form and the redo's.
        var trace = TestRecords.TraceId();
        var invocation = TestRecords.Invocation(trace);
        List<ProviderCall> calls = [TestRecords.ProviderCall(trace, invocation.SpanId, invocation.SpanId, new TokenCounts(10, 5, 0, 0, 0), 0.1)];
        foreach (var skipStored in (bool[])[false, true])
        {
            var statements = new (string Name, NpgsqlBatchCommand Command)[]
            {
                ("provider calls", PostgresExecutionStore.InsertProviderCalls(calls, addToStoredOwners: false, [invocation], skipStored)),
                ("provider calls of stored owners", PostgresExecutionStore.InsertProviderCalls(calls, addToStoredOwners: true, [invocation], skipStored)),
                ("invocations", PostgresExecutionStore.InsertInvocationsJoiningFeedback([invocation], skipStored)),
                ("tool calls", PostgresExecutionStore.InsertToolCalls([TestRecords.ToolCall(trace)], skipStored)),
                ("evaluations", PostgresExecutionStore.InsertEvaluations([TestRecords.Evaluation(trace, invocation.SpanId)], skipStored)),
            };
            await using var connection = new NpgsqlConnection(SchemaConnectionString);
            await connection.OpenAsync();
            foreach (var (name, statement) in statements)
            {
                statement.CommandText = "EXPLAIN (FORMAT JSON) " + statement.CommandText;
                await using var explain = new NpgsqlBatch(connection) { BatchCommands = { statement } };
                using var plan = System.Text.Json.JsonDocument.Parse((string)(await explain.ExecuteScalarAsync())!);
                var nodes = PlanNodes(plan.RootElement[0].GetProperty("Plan")).ToList();
                var types = string.Join(", ", nodes.Select(n => n.GetProperty("Node Type").GetString()));
                Assert.True(nodes.Any(n => n.GetProperty("Node Type").GetString() == "ProjectSet"), $"{name}, skipStored {skipStored}: {types}");
                // The calls of stored owners leave out those of the batch's invocations, a semi-join against three
                // short arrays (b): the only function scan there may be.
                Assert.False(nodes.Any(n => n.GetProperty("Node Type").GetString() == "Function Scan"
                                            && n.GetProperty("Alias").GetString() != "b"), $"{name}, skipStored {skipStored}: {types}");
            }
        }

        static IEnumerable<System.Text.Json.JsonElement> PlanNodes(System.Text.Json.JsonElement node)
        {
            yield return node;
            if (node.TryGetProperty("Plans", out var children))
            {
                foreach (var child in children.EnumerateArray().SelectMany(PlanNodes))
                {
                    yield return child;
                }
            }
        }
    }

    [Fact]
    public async Task EveryLookupByIdsFindsItsRowsInsideAnIdsFirstIndex_WithTheTenantAsAnIndexCondition()
    {
        // Migration 19 keys the id-keyed B-trees (trace_id, span_id or owner, ..., tenant). Every statement of the store
        // that looks records up by their ids, explained with its own parameters (sequential scans off, so that any
        // index that can serve is taken even on these small tables): each lookup is an index condition on the trace id
        // and the tenant inside the expected index (the tenant after the ids is still compared in the index, not read
        // from the table), and no record table is read whole.
        await using (var keys = new NpgsqlConnection(SchemaConnectionString))
        {
            await keys.OpenAsync();
            foreach (var (index, columns) in PostgresIdsFirstKeysMigrationTests.IdsFirst)
            {
                Assert.Equal(columns, await PostgresIdsFirstKeysMigrationTests.KeyColumnsAsync(keys, index));
            }
        }

        // A store the planner has statistics of: 600 traces of two tenants (an invocation, two calls, a tool call and an
        // evaluation each), feedback on a third of the runs.
        var write = new IngestBatch();
        foreach (var n in Enumerable.Range(0, 600))
        {
            var run = TestRecords.Invocation(start: TestRecords.Start.AddSeconds(n), tenant: n % 4 == 0 ? "acme" : "default");
            write.Invocations.Add(run);
            foreach (var tokens in (long[])[100, 2000])
            {
                write.ProviderCalls.Add(TestRecords.ProviderCall(run.TraceId, run.SpanId, run.SpanId, new TokenCounts(tokens, 1, 0, 0, 0), 0.1)
                    with { Tenant = run.Tenant });
            }
            write.ToolCalls.Add(TestRecords.ToolCall(run.TraceId) with { Tenant = run.Tenant, InvocationSpanId = run.SpanId });
            write.Evaluations.Add(TestRecords.Evaluation(run.TraceId, run.SpanId) with { Tenant = run.Tenant });
        }
        await Store.WriteAsync(write, CancellationToken.None);
        foreach (var run in write.Invocations.Where((_, n) => n % 3 == 0))
        {
            await Store.AddFeedbackAsync(TestRecords.Feedback(traceId: run.TraceId, spanId: run.SpanId) with { Tenant = run.Tenant },
                CancellationToken.None);
        }

        // Feedback waiting for runs not stored yet, by span and by task.
        foreach (var n in Enumerable.Range(0, 100))
        {
            await Store.AddFeedbackAsync(n % 2 == 0
                ? TestRecords.Feedback(traceId: TestRecords.TraceId(), spanId: TestRecords.SpanId())
                : TestRecords.Feedback(taskId: $"task-{n}"), CancellationToken.None);
        }

        var invocation = write.Invocations[1];
        var trace = invocation.TraceId;
        var call = write.ProviderCalls[2];

        var attributed = new IngestBatch();
        attributed.Attributions.Add(new AttributionUpdate("default", trace, call.SpanId, invocation.SpanId, "planner"));
        attributed.ExpiredSpans.Add(new ExpiredSpan("default", trace, call.SpanId, TestRecords.Start));
        var attribution = new NpgsqlBatch();
        PostgresExecutionStore.AddAttributionCommands(attribution, attributed);
        NpgsqlBatchCommand FromRunSql((string Sql, List<(string Name, object Value)> Parameters) query)
        {
            var command = new NpgsqlBatchCommand(query.Sql);
            foreach (var (name, value) in query.Parameters)
            {
                command.Parameters.Add(value is string text ? new NpgsqlParameter(name, NpgsqlTypes.NpgsqlDbType.Text) { Value = text } : new NpgsqlParameter(name, value));
            }
            return command;
        }

        var runs = PostgresExecutionStore.Runs;
        var lookups = new List<(string Name, NpgsqlBatchCommand Command, string[] Indexes)>
        {
            ("the invocations' insert: its call summary's probe and the feedback waiting for it", PostgresExecutionStore.InsertInvocationsJoiningFeedback(
                [TestRecords.Invocation(trace)], skipStored: false), ["ix_provider_calls_owner", "ix_feedback_pending_span; tenant on the row"]),
            ("calls added to stored owners", PostgresExecutionStore.InsertProviderCalls(
                [TestRecords.ProviderCall(trace, invocation.SpanId, invocation.SpanId, new TokenCounts(1, 1, 0, 0, 0), 0.1)],
                addToStoredOwners: true, [], skipStored: false), ["invocations_pkey"]),
            ("calls added to invocations not inserted", PostgresExecutionStore.AddToInvocationsNotInserted(
                TestRecords.Batch(invocation, call), [true], [false])!, ["invocations_pkey"]),
            ("a run list page", FromRunSql(runs.Search(new RunSearch { Tenant = "default", Limit = 5 })),
                ["invocations_pkey", "ix_provider_calls_owner", "ix_feedback_invocation"]),
            ("a trace's invocations", FromRunSql(runs.Search(new RunSearch { Tenant = "default", Limit = 50 }, trace)),
                ["invocations_pkey", "ix_provider_calls_owner", "ix_feedback_invocation"]),
            ("a trace's calls", FromRunSql(runs.TraceRecords("provider_calls", "*", "start_time", "default", trace)),
                ["provider_calls_pkey|ix_provider_calls_owner"]),
            ("a trace's tool calls", FromRunSql(runs.TraceRecords("tool_calls", "*", "start_time", "default", trace)), ["tool_calls_pkey"]),
            ("a trace's evaluations", FromRunSql(runs.TraceRecords("evaluations", "*", "time, sequence", "default", trace)), ["evaluations_pkey"]),
        };
        var updates = attribution.BatchCommands.Cast<NpgsqlBatchCommand>().Where(c => c.CommandText.Contains("UPDATE", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, updates.Count);
        lookups.Add(("calls attributed later", updates[0], ["provider_calls_pkey", "invocations_pkey"]));
        lookups.Add(("tool calls attributed later", updates[1], ["tool_calls_pkey"]));
        lookups.Add(("evaluations attributed later", updates[2], ["evaluations_pkey"]));

        await using var connection = new NpgsqlConnection(SchemaConnectionString);
        await connection.OpenAsync();
        await using (var off = new NpgsqlCommand("ANALYZE; SET enable_seqscan = off", connection))
        {
            await off.ExecuteNonQueryAsync();
        }

        string[] recordTables = ["invocations", "provider_calls", "tool_calls", "evaluations", "feedback", "span_link_expiries"];
        foreach (var (name, statement, indexes) in lookups)
        {
            statement.CommandText = "EXPLAIN (FORMAT JSON) " + statement.CommandText;
            await using var explain = new NpgsqlBatch(connection) { BatchCommands = { statement } };
            using var plan = System.Text.Json.JsonDocument.Parse((string)(await explain.ExecuteScalarAsync())!);
            var nodes = PlanNodes(plan.RootElement[0].GetProperty("Plan")).ToList();
            string Text(System.Text.Json.JsonElement node, string property) =>
                node.TryGetProperty(property, out var value) ? value.GetString() ?? "" : "";
            var shown = string.Join("\n", nodes.Select(n =>
                $"{Text(n, "Node Type")} {Text(n, "Relation Name")} {Text(n, "Index Name")} {Text(n, "Index Cond")} {Text(n, "Filter")}"));
            Assert.False(nodes.Any(n => Text(n, "Node Type") == "Seq Scan" && recordTables.Contains(Text(n, "Relation Name"))),
                $"{name}: {shown}");
            // Each expected index, or one of its alternatives (a|b), with both conditions; the feedback join's tenant is
            // compared outside its OR of a span's and a task's feedback, so on the row (a bitmap's recheck), as before.
            foreach (var expected in indexes)
            {
                var index = expected.Split("; ")[0];
                var tenantInIndex = !expected.EndsWith("; tenant on the row", StringComparison.Ordinal);
                Assert.True(nodes.Any(n => index.Split('|').Contains(Text(n, "Index Name"))
                                           && Text(n, "Index Cond").Contains("trace_id", StringComparison.Ordinal)
                                           && (!tenantInIndex || Text(n, "Index Cond").Contains("tenant", StringComparison.Ordinal))),
                    $"{name}: {index} with the trace id and the tenant as index conditions\n{shown}");
            }
        }

        static IEnumerable<System.Text.Json.JsonElement> PlanNodes(System.Text.Json.JsonElement node)
        {
            yield return node;
            if (node.TryGetProperty("Plans", out var children))
            {
                foreach (var child in children.EnumerateArray().SelectMany(PlanNodes))
                {
                    yield return child;
                }
            }
        }
    }

    [Theory]
    [InlineData("Host=db;Username=perfotel", 64)]
    [InlineData("Host=db;Username=perfotel;Max Auto Prepare=0", 0)]
    [InlineData("Host=db;Username=perfotel;Max Auto Prepare=10", 10)]
    [InlineData("Host=db;Username=perfotel;MaxAutoPrepare=0", 0)]
    public void StatementsArePreparedUnlessTheConnectionStringSaysOtherwise(string connectionString, int maxAutoPrepare) =>
        Assert.Equal(maxAutoPrepare,
            new NpgsqlConnectionStringBuilder(PostgresExecutionStore.WithPreparedStatements(connectionString)).MaxAutoPrepare);

    protected override string TimeLiteral(DateTimeOffset time) =>
        "'" + time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.ffffff", System.Globalization.CultureInfo.InvariantCulture) +
        "+00'::timestamptz";

    protected override async Task<IExecutionStore> OpenStoreAsync()
    {
        var store = new PostgresExecutionStore(SchemaConnectionString, writeConnections: Writes.Connections,
            minRecordsPerPart: Writes.PartMinRecords);
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TwoReplicasWritingOneInvocationWithDifferentNewCallsAtOnce_BothReplicasCallsAreInItsSummary(bool alsoCallsOfAnotherRun)
    {
        // Two collectors on one database (two replicas behind one Service), each given invocation I with a call the
        // other has not seen (an exporter retry that went to the other replica with a later call added). Replica A's
        // write is held open after its statements; replica B then writes and waits on A's uncommitted row of I; A
        // commits, then B. With alsoCallsOfAnotherRun, B's batch also carries a call of a run W stored before (the
        // path whose calls' statement adds to stored owners).
        var i = TestRecords.Invocation() with { Confidence = null, Quality = null };
        var w = TestRecords.Invocation() with { Confidence = null, Quality = null };
        ProviderCall Call(AgentInvocation owner, long tokens) =>
            TestRecords.ProviderCall(owner.TraceId, owner.SpanId, owner.SpanId, new TokenCounts(tokens, 0, 0, 0, 0), 0.01)
                with { Attempt = 1, FallbackFrom = null };
        var ofA = Call(i, 1000);
        var ofB = Call(i, 2000) with { Attempt = 2 };
        var ofW = Call(w, 40);
        await Store.WriteAsync(TestRecords.Batch(w), CancellationToken.None);

        var replicaA = (PostgresExecutionStore)Store;
        await using var replicaB = (PostgresExecutionStore)await OpenStoreAsync();
        var aHeld = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var releaseA = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        replicaA.BeforeCommit = async _ =>
        {
            aHeld.TrySetResult();
            await releaseA.Task;
        };
        var writeA = Task.Run(() => replicaA.WriteAsync(TestRecords.Batch(i, ofA), CancellationToken.None));
        await aHeld.Task.WaitAsync(TimeSpan.FromSeconds(30));
        replicaA.BeforeCommit = null;
        var writeB = Task.Run(() => replicaB.WriteAsync(
            alsoCallsOfAnotherRun ? TestRecords.Batch(i, ofB, ofW) : TestRecords.Batch(i, ofB), CancellationToken.None));

        // B is waiting on A (its insert of I on A's uncommitted row, or a lock A holds): the race is set.
        await using (var watch = new NpgsqlConnection(cluster.ConnectionString))
        {
            await watch.OpenAsync();
            await using var waiting = new NpgsqlCommand(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()", watch);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while ((long)(await waiting.ExecuteScalarAsync())! == 0)
            {
                Assert.False(writeB.IsCompleted, "replica B's write finished while A's was open: the race was not set");
                Assert.True(DateTime.UtcNow < deadline, "replica B's write never waited on A's");
                await Task.Delay(20);
            }
        }

        releaseA.SetResult();
        Assert.Single((await writeA).Invocations);
        Assert.Empty((await writeB).Invocations);

        // I's summary holds both replicas' calls, as its calls do; W's its late call.
        await using var connection = new NpgsqlConnection(SchemaConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT i.span_id, i.call_count, i.call_tokens, i.call_retries,
                   (SELECT count(*) FROM provider_calls p WHERE p.tenant = i.tenant AND p.trace_id = i.trace_id AND p.owner_span_id = i.span_id)
            FROM invocations i ORDER BY i.span_id = $1 DESC
            """, connection);
        command.Parameters.AddWithValue(i.SpanId);
        var rows = new List<(string, long, long, long, long)>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4)));
            }
        }

        Assert.Equal((i.SpanId, 2L, 3000L, 1L, 2L), rows[0]);
        Assert.Equal(alsoCallsOfAnotherRun ? (w.SpanId, 1L, 40L, 0L, 1L) : (w.SpanId, 0L, 0L, 0L, 0L), rows[1]);
    }

    [Fact]
    public async Task FeedbackRacingItsInvocationIsJoinedExactlyOnce()
    {
        // Many rounds of feedback and invocation posted at the same moment from two transactions: whichever commits
        // second must see the first, so nothing stays pending.
        const int rounds = 40;
        var joinsAtWrite = 0;
        var joinsAtFeedback = 0;
        for (var round = 0; round < rounds; round++)
        {
            var invocation = TestRecords.Invocation(taskId: $"race-{round}");
            var batch = TestRecords.Batch(invocation);
            var write = Task.Run(() => Store.WriteAsync(batch, CancellationToken.None));
            var feedback = Task.Run(() => Store.AddFeedbackAsync(TestRecords.Feedback(taskId: $"race-{round}"), CancellationToken.None));
            var committed = await write;
            var result = await feedback;
            joinsAtWrite += committed.JoinedFeedback.Count;
            joinsAtFeedback += result.Joined ? 1 : 0;
        }

        Assert.Equal(rounds, joinsAtWrite + joinsAtFeedback);
        Assert.All(await ReadInvocations(), s => Assert.NotNull(s.Feedback));
    }

    [Fact]
    public async Task MigrationsAreRecordedOnceAcrossRestarts()
    {
        await Store.DisposeAsync();
        Store = await OpenStoreAsync();

        await using var connection = new NpgsqlConnection(SchemaConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*), max(version) FROM schema_migrations", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(PostgresSchema.Migrations.Count, reader.GetInt64(0));
        Assert.Equal(PostgresSchema.Migrations.Max(m => m.Version), reader.GetInt32(1));
    }
}

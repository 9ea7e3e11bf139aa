using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file in WAL mode. All writes go through one writer loop that takes every operation
/// waiting in its queue, applies them in one transaction (group commit) and completes each caller only after COMMIT
/// returned and, at durability <c>full</c>, after a flush of the WAL begun after it (<see cref="SqliteWalSync"/>: one
/// fsync for many commits, beside the writer, which meanwhile commits the next transaction). Checkpoints run beside the
/// writer too (<see cref="SqliteCheckpointer"/>). Reads use their own pooled connections, which WAL lets run beside the writer.
/// </summary>
internal sealed class SqliteExecutionStore : IExecutionStore, IRunStore, IAlertHistoryStore
{
    public const string FileName = "perfotel.db";

    // Bounds one transaction, so a flood cannot grow the WAL or the latency of the first caller without limit.
    private const int MaxRowsPerTransaction = 20_000;
    private const int RetentionSliceRows = 5_000;
    private const int SqliteFull = 13;
    private const int SqliteIoErr = 10;

    private readonly string _writeConnectionString;
    private readonly string _readConnectionString;
    private readonly bool _fullDurability;
    private readonly ILogger _logger;
    private readonly Channel<SqliteWriteOperation> _queue =
        Channel.CreateUnbounded<SqliteWriteOperation>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _initializeLock = new(1, 1);
    private SqliteConnection? _writeConnection;
    private Task? _writerLoop;
    private int _disposed;
    private SqliteWalSync? _walSync;
    private readonly Action<string>? _flushForTests;
    private readonly SqliteCheckpointSettings _checkpointSettings;
    private readonly CollectorMetrics? _metrics;
    private SqliteWalIndex? _walIndex;
    private SqliteCheckpointer? _checkpointer;
    private long _writerCheckpoints;
    private long _writerIdleCheckpoints;
    // The WAL index as the writer read it after its last commit, and the frames its commits appended.
    private (long Pages, long Copied, ulong Generation)? _lastWal;
    private long _walFramesWritten;

    /// <summary>Default of <c>Storage:SqliteCacheMiB</c>.</summary>
    public const int DefaultCacheMiB = 16;

    private readonly int _cacheMiB;

    public SqliteExecutionStore(string dataDirectory, bool fullDurability, ILogger<SqliteExecutionStore>? logger = null,
        int cacheMiB = DefaultCacheMiB, CollectorMetrics? metrics = null)
        : this(dataDirectory, fullDurability, logger, cacheMiB, flushForTests: null, metrics: metrics)
    {
    }

    /// <summary>As the public constructor; <paramref name="flushForTests"/> replaces the fsync of the WAL file
    /// (durability <c>full</c>), so a test can hold or fail it; <paramref name="checkpoint"/> replaces the checkpoint
    /// thresholds (and can hold the checkpointer).</summary>
    internal SqliteExecutionStore(string dataDirectory, bool fullDurability, ILogger<SqliteExecutionStore>? logger,
        int cacheMiB, Action<string>? flushForTests, SqliteCheckpointSettings? checkpoint = null,
        CollectorMetrics? metrics = null)
    {
        _flushForTests = flushForTests;
        _checkpointSettings = checkpoint ?? SqliteCheckpointSettings.Default;
        _metrics = metrics;
        ArgumentOutOfRangeException.ThrowIfLessThan(cacheMiB, 1);
        // Before any connection of the store opens: SQLite in multi-thread mode (see SqliteThreading).
        SqliteThreading.Configure();
        _cacheMiB = cacheMiB;
        DatabasePath = Path.Combine(Path.GetFullPath(dataDirectory), FileName);
        _fullDurability = fullDurability;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _writeConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
        }.ToString();
        _readConnectionString = new SqliteConnectionStringBuilder
        {
            DataSource = DatabasePath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = true,
        }.ToString();
    }

    public string DatabasePath { get; }

    /// <summary>The writer's connection, for tests that inspect its native handle; null before initialization.</summary>
    internal SqliteConnection? WriteConnectionForTests => _writeConnection;

    /// <summary>Transactions committed so far: with group commit, fewer than the writes acknowledged.</summary>
    public long CommittedTransactions => Interlocked.Read(ref _committedTransactions);

    private long _committedTransactions;

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _initializeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_writeConnection is not null)
            {
                return;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
            var connection = new SqliteConnection(_writeConnectionString);
            try
            {
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                Configure(connection);
            }
            catch
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            _writeConnection = connection;
            _writerLoop = Task.Run(RunWriterAsync, CancellationToken.None);
        }
        finally
        {
            _initializeLock.Release();
        }
    }

    private void Configure(SqliteConnection connection)
    {
        Pragma(connection, "PRAGMA journal_mode=WAL");
        Pragma(connection, _fullDurability ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
        Pragma(connection, "PRAGMA busy_timeout=5000");
        Pragma(connection, "PRAGMA foreign_keys=OFF");
        // Negative: a size in KiB rather than in pages. Resident once filled: Storage:SqliteCacheMiB bounds it.
        Pragma(connection, string.Create(CultureInfo.InvariantCulture, $"PRAGMA cache_size=-{_cacheMiB * 1024}"));
        Pragma(connection, "PRAGMA temp_store=MEMORY");
        // SQLite's automatic checkpoint for the migrations; the checkpointer takes over below.
        Pragma(connection, string.Create(CultureInfo.InvariantCulture, $"PRAGMA wal_autocheckpoint={_checkpointSettings.Pages}"));
        new SqliteMigrator(connection, _logger).Apply(SqliteSchema.Migrations);
        if (_fullDurability)
        {
            // From here on every commit is made durable by the WAL flush the writer asks for after it
            // (SqliteWalSync); the callers are answered only after that flush. Checkpoints still sync the WAL before
            // copying and the database file after.
            Pragma(connection, "PRAGMA synchronous=NORMAL");
            _walSync = new SqliteWalSync(DatabasePath + "-wal", _flushForTests,
                _metrics is { } metrics ? metrics.StoreWalFlush : null);
        }

        _walIndex = SqliteWalIndex.Open(DatabasePath);
        if (_walIndex is null)
        {
            _logger.LogWarning("The SQLite WAL index is not in the format this collector reads; checkpoints stay inside commits");
            return;
        }
        // Checkpoints beside the writer (SqliteCheckpointer); the writer copies only a small remainder when it idles and
        // what is left at the WAL's bound.
        Pragma(connection, "PRAGMA wal_autocheckpoint=0");
        _checkpointer = new SqliteCheckpointer(_writeConnectionString, _walIndex, _metrics, _logger,
            _checkpointSettings.BeforePassForTests, _checkpointSettings.BeforeCopyForTests);
        _lastWal = _walIndex.Read();
    }

    /// <summary>
    /// After each commit, once the WAL holds <see cref="SqliteCheckpointSettings.Pages"/> pages (a cycle's worth) and some
    /// of them are not copied yet, brings it to its restart: the WAL restarts from its beginning only when the writer
    /// begins a transaction with every page copied, and until then it grows.
    /// <list type="bullet">
    /// <item>While <see cref="SqliteCheckpointSettings.RemainderPages"/> or more are not copied, the checkpointer is asked
    /// for a pass, again as soon as the last one ended: each pass copies what the writer committed during the one before,
    /// so the backlog shrinks pass by pass (copying is faster than committing) instead of waiting for the next
    /// threshold.</item>
    /// <item>With fewer left and nothing waiting (the writer's idle moment), the writer copies them itself: a few commits'
    /// pages, so its next transaction is sure to restart the WAL. A pass of the checkpointer there would end before
    /// the next transaction begins only by chance.</item>
    /// <item>At <see cref="SqliteCheckpointSettings.BoundPages"/> the writer copies what is left whatever it is, so the
    /// WAL stays bounded when the writer never idles.</item>
    /// </list>
    /// </summary>
    private void KeepWalBounded(bool idle)
    {
        try
        {
            KeepWalBoundedAfterCommit(idle);
        }
        finally
        {
            Interlocked.Increment(ref _walChecks);
        }
    }

    private void KeepWalBoundedAfterCommit(bool idle)
    {
        if (_walIndex?.Read() is not { } wal)
        {
            return;
        }
        _metrics?.StoreWalPages(wal.Pages);
        CountFramesWritten(wal);
        var behind = wal.Pages - wal.Copied;
        if (behind <= 0 || wal.Pages < _checkpointSettings.Pages)
        {
            return;
        }
        if (wal.Pages >= _checkpointSettings.BoundPages)
        {
            CopyOnWriter(CheckpointBy.Writer);
        }
        else if (behind >= _checkpointSettings.RemainderPages)
        {
            _checkpointer?.Request();
        }
        else if (idle && _checkpointer is { Busy: false })
        {
            CopyOnWriter(CheckpointBy.WriterIdle);
        }
    }

    private void CopyOnWriter(string by)
    {
        try
        {
            // Skipped while the checkpointer's pass runs (SQLite lets one checkpoint run at a time): the next commit
            // tries again.
            if (_checkpointer?.CheckpointOnWriter(_writeConnection!, by) == true)
            {
                Interlocked.Increment(ref by == CheckpointBy.Writer ? ref _writerCheckpoints : ref _writerIdleCheckpoints);
            }
        }
        catch (SqliteException ex)
        {
            // The pages stay in the WAL, durable there; the next commit tries again.
            _logger.LogWarning(ex, "SQLite checkpoint by the writer failed");
        }
    }

    /// <summary>
    /// Counts the frames the commit just made appended to the WAL: the growth of the WAL since the last commit, or all of
    /// it when the commit restarted the WAL (a new generation). Only the writer appends frames, so this counts them all.
    /// </summary>
    private void CountFramesWritten((long Pages, long Copied, ulong Generation) wal)
    {
        var appended = _lastWal is { } last && last.Generation == wal.Generation ? wal.Pages - last.Pages : wal.Pages;
        _lastWal = wal;
        if (appended > 0)
        {
            _walFramesWritten += appended;
            _metrics?.StoreWalFrames(appended);
        }
    }

    /// <summary>WAL frames the writer's commits appended since the store opened.</summary>
    internal long WalFramesWritten => Volatile.Read(ref _walFramesWritten);

    /// <summary>WAL frames the store's checkpoints copied since it opened (the checkpointer's and the writer's).</summary>
    internal long CheckpointFramesCopied => _checkpointer?.FramesCopied ?? 0;

    /// <summary>Commits after which the writer has looked at the WAL (and copied or asked for a pass): a test that sees it
    /// equal to <see cref="CommittedTransactions"/> knows the writer is done with its last commit.</summary>
    internal long WalChecks => Interlocked.Read(ref _walChecks);

    private long _walChecks;

    /// <summary>Checkpoints run by the checkpointer beside the writer.</summary>
    internal long CheckpointerPasses => _checkpointer?.Passes ?? 0;

    /// <summary>Checkpoints the writer ran itself at the WAL's bound.</summary>
    internal long WriterCheckpoints => Interlocked.Read(ref _writerCheckpoints);

    /// <summary>Checkpoints the writer ran itself in an idle moment, of the last few commits' pages.</summary>
    internal long WriterIdleCheckpoints => Interlocked.Read(ref _writerIdleCheckpoints);

    /// <summary>Pages in the WAL now (null when the WAL index cannot be read).</summary>
    internal long? WalPages => _walIndex?.Read()?.Pages;

    /// <summary>Pages in the WAL now and how many of them a checkpoint copied.</summary>
    internal (long Pages, long Copied, ulong Generation)? Wal => _walIndex?.Read();

    /// <summary>Whether the checkpointer runs or was asked for a pass.</summary>
    internal bool CheckpointerBusy => _checkpointer?.Busy ?? false;

    public Task<IngestBatch> WriteAsync(IngestBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        return !batch.HasWork ? Task.FromResult(batch) : Enqueue(new IngestOperation(batch), cancellationToken);
    }

    public async Task<CommittedWrite> WriteCommittedAsync(IngestBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (!batch.HasWork)
        {
            return new CommittedWrite(batch, Task.CompletedTask);
        }

        var operation = new IngestOperation(batch, answerAtCommit: true);
        var stored = await Enqueue(operation, cancellationToken).ConfigureAwait(false);
        return new CommittedWrite(stored, operation.Durable);
    }

    /// <summary>WAL flushes so far (durability <c>full</c>): each covers every commit before it began.</summary>
    internal long WalFlushes => _walSync?.Flushes ?? 0;

    public Task<FeedbackResult> AddFeedbackAsync(FeedbackRecord feedback, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(feedback);
        return Enqueue(new FeedbackOperation(feedback), cancellationToken);
    }

    public async Task<long> DeleteOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        // In slices, each its own write operation: the first sweep over months of backlog must not hold the single
        // writer (and every ingest request waiting behind it) for one enormous transaction.
        long total = 0;
        long deleted;
        do
        {
            deleted = await Enqueue(new RetentionOperation(cutoff, RetentionSliceRows), cancellationToken)
                .ConfigureAwait(false);
            total += deleted;
        }
        while (deleted > 0);

        return total;
    }

    public Task SaveAlertsAsync(IReadOnlyList<AlertRecord> alerts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        return alerts.Count == 0 ? Task.CompletedTask : Enqueue(new AlertsOperation(alerts), cancellationToken);
    }

    public async IAsyncEnumerable<AlertRecord> ReadAlertsAsync(AlertQuery query,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var conditions = new List<string> { "tenant = $tenant" };
        var parameters = new List<(string, object)> { ("$tenant", query.Tenant), ("$limit", Math.Max(0, query.Limit)) };
        if (query.Open)
        {
            conditions.Add("resolved_at IS NULL");
        }
        else
        {
            conditions.Add("resolved_at >= $since");
            parameters.Add(("$since", query.ResolvedSince is { } since ? SqliteTime.ToMicros(since) : long.MinValue));
        }
        foreach (var (column, value) in new[] { ("agent", query.Agent), ("metric", query.Metric), ("level", query.Level) })
        {
            if (value is not null)
            {
                conditions.Add($"{column} = ${column}");
                parameters.Add(($"${column}", value));
            }
        }
        var order = query.Open ? "active_since DESC, id" : "resolved_at DESC, id";
        var sql = $"SELECT {AlertColumns} FROM alerts WHERE {string.Join(" AND ", conditions)} ORDER BY {order} LIMIT $limit";
        await foreach (var reader in ReadAsync(sql, new QueryFilter("", "", parameters), cancellationToken).ConfigureAwait(false))
        {
            yield return ReadAlert(reader);
        }
    }

    public async IAsyncEnumerable<AlertRecord> ReadOpenAlertsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var sql = $"SELECT {AlertColumns} FROM alerts WHERE resolved_at IS NULL ORDER BY active_since";
        await foreach (var reader in ReadAsync(sql, new QueryFilter("", "", []), cancellationToken).ConfigureAwait(false))
        {
            yield return ReadAlert(reader);
        }
    }

    private const string AlertColumns =
        "id, tenant, agent, window_name, metric, level, value, threshold, comparison, message, recommendation, active_since, resolved_at";

    private static AlertRecord ReadAlert(SqliteDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetDouble(6),
        r.GetDouble(7), r.GetString(8), r.GetString(9), r.GetString(10), SqliteTime.FromMicros(r.GetInt64(11)),
        r.IsDBNull(12) ? null : SqliteTime.FromMicros(r.GetInt64(12)));

    public async IAsyncEnumerable<StoredInvocation> ReadInvocationsAsync(InvocationQuery query,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var (sql, filter) = InvocationsCommand(query);
        const int rollUp = Columns.InvocationCount;
        const int feedbackAt = rollUp + 8;
        const int orderAt = feedbackAt + Columns.FeedbackCount;
        // SQLite gives the invocations by (second, rowid), the order of the index it groups them on; each second's are
        // put in (start_time, rowid) order here before any of them is given out, and the limit is counted in that
        // order. One second's invocations are held at a time, as SQLite's sorter holds them for the other time reads.
        var remaining = query.Limit is { } max ? Math.Max(0, max) : int.MaxValue;
        if (remaining == 0)
        {
            yield break;
        }
        var second = long.MinValue;
        var held = new List<(long Start, long RowId, StoredInvocation Invocation)>();
        await foreach (var reader in ReadAsync(sql, filter, cancellationToken).ConfigureAwait(false))
        {
            var rowSecond = reader.GetInt64(orderAt);
            if (rowSecond != second && held.Count > 0)
            {
                held.Sort(InTimeOrder);
                foreach (var (_, _, invocation) in held)
                {
                    yield return invocation;
                    if (--remaining == 0)
                    {
                        yield break;
                    }
                }
                held.Clear();
            }
            second = rowSecond;
            var stored = SqliteRecordReader.Invocation(reader, 0);
            var feedback = reader.IsDBNull(feedbackAt) ? null : SqliteRecordReader.Feedback(reader, feedbackAt);
            held.Add((reader.GetInt64(orderAt + 1), reader.GetInt64(orderAt + 2), RollUp(stored, reader, rollUp, feedback)));
        }
        held.Sort(InTimeOrder);
        foreach (var (_, _, invocation) in held.Take(remaining))
        {
            yield return invocation;
        }
    }

    private static readonly Comparison<(long Start, long RowId, StoredInvocation Invocation)> InTimeOrder =
        (a, b) => a.Start != b.Start ? a.Start.CompareTo(b.Start) : a.RowId.CompareTo(b.RowId);

    /// <summary>
    /// The invocation read (also checked by a test for a plan that streams rather than sorts). Its rows come in (second
    /// of the start, rowid) order and end with those three values (second, start_time, rowid): the caller
    /// (<see cref="ReadInvocationsAsync"/>) puts each second's rows in (start_time, rowid) order and applies the limit,
    /// which is therefore not in the SQL.
    /// </summary>
    internal static (string Sql, QueryFilter Filter) InvocationsCommand(InvocationQuery query)
    {
        var filter = Filter(query with { Limit = null }, "i.", "start_time", byTime: true);
        // Grouping and ordering follow the order of the index the read takes, so SQLite streams groups instead of
        // sorting them: every read, a tenant's (and agent's) too, takes the time index keyed by the second (migration
        // 22), whose entries of one second are in rowid order, the tenant and agent tested on each row. SQLite sorts a
        // GROUP BY whole (it sorts only the right part of an ORDER BY), so the group is (second, rowid), the index's
        // order, and the order inside a second is the caller's.
        var second = TimeBucket.Of("i.start_time");
        var order = $"{second}, i.rowid";
        var sql = $"""
            SELECT {Columns.Prefixed(Columns.Invocation, "i")},
                   COUNT(p.span_id), TOTAL(p.input_tokens), TOTAL(p.output_tokens), TOTAL(p.cache_read_tokens),
                   TOTAL(p.cache_creation_tokens), TOTAL(p.reasoning_tokens), SUM(p.cost_usd), TOTAL(p.unpriced_tokens),
                   {Columns.Prefixed(Columns.Feedback, "f")},
                   {second}, i.start_time, i.rowid
            FROM invocations i
            LEFT JOIN provider_calls p ON p.trace_no = i.trace_no AND p.owner_span_id = i.span_id AND p.tenant = i.tenant
            LEFT JOIN feedback f ON f.rowid = (
                SELECT latest.rowid FROM feedback latest
                WHERE latest.invocation_trace_id = i.trace_id AND latest.invocation_span_id = i.span_id
                  AND latest.tenant = i.tenant
                ORDER BY latest.received_at DESC LIMIT 1)
            {filter.Where}
            GROUP BY {order}
            ORDER BY {order}
            """;
        return (sql, filter);
    }

    /// <summary>
    /// The read of provider calls, tool calls or evaluations in time order (also checked by a test for a plan that
    /// streams rather than sorts): each table's time index gives that order, and the tenant and agent are tested on
    /// each row of its range (none of the three is indexed by tenant and agent since migration 16).
    /// </summary>
    internal static (string Sql, QueryFilter Filter) RecordsCommand(string table, string columns, string timeColumn,
        InvocationQuery query)
    {
        var filter = Filter(query, "", timeColumn, byTime: true);
        // The index is keyed by the second (migration 20), its entries of one second in rowid order: SQLite reads the
        // seconds in order and sorts each one's rows by time ("USE TEMP B-TREE FOR LAST 2 TERMS OF ORDER BY"), holding
        // one second's rows at a time. The same order as (time, rowid): the second never decreases with the time.
        return ($"SELECT {columns} FROM {table} {filter.Where} ORDER BY {TimeBucket.Of(timeColumn)}, {timeColumn}, rowid {filter.Limit}",
            filter);
    }

    public async IAsyncEnumerable<ProviderCall> ReadProviderCallsAsync(InvocationQuery query,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var (sql, filter) = RecordsCommand("provider_calls", Columns.ProviderCall, "start_time", query);
        await foreach (var reader in ReadAsync(sql, filter, cancellationToken).ConfigureAwait(false))
        {
            yield return RecordReader.ProviderCall(reader, 0, SqliteRecordReader.Time);
        }
    }

    public async IAsyncEnumerable<EvaluationRecord> ReadEvaluationsAsync(InvocationQuery query,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var (sql, filter) = RecordsCommand("evaluations", Columns.Evaluation, "time", query);
        await foreach (var reader in ReadAsync(sql, filter, cancellationToken).ConfigureAwait(false))
        {
            yield return RecordReader.Evaluation(reader, 0, SqliteRecordReader.Time);
        }
    }

    public async IAsyncEnumerable<SpanLink> ReadSpanLinksAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var expired = new HashSet<(string, string, string)>();
        await foreach (var reader in ReadAsync("SELECT tenant, trace_id, span_id FROM span_link_expiries",
                           new QueryFilter("", "", []), cancellationToken).ConfigureAwait(false))
        {
            expired.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        }

        // In the order they were stored (the writer's commit order), so that a span's first sighting stands.
        var links = new SpanLinkPack.Reader(expired);
        await foreach (var reader in ReadAsync("SELECT seen_at, links FROM span_link_packs ORDER BY rowid",
                           new QueryFilter("", "", []), cancellationToken).ConfigureAwait(false))
        {
            foreach (var link in links.Read(reader.GetFieldValue<byte[]>(1), SqliteRecordReader.Time(reader, 0)))
            {
                yield return link;
            }
        }
    }

    public async IAsyncEnumerable<ToolCall> ReadToolCallsAsync(InvocationQuery query,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var (sql, filter) = RecordsCommand("tool_calls", Columns.ToolCall, "start_time", query);
        await foreach (var reader in ReadAsync(sql, filter, cancellationToken).ConfigureAwait(false))
        {
            yield return RecordReader.ToolCall(reader, 0, SqliteRecordReader.Time);
        }
    }

    internal static readonly RunSql Runs = new(time => SqliteTime.ToMicros(time), SqliteRecordReader.Time, $"""
        LEFT JOIN feedback f ON f.rowid = (
            SELECT latest.rowid FROM feedback latest
            WHERE latest.invocation_trace_id = i.trace_id AND latest.invocation_span_id = i.span_id
              AND latest.tenant = i.tenant
            ORDER BY {RunSql.LatestFeedbackOrder} LIMIT 1)
        """, "CROSS JOIN", index => "INDEXED BY " + index, traceNumbers: true, secondOf: TimeBucket.Of);

    public async Task<IReadOnlyList<RunRow>> SearchRunsAsync(RunSearch search, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(search);
        return await Runs.SearchAsync(search, (sql, parameters, read) => QueryAsync(sql, parameters, read, cancellationToken))
            .ConfigureAwait(false);
    }

    public Task<TraceRecords> ReadTraceAsync(string tenant, string traceId, CancellationToken cancellationToken) =>
        Runs.ReadTraceAsync(tenant, traceId, (sql, parameters, read) => QueryAsync(sql, parameters, read, cancellationToken));

    private async Task<List<object>> QueryAsync(string sql, List<(string Name, object Value)> parameters,
        Func<System.Data.Common.DbDataReader, object> read, CancellationToken cancellationToken)
    {
        var rows = new List<object>();
        await foreach (var reader in ReadAsync(sql, new QueryFilter("", "", parameters), cancellationToken).ConfigureAwait(false))
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        // Writes already queued were promised an answer: the loop drains them before it ends.
        _queue.Writer.TryComplete();
        if (_writerLoop is not null)
        {
            await _writerLoop.ConfigureAwait(false);
        }

        // Every commit the loop made is flushed (and its callers answered) before the connection closes.
        _walSync?.Dispose();
        // Before the writer's connection: closing last, it checkpoints what is left and removes the WAL.
        _checkpointer?.Dispose();
        _walIndex?.Dispose();

        if (_writeConnection is not null)
        {
            await _writeConnection.DisposeAsync().ConfigureAwait(false);
        }

        _initializeLock.Dispose();
        // Pooled read connections would keep the file (and its -wal/-shm) open after the store is gone.
        SqliteConnection.ClearAllPools();
    }

    private Task<TResult> Enqueue<TResult>(SqliteWriteOperation<TResult> operation, CancellationToken cancellationToken)
    {
        if (_writeConnection is null)
        {
            throw new InvalidOperationException("The SQLite store is not initialized: call InitializeAsync first.");
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (!_queue.Writer.TryWrite(operation))
        {
            throw new ObjectDisposedException(nameof(SqliteExecutionStore), "The SQLite store is shutting down.");
        }

        // Cancellation stops the caller waiting, not the write: once queued it commits (the receiver then has not
        // acknowledged it, and the client's retry is absorbed by idempotent ingest).
        return operation.Task.WaitAsync(cancellationToken);
    }

    private async Task RunWriterAsync()
    {
        var reader = _queue.Reader;
        var group = new List<SqliteWriteOperation>();
        using var session = new SqliteWriteSession(_writeConnection!);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            group.Clear();
            var rows = 0;
            while (rows < MaxRowsPerTransaction && reader.TryRead(out var operation))
            {
                group.Add(operation);
                rows += operation.Weight;
            }

            CommitGroup(session, group);
            // Nothing waiting: the writer idles until the next write, a moment for the checkpointer to catch up in.
            KeepWalBounded(idle: !reader.TryPeek(out _));
        }
    }

    private void CommitGroup(SqliteWriteSession session, List<SqliteWriteOperation> group)
    {
        var applied = new List<SqliteWriteOperation>(group.Count);
        var started = Stopwatch.GetTimestamp();
        try
        {
            using var transaction = _writeConnection!.BeginTransaction();
            session.Transaction = transaction;
            if (group.Count == 1)
            {
                // Alone in its transaction (the ingest writer merges what waits into one operation), an operation
                // needs no savepoint: rolling it back is rolling the transaction back. A savepoint makes SQLite copy
                // every page the transaction changes into a journal of its own first (hundreds a commit), in case it
                // is rolled back to.
                if (!ApplyAlone(transaction, session, group[0]))
                {
                    return;
                }

                applied.Add(group[0]);
            }
            else
            {
                foreach (var operation in group)
                {
                    if (ApplyInSavepoint(transaction, session, operation))
                    {
                        applied.Add(operation);
                    }
                }
            }

            transaction.Commit();
            Interlocked.Increment(ref _committedTransactions);
            _metrics?.StoreCommit(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
#pragma warning disable CA1031 // Whatever failed, every caller of the group must get an answer or it waits forever.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // The transaction did not commit (disk full, I/O error): nothing of the group is durable, so nobody is
            // told otherwise. Operations already failed alone keep their own error (TrySetException).
            _logger.LogError(ex, "SQLite commit of {Count} write operations failed", group.Count);
            foreach (var operation in group)
            {
                operation.Discard();
                operation.Fail(new SqliteWriteFailedException("The store could not commit the write.", ex));
            }

            RecountAfterRollback(session);
            return;
        }
        finally
        {
            session.Transaction = null;
        }

        // Asked for after COMMIT returned, so the flush covers this commit (SqliteWalSync's remarks).
        var durable = applied.Count == 0 ? Task.CompletedTask : _walSync?.AfterCommit() ?? Task.CompletedTask;
        foreach (var operation in applied)
        {
            operation.Complete(durable);
        }
    }

    /// <summary>
    /// Applies the only operation of a transaction; when its data is at fault, rolls the transaction back and fails it,
    /// as <see cref="ApplyInSavepoint"/> does with its savepoint (nothing else was in the transaction to keep).
    /// </summary>
    private bool ApplyAlone(SqliteTransaction transaction, SqliteWriteSession session, SqliteWriteOperation operation)
    {
        try
        {
            operation.Apply(session);
            return true;
        }
        catch (Exception ex) when (ex is not SqliteException { SqliteErrorCode: SqliteFull or SqliteIoErr })
        {
            transaction.Rollback();
            Rejected(session, operation, ex);
            return false;
        }
    }

    private void Rejected(SqliteWriteSession session, SqliteWriteOperation operation, Exception ex)
    {
        operation.Discard();
        RecountAfterRollback(session);
        _logger.LogWarning(ex, "A write operation was rejected and rolled back alone");
        operation.Fail(new SqliteWriteFailedException("The store rejected the write: " + ex.Message, ex));
    }

    private bool ApplyInSavepoint(SqliteTransaction transaction, SqliteWriteSession session, SqliteWriteOperation operation)
    {
        transaction.Save("operation");
        try
        {
            operation.Apply(session);
            transaction.Release("operation");
            return true;
        }
        catch (Exception ex) when (ex is not SqliteException { SqliteErrorCode: SqliteFull or SqliteIoErr })
        {
            // This operation's data is at fault (a constraint, a malformed record): undo it alone and let the
            // others commit. Disk and I/O errors fail the whole group instead.
            transaction.Rollback("operation");
            transaction.Release("operation");
            Rejected(session, operation, ex);
            return false;
        }
    }

    private void RecountAfterRollback(SqliteWriteSession session)
    {
        try
        {
            session.RecountPending();
        }
        catch (SqliteException ex)
        {
            // Cannot count: assume feedback is pending, so joins are looked up rather than missed.
            _logger.LogWarning(ex, "Could not recount pending feedback after a rollback");
            session.AssumePending();
        }
    }

    private async IAsyncEnumerable<SqliteDataReader> ReadAsync(string sql, QueryFilter filter,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = new SqliteConnection(_readConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in filter.Parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return reader;
        }
    }

    private static StoredInvocation RollUp(AgentInvocation invocation, SqliteDataReader reader, int rollUp,
        FeedbackRecord? feedback)
    {
        // TOTAL() returns REAL (and 0.0 over no rows); token sums are exact integers well inside a double's 2^53.
        var tokens = new TokenCounts((long)reader.GetDouble(rollUp + 1), (long)reader.GetDouble(rollUp + 2),
            (long)reader.GetDouble(rollUp + 3), (long)reader.GetDouble(rollUp + 4), (long)reader.GetDouble(rollUp + 5));
        return RecordReader.RollUp(invocation, reader.GetInt64(rollUp), tokens, RecordReader.Real(reader, rollUp + 6),
            (long)reader.GetDouble(rollUp + 7), feedback);
    }

    // byTime: the read takes the table's time index keyed by the second (provider calls, tool calls, evaluations since
    // migration 20, invocations since 22; none of the first three is indexed by tenant and agent since migration 16), so
    // the tenant and agent are tested on each row of its range ('+' keeps SQLite off other indexes with a tenant prefix,
    // the primary key's or the run list's, which would sort all of a tenant's rows first).
    private static QueryFilter Filter(InvocationQuery query, string alias, string timeColumn, bool byTime = false)
    {
        var conditions = new List<string>();
        var parameters = new List<(string, object)>();
        var filterOnly = byTime ? "+" : "";
        if (query.Tenant is not null)
        {
            conditions.Add($"{filterOnly}{alias}tenant = $tenant");
            parameters.Add(("$tenant", query.Tenant));
        }

        if (query.AgentName is not null)
        {
            conditions.Add($"{filterOnly}{alias}agent_name = $agent");
            parameters.Add(("$agent", query.AgentName));
        }

        // Always a range on the time column, even without Since: it steers SQLite onto a time-ordered index, so
        // ORDER BY (and the invocation roll-up's GROUP BY) stream rows instead of sorting them all in a temp b-tree.
        // byTime: the index is keyed by the second (migration 20), so the range is given on the second too (implied by
        // the range on the time: the second never decreases with the time).
        var bucket = TimeBucket.Of(alias + timeColumn);
        conditions.Add($"{alias}{timeColumn} >= $since");
        if (byTime)
        {
            conditions.Add($"{bucket} >= {TimeBucket.Of("$since")}");
        }
        parameters.Add(("$since", query.Since is { } since ? SqliteTime.ToMicros(since) : long.MinValue));

        if (query.Until is { } until)
        {
            conditions.Add($"{alias}{timeColumn} < $until");
            if (byTime)
            {
                conditions.Add($"{bucket} <= {TimeBucket.Of("$until")}");
            }
            parameters.Add(("$until", SqliteTime.ToMicros(until)));
        }

        var limit = "";
        if (query.Limit is { } max)
        {
            limit = "LIMIT $limit";
            parameters.Add(("$limit", Math.Max(0, max)));
        }

        var where = conditions.Count == 0 ? "" : "WHERE " + string.Join(" AND ", conditions);
        return new QueryFilter(where, limit, parameters);
    }

    private static void Pragma(SqliteConnection connection, string pragma)
    {
        using var command = connection.CreateCommand();
        command.CommandText = pragma;
        command.ExecuteNonQuery();
    }

    internal sealed record QueryFilter(string Where, string Limit, List<(string Name, object Value)> Parameters);
}

/// <summary>
/// When the SQLite store checkpoints: once the WAL holds <paramref name="Pages"/> the checkpointer copies it beside the
/// writer, pass after pass while <see cref="RemainderPages"/> or more are not copied; the writer copies a smaller
/// remainder itself when it idles, and whatever is left once the WAL holds <paramref name="BoundPages"/>.
/// </summary>
/// <param name="Pages">
/// 8 000 pages (4 KiB each) by default: SQLite's default, 1 000, is less than one ingest commit writes under load (about
/// 0.6 pages a span), and a checkpoint at 8 000 copies a page several commits wrote once.
/// </param>
/// <param name="BoundPages">
/// 32 000 pages (about 130 MB of WAL file) by default: reached only when the writer never idles long enough to copy the
/// remainder between two of its transactions.
/// </param>
/// <param name="BeforePassForTests">Runs on the checkpointer's thread before each pass (tests hold it with this).</param>
/// <param name="BeforeCopyForTests">Runs on the checkpointer's thread inside each pass, between its read of the backfill
/// mark and its PRAGMA.</param>
internal sealed record SqliteCheckpointSettings(int Pages, int BoundPages, Action? BeforePassForTests = null,
    Action? BeforeCopyForTests = null)
{
    public static SqliteCheckpointSettings Default { get; } = new(8_000, 32_000);

    /// <summary>
    /// Below this many pages not copied (an eighth of <see cref="Pages"/>, 1 000 by default: 4 MB, a few commits at half
    /// the sustained rate) the writer copies them itself when it idles, rather than asking the checkpointer for a pass.
    /// </summary>
    public int RemainderPages { get; init; } = Math.Max(1, Pages / 8);
}

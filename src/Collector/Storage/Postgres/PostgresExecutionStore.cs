using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Storage.Postgres;

/// <summary>
/// The PostgreSQL store. Each write is one transaction and one round trip: every table gets a single
/// <c>INSERT ... SELECT unnest(arrays)</c> (<see cref="RowsOf"/>), so a 100-span batch costs four statements, not a hundred (plain inserts
/// first, redone with <c>ON CONFLICT DO NOTHING</c> when a key is already stored: <see cref="WritePartAsync"/>). Concurrent writers each use a pooled connection; PostgreSQL's own WAL group commit batches their fsyncs.
/// </summary>
internal sealed partial class PostgresExecutionStore : IExecutionStore, IRunStore, ISharedStore, IAlertHistoryStore
{
    // Feedback and invocations can arrive at the same moment in two transactions, each unable to see the other's
    // uncommitted row, and both would conclude "nothing to join". Writers of invocations take this advisory lock
    // shared (they never block each other) and feedback takes it exclusively, so one always sees the other's commit.
    private const long FeedbackJoinLock = 0x5045_5246_4F54_454C; // "PERFOTEL"

    private static readonly Func<DbDataReader, int, DateTimeOffset> Time =
        (r, o) => new DateTimeOffset(r.GetFieldValue<DateTime>(o), TimeSpan.Zero);

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _connectionString;
    private readonly ILogger _logger;
    private readonly int _writeConnections;
    private readonly int _minRecordsPerPart;
    private readonly CollectorMetrics? _metrics;

    /// <summary>Default of <c>Storage:PostgresWriteConnections</c>.</summary>
    public const int DefaultWriteConnections = 2;

    /// <summary>Default of <c>Storage:PostgresWritePartMinRecords</c>.</summary>
    public const int DefaultMinRecordsPerPart = 256;

    public PostgresExecutionStore(string connectionString, ILogger<PostgresExecutionStore>? logger = null,
        int writeConnections = DefaultWriteConnections, int minRecordsPerPart = DefaultMinRecordsPerPart,
        CollectorMetrics? metrics = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(writeConnections, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(minRecordsPerPart, 1);
        _writeConnections = writeConnections;
        _minRecordsPerPart = minRecordsPerPart;
        _metrics = metrics;
        _connectionString = connectionString;
        _dataSource = NpgsqlDataSource.Create(WithPreparedStatements(connectionString));
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <summary>
    /// The connection string with Npgsql's automatic preparation on (<c>Max Auto Prepare</c>), unless it sets that
    /// itself: every write sends the same few statements, which the server would otherwise parse and plan on every batch.
    /// </summary>
    internal static string WithPreparedStatements(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (builder.MaxAutoPrepare == 0 && !connectionString.Contains("auto prepare", StringComparison.OrdinalIgnoreCase)
            && !connectionString.Contains("autoprepare", StringComparison.OrdinalIgnoreCase))
        {
            builder.MaxAutoPrepare = 64;
        }
        return builder.ConnectionString;
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await new PostgresMigrator(connection, _logger).ApplyAsync(PostgresSchema.Migrations, cancellationToken)
            .ConfigureAwait(false);
    }

    public async Task<IngestBatch> WriteAsync(IngestBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (!batch.HasWork)
        {
            return batch;
        }

        var parts = SplitByStripe(batch, _writeConnections, _minRecordsPerPart);
        if (parts.Count == 1)
        {
            var (stored, position) = await WritePartAsync(batch, cancellationToken).ConfigureAwait(false);
            var only = stored.ToBatch();
            only.CommitPositions = [position];
            return only;
        }

        // Every part on a connection of its own at once, each committed as soon as its statements are done. The parts
        // hold disjoint traces (disjoint stripes), so no part waits for another; and since none waits for another's
        // commit either, two writes spread over the same traces (two replicas) can only wait for each other inside
        // PostgreSQL, whose deadlock detection sees them, never through this process. A part that fails after another
        // committed fails the write (the senders retry; what was committed is not new then): its committed parts'
        // positions are not reported, so the derivation leader reads them back like another replica's commits
        // (docs/collector/storage.md, "Parallel writes").
        var writes = parts.Select(part => WritePartAsync(part, cancellationToken)).ToArray();
        await Task.WhenAll(writes).ConfigureAwait(false);

        // In the batch's order, as a single transaction's result is.
        var isNew = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var committed = new IngestBatch();
        foreach (var write in writes)
        {
            var part = write.Result.Stored.ToBatch();
            isNew.UnionWith(part.Invocations);
            isNew.UnionWith(part.ProviderCalls);
            isNew.UnionWith(part.ToolCalls);
            isNew.UnionWith(part.Evaluations);
            committed.JoinedFeedback.AddRange(part.JoinedFeedback);
        }
        committed.Invocations.AddRange(batch.Invocations.Where(isNew.Contains));
        committed.ProviderCalls.AddRange(batch.ProviderCalls.Where(isNew.Contains));
        committed.ToolCalls.AddRange(batch.ToolCalls.Where(isNew.Contains));
        committed.Evaluations.AddRange(batch.Evaluations.Where(isNew.Contains));
        committed.CommitPositions = [.. writes.Select(write => write.Result.Position)];
        return committed;
    }

    /// <summary>
    /// One transaction on a connection of its own: every statement of <paramref name="batch"/> in one round trip (plus
    /// one for the calls of invocations it did not insert, rarely), then the commit.
    /// </summary>
    /// <remarks>
    /// The records go in first with plain inserts: for a key that is not stored yet, PostgreSQL then descends each
    /// primary key once, checking uniqueness as it inserts, where <c>ON CONFLICT DO NOTHING</c> probes the key first,
    /// inserts the row speculatively under a lock of its own, inserts the key and writes one more WAL record to confirm
    /// the row (docs/collector/ingest-performance.md, "PostgreSQL towards 30 000 spans/s"). A key already stored (a resend, a
    /// span repeated within the batch, or one committed meanwhile by a concurrent write such as another replica's)
    /// makes the plain insert fail with a unique violation: the transaction is rolled back, nothing of it stays, and
    /// the part is written again with <c>ON CONFLICT DO NOTHING</c>, exactly as every write was before. The primary
    /// keys alone still decide what is new, so a record is stored and reported new once, whatever arrives twice.
    /// </remarks>
    private async Task<(NewRecords Stored, long Position)> WritePartAsync(IngestBatch batch, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false))
        {
            try
            {
                return await ExecuteAndCommitAsync(connection, transaction, batch, skipStored: false, cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (PostgresException error) when (IsStoredRecordKey(error))
            {
                await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        Interlocked.Increment(ref _writesRedoneSkippingStored);
        _metrics?.StoreWriteRedone();
        await using var again = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        return await ExecuteAndCommitAsync(connection, again, batch, skipStored: true, cancellationToken).ConfigureAwait(false);
    }

    private long _writesRedoneSkippingStored;

    /// <summary>
    /// Parts of writes that met a record already stored and were written again with <c>ON CONFLICT DO NOTHING</c>
    /// (<see cref="WritePartAsync"/>): zero while every record is new. Exposed as
    /// <c>perfotel_collector_store_writes_redone_total</c>.
    /// </summary>
    internal long WritesRedoneSkippingStored => Interlocked.Read(ref _writesRedoneSkippingStored);

    // The tables whose primary key is a record's identity: a unique violation of one of those keys is a record stored
    // before (or earlier in the batch), which the redo with ON CONFLICT DO NOTHING skips. Any other violation is an error.
    private static readonly HashSet<string> RecordTables = ["invocations", "provider_calls", "tool_calls", "evaluations"];

    private static bool IsStoredRecordKey(PostgresException error) =>
        error.SqlState == PostgresErrorCodes.UniqueViolation && error.TableName is { } table && RecordTables.Contains(table)
        && error.ConstraintName == table + "_pkey";

    private async Task<(NewRecords Stored, long Position)> ExecuteAndCommitAsync(NpgsqlConnection connection,
        NpgsqlTransaction transaction, IngestBatch batch, bool skipStored, CancellationToken cancellationToken)
    {
        var written = await ExecuteWriteAsync(connection, transaction, batch, skipStored, cancellationToken).ConfigureAwait(false);
        if (BeforeCommit is { } beforeCommit)
        {
            await beforeCommit(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return written;
    }

    /// <summary>
    /// The part's statements in one round trip. With <paramref name="skipStored"/> every record insert carries
    /// <c>ON CONFLICT DO NOTHING</c> and <c>RETURNING</c> tells which rows were new; without it the inserts are plain and
    /// fail on any key already stored, so every row they return is new.
    /// </summary>
    private static async Task<(NewRecords Stored, long Position)> ExecuteWriteAsync(NpgsqlConnection connection,
        NpgsqlTransaction transaction, IngestBatch batch, bool skipStored, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlBatch(connection, transaction);
        // Every insert returns the keys it really stored (RETURNING skips conflicts): what is absent was stored before.
        // One reader per command, in command order, for the results that come back in that order.
        var stored = new NewRecords(batch);
        var results = new List<Func<NpgsqlDataReader, Task>>(6);
        // The transaction's commit position (docs/collector/scale-out.md): the derivation leader applies its own commits
        // live and skips them when it reads the other replicas' commits back. Same round trip as the inserts.
        long position = 0;
        command.BatchCommands.Add(new NpgsqlBatchCommand(CurrentPosition));
        results.Add(async reader =>
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            position = reader.GetInt64(0);
        });
        if (batch.Invocations.Count > 0)
        {
            command.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_advisory_xact_lock_shared({FeedbackJoinLock})"));
            results.Add(_ => Task.CompletedTask);
        }

        var (locks, callsOwnedHere) = SummaryLocks(batch);
        if (locks is not null)
        {
            command.BatchCommands.Add(locks);
            results.Add(DrainAsync);
        }

        // Calls before invocations: a new invocation's summary is then one probe of the owner index that counts its
        // calls of this write and of earlier ones; calls of an invocation stored before that is not in this batch are
        // added to it in the same statement that inserts them, one update per owner (docs/collector/storage.md). When
        // every call's owner is an invocation of this batch (the common case), that update would have nothing to find,
        // so the calls go in with a plain insert. The new calls of a batch invocation this write did not insert (a
        // resend, or the same span inserted by a concurrent write) are added after the round trip (AddToInvocationsNotInserted).
        var callNotNew = batch.ProviderCalls.Count > 0 ? new bool[batch.ProviderCalls.Count] : [];
        var invocationNotNew = batch.Invocations.Count > 0 ? new bool[batch.Invocations.Count] : [];
        if (batch.ProviderCalls.Count > 0)
        {
            command.BatchCommands.Add(InsertProviderCalls(batch.ProviderCalls, addToStoredOwners: !callsOwnedHere, batch.Invocations, skipStored));
            results.Add(reader => MarkNewAsync(reader, batch.ProviderCalls, SpanKey, SpanKey, (index, inserted) =>
            {
                stored.ProviderCall(index, inserted);
                callNotNew[index] = !inserted;
            }, cancellationToken));
        }

        if (batch.Invocations.Count > 0)
        {
            command.BatchCommands.Add(InsertInvocationsJoiningFeedback(batch.Invocations, skipStored));
            results.Add(reader => ReadNewInvocationsAsync(reader, batch.Invocations, (index, inserted) =>
            {
                stored.Invocation(index, inserted);
                invocationNotNew[index] = !inserted;
            }, stored, cancellationToken));
        }

        if (batch.ToolCalls.Count > 0)
        {
            command.BatchCommands.Add(InsertToolCalls(batch.ToolCalls, skipStored));
            results.Add(reader => MarkNewAsync(reader, batch.ToolCalls, SpanKey, SpanKey, stored.ToolCall, cancellationToken));
        }

        if (batch.Evaluations.Count > 0)
        {
            command.BatchCommands.Add(InsertEvaluations(batch.Evaluations, skipStored));
            results.Add(reader => MarkNewAsync(reader, batch.Evaluations, EvaluationKey, EvaluationKey, stored.Evaluation, cancellationToken));
        }

        // The links, attribution updates, expiry marks and prune go in the same round trip, after the inserts (so in
        // the same order as before): one round trip per write, as before span links existed.
        AddAttributionCommands(command, batch);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            for (var index = 0; index < results.Count; index++)
            {
                if (index > 0)
                {
                    await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                }

                await results[index](reader).ConfigureAwait(false);
            }

            // The statements after the last result set (links, updates): an error of theirs surfaces here, before COMMIT.
            while (await reader.NextResultAsync(cancellationToken).ConfigureAwait(false))
            {
            }
        }

        if (AddToInvocationsNotInserted(batch, invocationNotNew, callNotNew) is { } added)
        {
            await using var addition = new NpgsqlBatch(connection, transaction);
            addition.BatchCommands.Add(added);
            await addition.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return (stored, position);
    }

    /// <summary>
    /// Test hook: awaited after a write's statements and before its commit, so that a test can hold one replica's write
    /// open while another writes the same records (the race is then deterministic). Null outside tests.
    /// </summary>
    internal Func<CancellationToken, Task>? BeforeCommit { get; set; }

    /// <summary>
    /// The update that adds this write's new calls to the batch invocations it did not insert: a resend of an invocation
    /// stored before, or the same span inserted by a concurrent write (another replica) that committed first, whose
    /// own summary could not see these calls. A separate statement after the insert's, so that under READ COMMITTED it
    /// sees that row (an update in the insert's own statement would not); it adds rather than recounts, so two writes
    /// doing this at once both count (the second waits for the first's row lock and adds to its result). Null when
    /// there is nothing to add, the common case (every invocation new).
    /// </summary>
    internal static NpgsqlBatchCommand? AddToInvocationsNotInserted(IngestBatch batch, bool[] invocationNotNew, bool[] callNotNew)
    {
        if (batch.ProviderCalls.Count == 0 || System.Array.IndexOf(invocationNotNew, true) < 0)
        {
            return null;
        }

        // A span the batch carries twice was inserted by its first occurrence, whose probe counted the calls.
        var inserted = new HashSet<(string, string, string)>();
        var notInserted = new HashSet<(string, string, string)>();
        for (var index = 0; index < batch.Invocations.Count; index++)
        {
            (invocationNotNew[index] ? notInserted : inserted).Add(SpanKey(batch.Invocations[index]));
        }

        notInserted.ExceptWith(inserted);
        Dictionary<(string, string, string), CallTotals>? sums = null;
        for (var index = 0; index < batch.ProviderCalls.Count; index++)
        {
            var call = batch.ProviderCalls[index];
            if (callNotNew[index] || CallTotals.OwnerOf(call) is not { } of)
            {
                continue;
            }

            var owner = (WithoutNul(of.Tenant)!, WithoutNul(of.TraceId)!, WithoutNul(of.SpanId)!);
            if (notInserted.Contains(owner))
            {
                sums ??= [];
                sums[owner] = sums.GetValueOrDefault(owner) + CallTotals.Of(call);
            }
        }

        if (sums is null)
        {
            return null;
        }

        // In key order, so that two writes adding to the same invocations lock their rows in the same order.
        var rows = sums.OrderBy(r => r.Key.Item1, StringComparer.Ordinal).ThenBy(r => r.Key.Item2, StringComparer.Ordinal)
            .ThenBy(r => r.Key.Item3, StringComparer.Ordinal).ToList();
        var command = new NpgsqlBatchCommand("""
            UPDATE invocations i SET call_count = i.call_count + d.calls, call_tokens = i.call_tokens + d.tokens,
                call_unpriced_tokens = i.call_unpriced_tokens + d.unpriced, call_retries = i.call_retries + d.retries,
                call_fallbacks = i.call_fallbacks + d.fallbacks
            FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[])
                AS d(tenant, trace_id, span_id, calls, tokens, unpriced, retries, fallbacks)
            WHERE i.tenant = d.tenant AND i.trace_id = d.trace_id AND i.span_id = d.span_id
            """);
        command.Parameters.Add(Texts(rows, r => r.Key.Item1));
        command.Parameters.Add(Texts(rows, r => r.Key.Item2));
        command.Parameters.Add(Texts(rows, r => r.Key.Item3));
        command.Parameters.Add(Array(rows, r => r.Value.Calls));
        command.Parameters.Add(Array(rows, r => r.Value.Tokens));
        command.Parameters.Add(Array(rows, r => r.Value.UnpricedTokens));
        command.Parameters.Add(Array(rows, r => r.Value.Retries));
        command.Parameters.Add(Array(rows, r => r.Value.Fallbacks));
        return command;
    }

    /// <summary>The batch's span links, the attribution of earlier records they made known, and the due prune of old links.</summary>
    internal static void AddAttributionCommands(NpgsqlBatch command, IngestBatch batch)
    {
        // One row per commit (per seen-at time) holding its links packed: no row or index entry per span.
        foreach (var (seenAt, pack) in SpanLinkPack.Group(batch.SpanLinks))
        {
            var insert = new NpgsqlBatchCommand("INSERT INTO span_link_packs (seen_at, links) VALUES ($1, $2)");
            insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = seenAt.UtcDateTime });
            insert.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = pack, NpgsqlDbType = NpgsqlDbType.Bytea });
            command.BatchCommands.Add(insert);
        }

        if (batch.Attributions.Count > 0)
        {
            // A call attributed by a later request also rolls up into its invocation from then on (owner_span_id): it
            // leaves its old owner's call summary and joins the new one's, in the statement that re-owns it (o is the
            // row before the update).
            foreach (var sql in (string[])[
                         $"""
                         WITH moved AS (
                             UPDATE provider_calls r SET invocation_span_id = u.invocation, owner_span_id = u.invocation, agent_name = u.agent
                             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(tenant, trace_id, span_id, invocation, agent),
                                  provider_calls o
                             WHERE r.tenant = u.tenant AND r.trace_id = u.trace_id AND r.span_id = u.span_id
                               AND o.tenant = r.tenant AND o.trace_id = r.trace_id AND o.span_id = r.span_id
                             RETURNING r.tenant, r.trace_id, o.owner_span_id AS old_owner, r.owner_span_id AS new_owner,
                                 r.input_tokens + r.output_tokens AS tokens, r.unpriced_tokens, r.attempt, r.fallback_from),
                         changes AS (
                             SELECT tenant, trace_id, old_owner AS owner, -1 AS n, tokens, unpriced_tokens, attempt, fallback_from
                             FROM moved WHERE old_owner IS NOT NULL AND old_owner IS DISTINCT FROM new_owner
                             UNION ALL
                             SELECT tenant, trace_id, new_owner, 1, tokens, unpriced_tokens, attempt, fallback_from
                             FROM moved WHERE new_owner IS NOT NULL AND old_owner IS DISTINCT FROM new_owner)
                         {AddToOwners("changes", "owner", "n")}
                         """,
                         "UPDATE tool_calls r SET invocation_span_id = u.invocation, agent_name = u.agent",
                         "UPDATE evaluations r SET agent_name = u.agent",
                     ])
            {
                var update = new NpgsqlBatchCommand(sql.StartsWith("WITH", StringComparison.Ordinal) ? sql : sql + """

                    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS u(tenant, trace_id, span_id, invocation, agent)
                    WHERE r.tenant = u.tenant AND r.trace_id = u.trace_id AND r.span_id = u.span_id
                    """);
                var updates = batch.Attributions;
                update.Parameters.Add(Texts(updates, a => a.Tenant));
                update.Parameters.Add(Texts(updates, a => a.TraceId));
                update.Parameters.Add(Texts(updates, a => a.SpanId));
                update.Parameters.Add(Texts(updates, a => a.InvocationSpanId));
                update.Parameters.Add(Texts(updates, a => a.AgentName));
                command.BatchCommands.Add(update);
            }
        }

        if (batch.ExpiredSpans.Count > 0)
        {
            var expired = batch.ExpiredSpans;
            var mark = new NpgsqlBatchCommand("""
                INSERT INTO span_link_expiries (tenant, trace_id, span_id, seen_at)
                SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[])
                ON CONFLICT DO NOTHING
                """);
            mark.Parameters.Add(Texts(expired, e => e.Tenant));
            mark.Parameters.Add(Texts(expired, e => e.TraceId));
            mark.Parameters.Add(Texts(expired, e => e.SpanId));
            mark.Parameters.Add(Times(expired, e => e.SeenAt));
            command.BatchCommands.Add(mark);
        }

        if (batch.PruneSpanLinksBefore is { } before)
        {
            // A decision goes with the link it was made on.
            foreach (var table in (string[])["span_link_packs", "span_link_expiries"])
            {
                var prune = new NpgsqlBatchCommand($"DELETE FROM {table} WHERE seen_at < $1");
                prune.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = before.UtcDateTime });
                command.BatchCommands.Add(prune);
            }
        }
    }

    public async Task<FeedbackResult> AddFeedbackAsync(FeedbackRecord feedback, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(feedback);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({FeedbackJoinLock})", cancellationToken)
            .ConfigureAwait(false);

        bool inserted;
        await using (var insert = new NpgsqlCommand(
                         $"INSERT INTO feedback ({Columns.FeedbackInsert}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING",
                         connection, transaction))
        {
            insert.Parameters.Add(Value(feedback.Tenant));
            insert.Parameters.Add(Value(feedback.FeedbackId));
            insert.Parameters.Add(Value(feedback.TaskId));
            insert.Parameters.Add(Value(feedback.TraceId));
            insert.Parameters.Add(Value(feedback.SpanId));
            insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Boolean, Value = (object?)feedback.Success ?? DBNull.Value });
            insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Double, Value = (object?)feedback.Score ?? DBNull.Value });
            insert.Parameters.Add(Value(feedback.PredictedJson));
            insert.Parameters.Add(Value(feedback.ActualJson));
            insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Double, Value = (object?)feedback.Accuracy ?? DBNull.Value });
            insert.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = feedback.ReceivedAt.UtcDateTime });
            inserted = await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }

        AgentInvocation? invocation;
        long? position = null;
        if (!inserted)
        {
            // A resend of the same feedback id: report the state of what is stored, change nothing.
            invocation = await SelectInvocationAsync(connection, transaction, $"""
                SELECT {Columns.Prefixed(Columns.Invocation, "i")} FROM feedback f
                JOIN invocations i ON i.tenant = f.tenant AND i.trace_id = f.invocation_trace_id
                    AND i.span_id = f.invocation_span_id
                WHERE f.tenant = $1 AND f.feedback_id = $2
                """, cancellationToken, feedback.Tenant, feedback.FeedbackId).ConfigureAwait(false);
        }
        else
        {
            invocation = feedback.SpanId is not null
                ? await SelectInvocationAsync(connection, transaction,
                    $"SELECT {Columns.Invocation} FROM invocations WHERE trace_id = $1 AND span_id = $2 AND tenant = $3",
                    cancellationToken, feedback.TraceId, feedback.SpanId, feedback.Tenant).ConfigureAwait(false)
                // The latest invocation of a task: a retried task is judged by its last attempt.
                : await SelectInvocationAsync(connection, transaction,
                    $"SELECT {Columns.Invocation} FROM invocations WHERE tenant = $1 AND task_id = $2 ORDER BY start_time DESC LIMIT 1",
                    cancellationToken, feedback.Tenant, feedback.TaskId).ConfigureAwait(false);
            if (invocation is not null)
            {
                await using var join = new NpgsqlCommand($"""
                    UPDATE feedback SET invocation_trace_id = $3, invocation_span_id = $4, joined_position = {PositionExpression}
                    WHERE tenant = $1 AND feedback_id = $2 RETURNING joined_position
                    """, connection, transaction);
                join.Parameters.Add(Value(feedback.Tenant));
                join.Parameters.Add(Value(feedback.FeedbackId));
                join.Parameters.Add(Value(invocation.TraceId));
                join.Parameters.Add(Value(invocation.SpanId));
                position = (long?)await join.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return new FeedbackResult(invocation is not null, invocation, AlreadyStored: !inserted) { CommitPosition = position };
    }

    public async IAsyncEnumerable<StoredInvocation> ReadInvocationsAsync(InvocationQuery query,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var filter = Filter(query, "i.", "start_time");
        var sql = $"""
            SELECT {Columns.Prefixed(Columns.Invocation, "i")},
                   r.calls, r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_creation_tokens,
                   r.reasoning_tokens, r.cost_usd, r.unpriced_tokens,
                   {Columns.Prefixed(Columns.Feedback, "f")}
            FROM invocations i
            CROSS JOIN LATERAL (
                SELECT count(*) AS calls,
                       coalesce(sum(p.input_tokens), 0)::bigint AS input_tokens,
                       coalesce(sum(p.output_tokens), 0)::bigint AS output_tokens,
                       coalesce(sum(p.cache_read_tokens), 0)::bigint AS cache_read_tokens,
                       coalesce(sum(p.cache_creation_tokens), 0)::bigint AS cache_creation_tokens,
                       coalesce(sum(p.reasoning_tokens), 0)::bigint AS reasoning_tokens,
                       sum(p.cost_usd) AS cost_usd,
                       coalesce(sum(p.unpriced_tokens), 0)::bigint AS unpriced_tokens
                FROM provider_calls p WHERE p.trace_id = i.trace_id AND p.owner_span_id = i.span_id AND p.tenant = i.tenant) r
            LEFT JOIN LATERAL (
                SELECT * FROM feedback latest
                WHERE latest.invocation_trace_id = i.trace_id AND latest.invocation_span_id = i.span_id
                  AND latest.tenant = i.tenant
                ORDER BY latest.received_at DESC LIMIT 1) f ON true
            {filter.Where}
            ORDER BY i.start_time, i.trace_id, i.span_id, i.tenant
            {filter.Limit}
            """;
        const int rollUp = Columns.InvocationCount;
        const int feedbackAt = rollUp + 8;
        await foreach (var reader in ReadAsync(sql, filter, cancellationToken).ConfigureAwait(false))
        {
            var invocation = RecordReader.Invocation(reader, 0, Time);
            var feedback = reader.IsDBNull(feedbackAt) ? null : RecordReader.Feedback(reader, feedbackAt, Time);
            var tokens = new TokenCounts(reader.GetInt64(rollUp + 1), reader.GetInt64(rollUp + 2),
                reader.GetInt64(rollUp + 3), reader.GetInt64(rollUp + 4), reader.GetInt64(rollUp + 5));
            yield return RecordReader.RollUp(invocation, reader.GetInt64(rollUp), tokens,
                RecordReader.Real(reader, rollUp + 6), reader.GetInt64(rollUp + 7), feedback);
        }
    }

    public async IAsyncEnumerable<ProviderCall> ReadProviderCallsAsync(InvocationQuery query,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var filter = Filter(query, "", "start_time");
        var sql = $"SELECT {Columns.ProviderCall} FROM provider_calls {filter.Where} ORDER BY start_time, trace_id, span_id, tenant {filter.Limit}";
        await foreach (var reader in ReadAsync(sql, filter, cancellationToken).ConfigureAwait(false))
        {
            yield return RecordReader.ProviderCall(reader, 0, Time);
        }
    }

    public async IAsyncEnumerable<EvaluationRecord> ReadEvaluationsAsync(InvocationQuery query,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var filter = Filter(query, "", "time");
        var sql = $"SELECT {Columns.Evaluation} FROM evaluations {filter.Where} ORDER BY time, trace_id, span_id, sequence, tenant {filter.Limit}";
        await foreach (var reader in ReadAsync(sql, filter, cancellationToken).ConfigureAwait(false))
        {
            yield return RecordReader.Evaluation(reader, 0, Time);
        }
    }

    public IAsyncEnumerable<SpanLink> ReadSpanLinksAsync(CancellationToken cancellationToken) =>
        ReadSpanLinkPacksAsync("", new QueryFilter("", "", []), cancellationToken);

    /// <summary>
    /// The links of the packs <paramref name="where"/> selects, in commit order (a span's first sighting stands), each
    /// marked expired when a decision on it was stored: the decisions on those packs' links carry their seen-at times.
    /// </summary>
    private async IAsyncEnumerable<SpanLink> ReadSpanLinkPacksAsync(string where, QueryFilter filter,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var packs = new List<(DateTimeOffset SeenAt, byte[] Pack)>();
        await foreach (var reader in ReadAsync($"SELECT seen_at, links FROM span_link_packs {where} ORDER BY commit_position, seen_at",
                           filter, cancellationToken).ConfigureAwait(false))
        {
            packs.Add((Time(reader, 0), reader.GetFieldValue<byte[]>(1)));
        }
        if (packs.Count == 0)
        {
            yield break;
        }

        var expired = new HashSet<(string, string, string)>();
        await foreach (var reader in ReadAsync("SELECT tenant, trace_id, span_id FROM span_link_expiries WHERE seen_at >= $1 AND seen_at <= $2",
                           new QueryFilter("", "",
                           [
                               new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = packs.Min(p => p.SeenAt).UtcDateTime },
                               new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = packs.Max(p => p.SeenAt).UtcDateTime },
                           ]), cancellationToken).ConfigureAwait(false))
        {
            expired.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        }

        var links = new SpanLinkPack.Reader(expired);
        foreach (var (seenAt, pack) in packs)
        {
            foreach (var link in links.Read(pack, seenAt))
            {
                yield return link;
            }
        }
    }

    public async IAsyncEnumerable<ToolCall> ReadToolCallsAsync(InvocationQuery query,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var filter = Filter(query, "", "start_time");
        var sql = $"SELECT {Columns.ToolCall} FROM tool_calls {filter.Where} ORDER BY start_time, trace_id, span_id, tenant {filter.Limit}";
        await foreach (var reader in ReadAsync(sql, filter, cancellationToken).ConfigureAwait(false))
        {
            yield return RecordReader.ToolCall(reader, 0, Time);
        }
    }

    public async Task<long> DeleteOlderThanAsync(DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        long deleted = 0;
        foreach (var sql in (string[])[
                     // The calls deleted leave the summary of their owner, which may stay (a call that started before
                     // its invocation); the count of the deleted calls is the statement's answer.
                     $"""
                     WITH gone AS (
                         DELETE FROM provider_calls WHERE start_time < $1
                         RETURNING tenant, trace_id, owner_span_id, -1 AS n, input_tokens + output_tokens AS tokens,
                             unpriced_tokens, attempt, fallback_from),
                     left_owners AS ({AddToOwners("gone", "owner_span_id", "n")} RETURNING 1)
                     SELECT COUNT(*) FROM gone
                     """,
                     "DELETE FROM tool_calls WHERE start_time < $1",
                     "DELETE FROM evaluations WHERE time < $1",
                     "DELETE FROM invocations WHERE start_time < $1",
                     "DELETE FROM feedback WHERE received_at < $1",
                     // Resolved alerts go by their resolution time; open ones stay while they last.
                     "DELETE FROM alerts WHERE resolved_at < $1",
                 ])
        {
            await using var command = new NpgsqlCommand(sql, connection, transaction);
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = cutoff.UtcDateTime });
            deleted += sql.StartsWith("WITH", StringComparison.Ordinal)
                ? (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!
                : await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return deleted;
    }

    internal static readonly RunSql Runs = new(time => time.UtcDateTime, Time, $"""
        LEFT JOIN LATERAL (
            SELECT * FROM feedback latest
            WHERE latest.invocation_trace_id = i.trace_id AND latest.invocation_span_id = i.span_id
              AND latest.tenant = i.tenant
            ORDER BY {RunSql.LatestFeedbackOrder} LIMIT 1) f ON true
        """, "JOIN", _ => "");

    public async Task<IReadOnlyList<RunRow>> SearchRunsAsync(RunSearch search, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(search);
        return await Runs.SearchAsync(search, (sql, parameters, read) => QueryAsync(sql, parameters, read, cancellationToken))
            .ConfigureAwait(false);
    }

    public Task<TraceRecords> ReadTraceAsync(string tenant, string traceId, CancellationToken cancellationToken) =>
        Runs.ReadTraceAsync(tenant, traceId, (sql, parameters, read) => QueryAsync(sql, parameters, read, cancellationToken));

    private async Task<List<object>> QueryAsync(string sql, List<(string Name, object Value)> parameters,
        Func<DbDataReader, object> read, CancellationToken cancellationToken)
    {
        var filter = new QueryFilter("", "", parameters
            .Select(p => p.Value is string text ? new NpgsqlParameter(p.Name, NpgsqlDbType.Text) { Value = text } : new NpgsqlParameter(p.Name, p.Value))
            .ToList());
        var rows = new List<object>();
        await foreach (var reader in ReadAsync(sql, filter, cancellationToken).ConfigureAwait(false))
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    public async Task SaveAlertsAsync(IReadOnlyList<AlertRecord> alerts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alerts);
        if (alerts.Count == 0)
        {
            return;
        }
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        foreach (var alert in alerts)
        {
            await using var command = new NpgsqlCommand("""
                INSERT INTO alerts (tenant, id, agent, window_name, metric, level, value, threshold, comparison, message,
                                    recommendation, active_since, resolved_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                ON CONFLICT (tenant, id) DO UPDATE SET value = excluded.value, threshold = excluded.threshold,
                    comparison = excluded.comparison, message = excluded.message,
                    recommendation = excluded.recommendation, resolved_at = excluded.resolved_at
                """, connection, transaction);
            foreach (var text in (string[])[alert.Tenant, alert.Id, alert.Agent, alert.Window, alert.Metric, alert.Level])
            {
                command.Parameters.Add(Value(text));
            }
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Double, Value = alert.Value });
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Double, Value = alert.Threshold });
            command.Parameters.Add(Value(alert.Comparison));
            command.Parameters.Add(Value(alert.Message));
            command.Parameters.Add(Value(alert.Recommendation));
            command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = alert.ActiveSince.UtcDateTime });
            command.Parameters.Add(new NpgsqlParameter
            {
                NpgsqlDbType = NpgsqlDbType.TimestampTz,
                Value = alert.ResolvedAt is { } resolved ? resolved.UtcDateTime : DBNull.Value,
            });
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<AlertRecord> ReadAlertsAsync(AlertQuery query,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var parameters = new List<NpgsqlParameter> { Value(query.Tenant) };
        var conditions = new List<string> { "tenant = $1" };
        if (query.Open)
        {
            conditions.Add("resolved_at IS NULL");
        }
        else
        {
            conditions.Add("resolved_at IS NOT NULL");
            if (query.ResolvedSince is { } since)
            {
                parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = since.UtcDateTime });
                conditions.Add($"resolved_at >= ${parameters.Count}");
            }
        }
        foreach (var (column, value) in new[] { ("agent", query.Agent), ("metric", query.Metric), ("level", query.Level) })
        {
            if (value is not null)
            {
                parameters.Add(Value(value));
                conditions.Add($"{column} = ${parameters.Count}");
            }
        }
        parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = Math.Max(0, query.Limit) });
        var order = query.Open ? "active_since DESC, id" : "resolved_at DESC, id";
        var sql = $"SELECT {AlertColumns} FROM alerts WHERE {string.Join(" AND ", conditions)} ORDER BY {order} LIMIT ${parameters.Count}";
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

    private static AlertRecord ReadAlert(NpgsqlDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), r.GetString(5), r.GetDouble(6),
        r.GetDouble(7), r.GetString(8), r.GetString(9), r.GetString(10), Utc(r.GetFieldValue<DateTime>(11)),
        r.IsDBNull(12) ? null : Utc(r.GetFieldValue<DateTime>(12)));

    private static DateTimeOffset Utc(DateTime time) => new(DateTime.SpecifyKind(time, DateTimeKind.Utc));

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    internal static NpgsqlBatchCommand InsertInvocationsJoiningFeedback(List<AgentInvocation> rows, bool skipStored)
    {
        // Only invocations this statement really inserted (RETURNING skips conflicts) pick up pending feedback, so a
        // resent span never joins twice. One row per new invocation (its key), repeated for each feedback it joined.
        var command = new NpgsqlBatchCommand($"""
            WITH inserted AS (
                INSERT INTO invocations ({Columns.Invocation}, {CallTotals.ColumnNames})
                SELECT v.*, s.* FROM ({RowsOf("text", "text", "text", "text", "text", "text", "text", "text", "text", "text",
                    "text", "text", "text", "text", "timestamptz", "float8", "text", "text", "float8", "float8", "bigint",
                    "bigint", "bigint", "bigint", "bigint", "float8", "text", "float8")}) AS v({Columns.Invocation})
                -- The summary of the invocation's own calls, this write's (inserted by the statement before) and earlier ones.
                CROSS JOIN LATERAL ({CallSummaryOf("v")}) s
                {SkipStored(skipStored)}
                RETURNING tenant, trace_id, span_id, task_id),
            joined AS (
                UPDATE feedback f SET invocation_trace_id = i.trace_id, invocation_span_id = i.span_id,
                    joined_position = {PositionExpression}
                FROM inserted i
                WHERE f.invocation_span_id IS NULL AND f.tenant = i.tenant
                  AND ((f.span_id IS NOT NULL AND f.trace_id = i.trace_id AND f.span_id = i.span_id)
                       OR (f.span_id IS NULL AND f.task_id IS NOT NULL AND f.task_id = i.task_id))
                RETURNING {Columns.Prefixed(Columns.Feedback, "f")}, i.trace_id AS joined_trace_id, i.span_id AS joined_span_id)
            SELECT i.tenant, i.trace_id, i.span_id, {Columns.Prefixed(Columns.Feedback, "j")}
            FROM inserted i
            LEFT JOIN joined j ON j.tenant = i.tenant AND j.joined_trace_id = i.trace_id AND j.joined_span_id = i.span_id
            """);
        var p = command.Parameters;
        p.Add(Texts(rows, r => r.Tenant));
        p.Add(Texts(rows, r => r.TraceId));
        p.Add(Texts(rows, r => r.SpanId));
        p.Add(Texts(rows, r => r.ParentSpanId));
        p.Add(Texts(rows, r => r.ServiceName));
        p.Add(Texts(rows, r => r.AgentName));
        p.Add(Texts(rows, r => r.AgentId));
        p.Add(Texts(rows, r => r.AgentType));
        p.Add(Texts(rows, r => r.TaskId));
        p.Add(Texts(rows, r => r.TaskType));
        p.Add(Texts(rows, r => r.JobId));
        p.Add(Texts(rows, r => r.ConversationId));
        p.Add(Texts(rows, r => r.Experiment));
        p.Add(Texts(rows, r => r.Variant));
        p.Add(Times(rows, r => r.StartTime));
        p.Add(Array(rows, r => r.DurationSeconds));
        p.Add(Texts(rows, r => r.Outcome));
        p.Add(Texts(rows, r => r.ErrorType));
        p.Add(Array(rows, r => r.Confidence));
        p.Add(Array(rows, r => r.Quality));
        p.Add(Array(rows, r => r.Tokens.Input));
        p.Add(Array(rows, r => r.Tokens.Output));
        p.Add(Array(rows, r => r.Tokens.CacheRead));
        p.Add(Array(rows, r => r.Tokens.CacheCreation));
        p.Add(Array(rows, r => r.Tokens.Reasoning));
        p.Add(Array(rows, r => r.CostUsd));
        p.Add(Texts(rows, r => r.AttributesJson));
        p.Add(Array(rows, r => r.SampleWeight));
        return command;
    }

    internal static NpgsqlBatchCommand InsertProviderCalls(List<ProviderCall> rows, bool addToStoredOwners,
        List<AgentInvocation> invocations, bool skipStored)
    {
        var insert = $"""
            INSERT INTO provider_calls ({Columns.ProviderCallInsert})
            {RowsOf("text", "text", "text", "text", "text", "text", "text", "text", "text", "text", "text", "timestamptz",
                "float8", "bigint", "bigint", "bigint", "bigint", "bigint", "float8", "bigint", "int", "text", "text", "text",
                "float8")}
            {SkipStored(skipStored)}
            """;
        // New calls of invocations stored before this statement join their summary (one update per owner), except
        // those of the batch's own invocations ($26-$28): the next statement's probe counts them where it inserts the
        // invocation, and the write adds them where it does not (AddToInvocationsNotInserted). Without calls of other
        // owners, a plain insert.
        var command = new NpgsqlBatchCommand(addToStoredOwners
            ? $"""
              WITH inserted AS (
                  {insert}
                  RETURNING tenant, trace_id, span_id, owner_span_id, 1 AS n, input_tokens + output_tokens AS tokens,
                      unpriced_tokens, attempt, fallback_from),
              others AS (
                  SELECT * FROM inserted c WHERE NOT EXISTS (
                      SELECT 1 FROM unnest($26::text[], $27::text[], $28::text[]) AS b(tenant, trace_id, span_id)
                      WHERE b.tenant = c.tenant AND b.trace_id = c.trace_id AND b.span_id = c.owner_span_id)),
              added AS ({AddToOwners("others", "owner_span_id", "n")} RETURNING 1)
              SELECT tenant, trace_id, span_id FROM inserted
              """
            : $"""
              {insert}
              RETURNING tenant, trace_id, span_id
              """);
        var p = command.Parameters;
        p.Add(Texts(rows, r => r.Tenant));
        p.Add(Texts(rows, r => r.TraceId));
        p.Add(Texts(rows, r => r.SpanId));
        p.Add(Texts(rows, r => r.ParentSpanId));
        p.Add(Texts(rows, r => r.InvocationSpanId));
        p.Add(Texts(rows, r => r.InvocationSpanId ?? r.ParentSpanId));
        p.Add(Texts(rows, r => r.AgentName));
        p.Add(Texts(rows, r => r.Operation));
        p.Add(Texts(rows, r => r.Provider));
        p.Add(Texts(rows, r => r.RequestModel));
        p.Add(Texts(rows, r => r.ResponseModel));
        p.Add(Times(rows, r => r.StartTime));
        p.Add(Array(rows, r => r.DurationSeconds));
        p.Add(Array(rows, r => r.Tokens.Input));
        p.Add(Array(rows, r => r.Tokens.Output));
        p.Add(Array(rows, r => r.Tokens.CacheRead));
        p.Add(Array(rows, r => r.Tokens.CacheCreation));
        p.Add(Array(rows, r => r.Tokens.Reasoning));
        p.Add(Array(rows, r => r.CostUsd));
        p.Add(Array(rows, r => r.UnpricedTokens));
        p.Add(Array(rows, r => r.Attempt));
        p.Add(Texts(rows, r => r.FallbackFrom));
        p.Add(Texts(rows, r => r.FallbackReason));
        p.Add(Texts(rows, r => r.ErrorType));
        p.Add(Array(rows, r => r.SampleWeight));
        if (addToStoredOwners)
        {
            p.Add(Texts(invocations, i => i.Tenant));
            p.Add(Texts(invocations, i => i.TraceId));
            p.Add(Texts(invocations, i => i.SpanId));
        }

        return command;
    }

    internal static NpgsqlBatchCommand InsertToolCalls(List<ToolCall> rows, bool skipStored)
    {
        var command = new NpgsqlBatchCommand($"""
            INSERT INTO tool_calls ({Columns.ToolCall})
            {RowsOf("text", "text", "text", "text", "text", "text", "text", "text", "timestamptz", "float8", "text", "float8")}
            {SkipStored(skipStored)}
            RETURNING tenant, trace_id, span_id
            """);
        var p = command.Parameters;
        p.Add(Texts(rows, r => r.Tenant));
        p.Add(Texts(rows, r => r.TraceId));
        p.Add(Texts(rows, r => r.SpanId));
        p.Add(Texts(rows, r => r.ParentSpanId));
        p.Add(Texts(rows, r => r.InvocationSpanId));
        p.Add(Texts(rows, r => r.AgentName));
        p.Add(Texts(rows, r => r.ToolName));
        p.Add(Texts(rows, r => r.ToolCallId));
        p.Add(Times(rows, r => r.StartTime));
        p.Add(Array(rows, r => r.DurationSeconds));
        p.Add(Texts(rows, r => r.ErrorType));
        p.Add(Array(rows, r => r.SampleWeight));
        return command;
    }

    internal static NpgsqlBatchCommand InsertEvaluations(List<EvaluationRecord> rows, bool skipStored)
    {
        var command = new NpgsqlBatchCommand($"""
            INSERT INTO evaluations ({Columns.Evaluation})
            {RowsOf("text", "text", "text", "int", "text", "text", "float8", "text", "timestamptz", "float8")}
            {SkipStored(skipStored)}
            RETURNING tenant, trace_id, span_id, sequence
            """);
        var p = command.Parameters;
        p.Add(Texts(rows, r => r.Tenant));
        p.Add(Texts(rows, r => r.TraceId));
        p.Add(Texts(rows, r => r.SpanId));
        p.Add(Array(rows, r => r.Sequence));
        p.Add(Texts(rows, r => r.AgentName));
        p.Add(Texts(rows, r => r.Name));
        p.Add(Array(rows, r => r.Score));
        p.Add(Texts(rows, r => r.Label));
        p.Add(Times(rows, r => r.Time));
        p.Add(Array(rows, r => r.SampleWeight));
        return command;
    }

    /// <summary>
    /// The rows of a record insert from its parameters $1..$n, one array per column of the given element types:
    /// <c>SELECT unnest($1::t1[]), ..., unnest($n::tn[])</c>. The arrays are walked in lockstep as the rows are read (a
    /// ProjectSet); <c>SELECT * FROM unnest($1, ..., $n)</c>, the same rows, is a function scan that first stores every
    /// array's elements in a tuple store of its own and then reads them back to zip them, per element and per column
    /// (docs/collector/ingest-performance.md, "PostgreSQL toward 30 000"). The arrays of a write are all as long as its
    /// records, so the two forms give the same rows in the same order.
    /// </summary>
    internal static string RowsOf(params string[] types) =>
        "SELECT " + string.Join(", ", types.Select((type, index) => $"unnest(${index + 1}::{type}[])"));

    /// <summary>The record inserts' conflict clause: none on the first attempt of a write, DO NOTHING on its redo.</summary>
    private static string SkipStored(bool skipStored) => skipStored ? "ON CONFLICT DO NOTHING" : "";

    private static async Task ReadNewInvocationsAsync(NpgsqlDataReader reader, List<AgentInvocation> rows,
        Action<int, bool> note, NewRecords stored, CancellationToken cancellationToken)
    {
        var inserted = new HashSet<(string, string, string)>();
        Dictionary<(string, string, string), AgentInvocation>? byKey = null;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var key = SpanKey(reader);
            inserted.Add(key);
            if (!reader.IsDBNull(3))
            {
                // A batch may carry the same span twice (a client's retry merged into one request): its first counts.
                if (byKey is null)
                {
                    byKey = [];
                    foreach (var invocation in rows)
                    {
                        byKey.TryAdd(SpanKey(invocation), invocation);
                    }
                }

                stored.Joined(new FeedbackJoin(byKey[key], RecordReader.Feedback(reader, 3, Time)));
            }
        }

        MarkNew(rows, inserted, SpanKey, note);
    }

    private static async Task MarkNewAsync<T, TKey>(NpgsqlDataReader reader, List<T> rows, Func<T, TKey> keyOf,
        Func<DbDataReader, TKey> readKey, Action<int, bool> note, CancellationToken cancellationToken)
        where TKey : notnull
    {
        var inserted = new HashSet<TKey>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            inserted.Add(readKey(reader));
        }

        MarkNew(rows, inserted, keyOf, note);
    }

    private static void MarkNew<T, TKey>(List<T> rows, HashSet<TKey> inserted, Func<T, TKey> keyOf, Action<int, bool> note)
        where TKey : notnull
    {
        if (inserted.Count == rows.Count)
        {
            // As many keys stored as records written: every record was new and distinct, nothing to leave out.
            return;
        }

        // Removing the key on its first match leaves a repeat within the batch unmatched, as the database did.
        for (var index = 0; index < rows.Count; index++)
        {
            note(index, inserted.Remove(keyOf(rows[index])));
        }
    }

    // Keys as the database holds them (see WithoutNul), so that they match what RETURNING gives back. The tenant is
    // part of every record's identity: the same ids sent by two tenants are two records.
    private static (string, string, string) SpanKey(AgentInvocation r) =>
        (WithoutNul(r.Tenant)!, WithoutNul(r.TraceId)!, WithoutNul(r.SpanId)!);

    private static (string, string, string) SpanKey(ProviderCall r) =>
        (WithoutNul(r.Tenant)!, WithoutNul(r.TraceId)!, WithoutNul(r.SpanId)!);

    private static (string, string, string) SpanKey(ToolCall r) =>
        (WithoutNul(r.Tenant)!, WithoutNul(r.TraceId)!, WithoutNul(r.SpanId)!);

    private static (string, string, string) SpanKey(DbDataReader reader) =>
        (reader.GetString(0), reader.GetString(1), reader.GetString(2));

    private static (string, string, string, int) EvaluationKey(EvaluationRecord r) =>
        (WithoutNul(r.Tenant)!, WithoutNul(r.TraceId)!, WithoutNul(r.SpanId)!, r.Sequence);

    private static (string, string, string, int) EvaluationKey(DbDataReader reader) =>
        (reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3));

    // PostgreSQL text cannot hold U+0000 (SQLite can); one such character would reject the whole batch, so it goes.
    private static NpgsqlParameter<string?[]> Texts<T>(List<T> rows, Func<T, string?> select) => new()
    {
        TypedValue = rows.Select(row => WithoutNul(select(row))).ToArray(),
    };

    private static string? WithoutNul(string? text) =>
        text is not null && text.Contains('\0', StringComparison.Ordinal) ? text.Replace("\0", "", StringComparison.Ordinal) : text;

    private static NpgsqlParameter<DateTime[]> Times<T>(List<T> rows, Func<T, DateTimeOffset> select) => new()
    {
        TypedValue = rows.Select(row => select(row).UtcDateTime).ToArray(),
    };

    private static NpgsqlParameter<TValue[]> Array<T, TValue>(List<T> rows, Func<T, TValue> select) => new()
    {
        TypedValue = rows.Select(select).ToArray(),
    };

    private static NpgsqlParameter Value(string? value) =>
        new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value };

    /// <summary>The five summary columns counted from the stored calls owned by the invocation row <paramref name="row"/>.</summary>
    private static string CallSummaryOf(string row) => $"""
        SELECT COUNT(*), COALESCE(SUM(p.input_tokens + p.output_tokens), 0), COALESCE(SUM(p.unpriced_tokens), 0),
               COUNT(*) FILTER (WHERE p.attempt > 1), COUNT(*) FILTER (WHERE p.fallback_from IS NOT NULL)
        FROM provider_calls p
        WHERE p.tenant = {row}.tenant AND p.trace_id = {row}.trace_id AND p.owner_span_id = {row}.span_id
        """;

    /// <summary>
    /// An UPDATE that adds rows of calls (<paramref name="source"/>: tenant, trace_id, the owner column, a sign
    /// column <paramref name="sign"/> of 1 or -1, tokens, unpriced_tokens, attempt, fallback_from) to the summary
    /// of their stored owner invocations, one row per owner.
    /// </summary>
    private static string AddToOwners(string source, string owner, string sign) => $"""
        UPDATE invocations i SET call_count = i.call_count + d.calls, call_tokens = i.call_tokens + d.tokens,
            call_unpriced_tokens = i.call_unpriced_tokens + d.unpriced, call_retries = i.call_retries + d.retries,
            call_fallbacks = i.call_fallbacks + d.fallbacks
        FROM (SELECT tenant, trace_id, {owner} AS owner, SUM({sign}) AS calls, SUM({sign} * tokens) AS tokens,
                     SUM({sign} * unpriced_tokens) AS unpriced, COALESCE(SUM({sign}) FILTER (WHERE attempt > 1), 0) AS retries,
                     COALESCE(SUM({sign}) FILTER (WHERE fallback_from IS NOT NULL), 0) AS fallbacks
              FROM {source} WHERE {owner} IS NOT NULL
              GROUP BY tenant, trace_id, {owner}) d
        WHERE i.tenant = d.tenant AND i.trace_id = d.trace_id AND i.span_id = d.owner
        """;

    /// <summary>
    /// Splits a write into at most <paramref name="connections"/> parts by the call summary's stripe of each trace
    /// (<see cref="Stripe"/>): every record, link, attribution update and expiry mark of a trace goes into the same part,
    /// so the parts lock disjoint stripes and touch disjoint rows, and each part is a write of whole traces, like a
    /// replica's. The prune goes with the first part. Small writes (fewer than <paramref name="minRecordsPerPart"/> records a
    /// part) stay whole: another transaction would cost more than it saves.
    /// </summary>
    internal static List<IngestBatch> SplitByStripe(IngestBatch batch, int connections, int minRecordsPerPart)
    {
        var count = Math.Min(connections, Math.Max(1, batch.Count / minRecordsPerPart));
        if (count <= 1)
        {
            return [batch];
        }

        var parts = new IngestBatch[count];
        for (var index = 0; index < count; index++)
        {
            parts[index] = new IngestBatch();
        }

        RouteByTrace(batch.Invocations, parts, p => p.Invocations, i => (i.Tenant, i.TraceId));
        RouteByTrace(batch.ProviderCalls, parts, p => p.ProviderCalls, c => (c.Tenant, c.TraceId));
        RouteByTrace(batch.ToolCalls, parts, p => p.ToolCalls, t => (t.Tenant, t.TraceId));
        RouteByTrace(batch.Evaluations, parts, p => p.Evaluations, e => (e.Tenant, e.TraceId));
        RouteByTrace(batch.SpanLinks, parts, p => p.SpanLinks, l => (l.Tenant, l.TraceId));
        RouteByTrace(batch.Attributions, parts, p => p.Attributions, u => (u.Tenant, u.TraceId));
        RouteByTrace(batch.ExpiredSpans, parts, p => p.ExpiredSpans, x => (x.Tenant, x.TraceId));
        parts[0].PruneSpanLinksBefore = batch.PruneSpanLinksBefore;
        return [.. parts.Where(part => part.HasWork)];
    }

    /// <summary>
    /// Appends each of <paramref name="items"/> to the list <paramref name="listOf"/> picks in the part of its trace's
    /// stripe, in the order given: one rule for every kind of thing a write carries, so that a trace's records, links,
    /// attribution updates and expiry marks always land in the same part.
    /// </summary>
    private static void RouteByTrace<T>(List<T> items, IngestBatch[] parts, Func<IngestBatch, List<T>> listOf,
        Func<T, (string Tenant, string TraceId)> traceOf)
    {
        foreach (var item in items)
        {
            var (tenant, traceId) = traceOf(item);
            listOf(parts[Stripe(tenant, traceId) % parts.Length]).Add(item);
        }
    }

    // Advisory lock class of the call summary's stripes (pg_advisory_xact_lock(int, int)), "RUNS".
    private const int SummaryLockClass = 0x5255_4E53;
    private const int SummaryLockStripes = 1024;

    /// <summary>
    /// Two writes of one trace in two transactions could each miss the other's uncommitted rows: an invocation's probe
    /// the calls of the other write, and those calls' update the invocation. A write therefore locks the trace's stripe
    /// shared for each of its invocations, and exclusively for each trace where it adds to an invocation it did not
    /// write (calls whose owner is not among its invocations, attribution): whichever commits second then sees the
    /// first. Invocation writers never wait for each other; stripes are taken in one order, so writers never deadlock.
    /// </summary>
    private static (NpgsqlBatchCommand? Locks, bool CallsOwnedHere) SummaryLocks(IngestBatch batch)
    {
        if (batch.Invocations.Count == 0 && batch.ProviderCalls.Count == 0 && batch.Attributions.Count == 0)
        {
            return (null, true);
        }

        var own = new HashSet<(string, string, string)>();
        var modes = new SortedDictionary<int, bool>();
        foreach (var invocation in batch.Invocations)
        {
            own.Add((invocation.Tenant, invocation.TraceId, invocation.SpanId));
            modes.TryAdd(Stripe(invocation.Tenant, invocation.TraceId), false);
        }

        var callsOwnedHere = true;
        foreach (var call in batch.ProviderCalls)
        {
            if (CallTotals.OwnerOf(call) is { } owner && !own.Contains(owner))
            {
                modes[Stripe(call.Tenant, call.TraceId)] = true;
                callsOwnedHere = false;
            }
        }

        foreach (var attribution in batch.Attributions)
        {
            modes[Stripe(attribution.Tenant, attribution.TraceId)] = true;
        }

        if (modes.Count == 0)
        {
            return (null, callsOwnedHere);
        }

        // Stripes in ascending order (the array's, which unnest keeps). Only shared ones, the common case: one plain call
        // per stripe.
        var exclusive = modes.ContainsValue(true);
        var command = new NpgsqlBatchCommand(exclusive
            ? $"""
              SELECT CASE WHEN s.exclusive THEN (SELECT 1 FROM pg_advisory_xact_lock({SummaryLockClass}, s.stripe))
                          ELSE (SELECT 1 FROM pg_advisory_xact_lock_shared({SummaryLockClass}, s.stripe)) END
              FROM unnest($1::int[], $2::bool[]) WITH ORDINALITY AS s(stripe, exclusive, n)
              ORDER BY s.n
              """
            : $"SELECT pg_advisory_xact_lock_shared({SummaryLockClass}, s) FROM unnest($1::int[]) AS s");
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = modes.Keys.ToArray() });
        if (exclusive)
        {
            command.Parameters.Add(new NpgsqlParameter<bool[]> { TypedValue = modes.Values.ToArray() });
        }

        return (command, callsOwnedHere);
    }

    private static int Stripe(string tenant, string traceId)
    {
        // FNV-1a over both ids: stable across processes (string.GetHashCode is randomised per process).
        var hash = 2166136261u;
        foreach (var text in (ReadOnlySpan<string>)[tenant, "\0", traceId])
        {
            foreach (var c in text)
            {
                hash = (hash ^ c) * 16777619u;
            }
        }

        return (int)(hash % SummaryLockStripes);
    }

    private static async Task DrainAsync(NpgsqlDataReader reader)
    {
        while (await reader.ReadAsync().ConfigureAwait(false))
        {
        }
    }

    private static async Task<AgentInvocation?> SelectInvocationAsync(NpgsqlConnection connection,
        NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken, params string?[] values)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var value in values)
        {
            command.Parameters.Add(Value(value));
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
            ? RecordReader.Invocation(reader, 0, Time)
            : null;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private async IAsyncEnumerable<NpgsqlDataReader> ReadAsync(string sql, QueryFilter filter,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in filter.Parameters)
        {
            command.Parameters.Add(parameter);
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return reader;
        }
    }

    private static QueryFilter Filter(InvocationQuery query, string alias, string timeColumn)
    {
        var conditions = new List<string>();
        var parameters = new List<NpgsqlParameter>();
        if (query.Tenant is not null)
        {
            parameters.Add(Value(query.Tenant));
            conditions.Add($"{alias}tenant = ${parameters.Count}");
        }

        if (query.AgentName is not null)
        {
            parameters.Add(Value(query.AgentName));
            conditions.Add($"{alias}agent_name = ${parameters.Count}");
        }

        if (query.Since is { } since)
        {
            parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = since.UtcDateTime });
            conditions.Add($"{alias}{timeColumn} >= ${parameters.Count}");
        }

        if (query.Until is { } until)
        {
            parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = until.UtcDateTime });
            conditions.Add($"{alias}{timeColumn} < ${parameters.Count}");
        }

        var limit = "";
        if (query.Limit is { } max)
        {
            parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = Math.Max(0, max) });
            limit = $"LIMIT ${parameters.Count}";
        }

        var where = conditions.Count == 0 ? "" : "WHERE " + string.Join(" AND ", conditions);
        return new QueryFilter(where, limit, parameters);
    }

    private sealed record QueryFilter(string Where, string Limit, List<NpgsqlParameter> Parameters);
}

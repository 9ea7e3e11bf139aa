using System.Runtime.CompilerServices;
using Npgsql;
using NpgsqlTypes;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Storage.Postgres;

// The shared-store side of the PostgreSQL store (docs/collector/scale-out.md): commit positions are PostgreSQL's 64-bit
// transaction ids (xid8, which never wrap), the watermark is the oldest transaction still open in the snapshot's sense
// (pg_snapshot_xmin), and the leadership is a session-level advisory lock on a connection of its own.
internal sealed partial class PostgresExecutionStore
{
    private const long DerivationLeaderLock = 0x5045_5246_4C45_4144; // "PERFLEAD"

    // What a row's commit_position (and a join's joined_position) default to: the id of the transaction writing it.
    private const string PositionExpression = "pg_current_xact_id()::text::bigint";
    private const string CurrentPosition = "SELECT " + PositionExpression;

    public async Task<IDerivationLease?> TryAcquireDerivationLeadershipAsync(CancellationToken cancellationToken)
    {
        // Not from the pool: a pooled connection returned to the pool keeps its session, and the lock with it. The
        // server-side keepalives make the database notice a holder whose host vanished without closing the socket.
        var builder = new NpgsqlConnectionStringBuilder(_connectionString) { Pooling = false, KeepAlive = 5 };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand($"""
                SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3;
                SET application_name = 'perfotel-derivation-leader';
                SELECT pg_try_advisory_lock({DerivationLeaderLock});
                """, connection);
            if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true)
            {
                return new Lease(connection);
            }
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        await connection.DisposeAsync().ConfigureAwait(false);
        return null;
    }

    public async Task<long> CommittedWatermarkAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint", connection);
        return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    public IAsyncEnumerable<IngestBatch> ReadCommittedAsync(long from, long to, IReadOnlySet<long> skip, int batchRecords,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(skip);
        if (to <= from)
        {
            return AsyncEnumerable.Empty<IngestBatch>();
        }

        var skipped = skip.Where(p => p >= from && p < to).ToArray();
        const string range = "commit_position >= $1 AND commit_position < $2 AND NOT (commit_position = ANY($3))";
        IAsyncEnumerable<T> Read<T>(string sql, Func<NpgsqlDataReader, T> read) =>
            ReadRangeAsync(sql, from, to, skipped, cancellationToken).Select(read);
        // Every table of the range at once, merged by time as the start-up replay does (RecordMerge). A join belongs to
        // the transaction that made it: the feedback's own (its invocation was stored) or the invocation's (the
        // feedback was waiting for it).
        return RecordMerge.BatchesAsync(batchRecords,
            RecordStream.Of(Read($"SELECT {Columns.ProviderCall} FROM provider_calls WHERE {range} ORDER BY start_time, trace_id, span_id, tenant",
                r => RecordReader.ProviderCall(r, 0, Time)), c => c.StartTime, (b, c) => b.ProviderCalls.Add(c)),
            RecordStream.Of(Read($"SELECT {Columns.ToolCall} FROM tool_calls WHERE {range} ORDER BY start_time, trace_id, span_id, tenant",
                r => RecordReader.ToolCall(r, 0, Time)), t => t.StartTime, (b, t) => b.ToolCalls.Add(t)),
            RecordStream.Of(Read($"SELECT {Columns.Invocation} FROM invocations WHERE {range} ORDER BY start_time, trace_id, span_id, tenant",
                r => RecordReader.Invocation(r, 0, Time)), i => i.StartTime, (b, i) => b.Invocations.Add(i)),
            RecordStream.Of(Read($"""
                    SELECT {Columns.Prefixed(Columns.Invocation, "i")}, {Columns.Prefixed(Columns.Feedback, "f")}
                    FROM feedback f
                    JOIN invocations i ON i.tenant = f.tenant AND i.trace_id = f.invocation_trace_id
                        AND i.span_id = f.invocation_span_id
                    WHERE f.joined_position >= $1 AND f.joined_position < $2 AND NOT (f.joined_position = ANY($3))
                    ORDER BY f.received_at, f.tenant, f.feedback_id
                    """, r => new FeedbackJoin(RecordReader.Invocation(r, 0, Time), RecordReader.Feedback(r, Columns.InvocationCount, Time))),
                j => j.Feedback.ReceivedAt, (b, j) => b.JoinedFeedback.Add(j)),
            RecordStream.Of(Read($"SELECT {Columns.Evaluation} FROM evaluations WHERE {range} ORDER BY time, trace_id, span_id, sequence, tenant",
                r => RecordReader.Evaluation(r, 0, Time)), e => e.Time, (b, e) => b.Evaluations.Add(e)));
    }

    public IAsyncEnumerable<SpanLink> ReadCommittedSpanLinksAsync(long from, long to, IReadOnlySet<long> skip,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(skip);
        if (to <= from)
        {
            return AsyncEnumerable.Empty<SpanLink>();
        }

        return ReadSpanLinkPacksAsync("WHERE commit_position >= $1 AND commit_position < $2 AND NOT (commit_position = ANY($3))",
            RangeFilter(from, to, [.. skip.Where(p => p >= from && p < to)]), cancellationToken);
    }

    private IAsyncEnumerable<NpgsqlDataReader> ReadRangeAsync(string sql, long from, long to, long[] skip,
        CancellationToken cancellationToken) =>
        ReadAsync(sql, RangeFilter(from, to, skip), cancellationToken);

    private static QueryFilter RangeFilter(long from, long to, long[] skip) => new("", "",
    [
        new NpgsqlParameter<long> { TypedValue = from },
        new NpgsqlParameter<long> { TypedValue = to },
        new NpgsqlParameter<long[]> { TypedValue = skip, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint },
    ]);

    private sealed class Lease(NpgsqlConnection connection) : IDerivationLease
    {
        public async Task<bool> IsHeldAsync(CancellationToken cancellationToken)
        {
            try
            {
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (NpgsqlException)
            {
                return false;
            }
            catch (InvalidOperationException)
            {
                // The connection is already broken or closed.
                return false;
            }
        }

        // Closing the session releases the lock: a non-pooled connection really closes.
        public ValueTask DisposeAsync() => connection.DisposeAsync();
    }
}

using System.Data.Common;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Storage;

/// <summary>
/// Migration 9 on both stores: the <c>span_links</c> rows (one per span) become <c>span_link_packs</c> rows, one per
/// group of links stored together (same <c>seen_at</c>, and on PostgreSQL the same <c>commit_position</c>), packed by
/// <see cref="SpanLinkPack"/> as the writer packs them; then <c>span_links</c> is dropped. Runs in the migration's
/// transaction. The groups are packed while the rows are read (the packs are much smaller than the rows) and inserted
/// once the read is done, since a PostgreSQL connection runs one command at a time.
/// </summary>
internal static class SpanLinkMigration
{
    /// <summary>
    /// Reads the old rows with <paramref name="select"/>, ordered by group: the group's columns first (as
    /// <paramref name="groupOf"/> reads them), then tenant, trace id, span id, parent span id and agent from column
    /// <paramref name="linkColumn"/> on. Writes each group's pack with <paramref name="insert"/>, whose parameters
    /// <paramref name="bind"/> sets (seen at, position, pack); then drops <c>span_links</c>, all in
    /// <paramref name="transaction"/> on <paramref name="connection"/> (<paramref name="cancellationToken"/>).
    /// </summary>
    public static async Task PackAsync(DbConnection connection, DbTransaction transaction, string select, int linkColumn,
        Func<DbDataReader, (DateTimeOffset SeenAt, long Position)> groupOf, string insert,
        Action<DbCommand, DateTimeOffset, long, byte[]> bind, CancellationToken cancellationToken)
    {
        var packs = new List<(DateTimeOffset SeenAt, long Position, byte[] Pack)>();
        var links = new List<SpanLink>();
        (DateTimeOffset SeenAt, long Position) current = default;
        await using (var read = connection.CreateCommand())
        {
            read.Transaction = transaction;
            read.CommandText = select;
            await using var reader = await read.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var group = groupOf(reader);
                if (links.Count > 0 && group != current)
                {
                    packs.Add((current.SeenAt, current.Position, SpanLinkPack.Encode(links)));
                    links.Clear();
                }
                current = group;
                links.Add(new SpanLink
                {
                    Tenant = reader.GetString(linkColumn),
                    TraceId = reader.GetString(linkColumn + 1),
                    SpanId = reader.GetString(linkColumn + 2),
                    ParentSpanId = reader.IsDBNull(linkColumn + 3) ? null : reader.GetString(linkColumn + 3),
                    InvocationAgent = reader.IsDBNull(linkColumn + 4) ? null : reader.GetString(linkColumn + 4),
                });
            }
        }
        if (links.Count > 0)
        {
            packs.Add((current.SeenAt, current.Position, SpanLinkPack.Encode(links)));
        }

        await using (var write = connection.CreateCommand())
        {
            write.Transaction = transaction;
            write.CommandText = insert;
            foreach (var (seenAt, position, pack) in packs)
            {
                bind(write, seenAt, position, pack);
                await write.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        await using var drop = connection.CreateCommand();
        drop.Transaction = transaction;
        drop.CommandText = "DROP TABLE span_links";
        await drop.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}

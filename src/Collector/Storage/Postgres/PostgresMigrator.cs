using Microsoft.Extensions.Logging;
using Npgsql;

namespace PerfOtel.Collector.Storage.Postgres;

/// <summary>
/// Applies pending migrations in version order, each in its own transaction with its bookkeeping row. Several
/// collector replicas may start at once against one database: a session advisory lock lets one migrate at a time.
/// </summary>
internal sealed class PostgresMigrator(NpgsqlConnection connection, ILogger logger)
{
    private const long MigrationLock = 0x5045_5246_4D49_4752; // "PERFMIGR"

    public async Task ApplyAsync(IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        await ExecuteAsync($"SELECT pg_advisory_lock({MigrationLock})", null, cancellationToken).ConfigureAwait(false);
        try
        {
            await ExecuteAsync("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY,
                    description text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """, null, cancellationToken).ConfigureAwait(false);

            var applied = new HashSet<int>();
            await using (var command = new NpgsqlCommand("SELECT version FROM schema_migrations", connection))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    applied.Add(reader.GetInt32(0));
                }
            }

            var newest = migrations.Count == 0 ? 0 : migrations.Max(m => m.Version);
            if (applied.Count > 0 && applied.Max() > newest)
            {
                throw new InvalidOperationException(
                    $"The database is at schema version {applied.Max()}, newer than this collector knows ({newest}); " +
                    "run a newer collector or point Storage:ConnectionString elsewhere.");
            }

            foreach (var migration in migrations.OrderBy(m => m.Version).Where(m => !applied.Contains(m.Version)))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await ExecuteAsync(migration.Sql, transaction, cancellationToken).ConfigureAwait(false);
                if (migration.Then is { } then)
                {
                    await then(connection, transaction, cancellationToken).ConfigureAwait(false);
                }
                await using (var record = new NpgsqlCommand(
                                 "INSERT INTO schema_migrations (version, description) VALUES ($1, $2)", connection, transaction))
                {
                    record.Parameters.Add(new NpgsqlParameter<int> { TypedValue = migration.Version });
                    record.Parameters.Add(new NpgsqlParameter<string> { TypedValue = migration.Description });
                    await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                logger.LogInformation("PostgreSQL schema migrated to version {Version}: {Description}",
                    migration.Version, migration.Description);
            }
        }
        finally
        {
            await ExecuteAsync($"SELECT pg_advisory_unlock({MigrationLock})", null, CancellationToken.None)
                .ConfigureAwait(false);
        }
    }

    private async Task ExecuteAsync(string sql, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}

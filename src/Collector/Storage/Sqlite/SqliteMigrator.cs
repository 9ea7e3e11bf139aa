using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace PerfOtel.Collector.Storage.Sqlite;

/// <summary>Applies pending migrations in version order, each in its own transaction with its bookkeeping row.</summary>
internal sealed class SqliteMigrator(SqliteConnection connection, ILogger logger)
{
    public void Apply(IReadOnlyList<Migration> migrations)
    {
        Execute("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version INTEGER PRIMARY KEY,
                description TEXT NOT NULL,
                applied_at TEXT NOT NULL)
            """);
        var applied = new HashSet<int>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT version FROM schema_migrations";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                applied.Add(reader.GetInt32(0));
            }
        }

        var newest = migrations.Count == 0 ? 0 : migrations.Max(m => m.Version);
        if (applied.Count > 0 && applied.Max() > newest)
        {
            throw new InvalidOperationException(
                $"The database is at schema version {applied.Max()}, newer than this collector knows ({newest}); " +
                "run a newer collector or point Storage:DataDirectory elsewhere.");
        }

        foreach (var migration in migrations.OrderBy(m => m.Version).Where(m => !applied.Contains(m.Version)))
        {
            using var transaction = connection.BeginTransaction();
            using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = migration.Sql;
                command.ExecuteNonQuery();
            }

            // Microsoft.Data.Sqlite runs its asynchronous methods synchronously: this completes before it returns.
            migration.Then?.Invoke(connection, transaction, CancellationToken.None).GetAwaiter().GetResult();

            using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText =
                    "INSERT INTO schema_migrations (version, description, applied_at) VALUES ($version, $description, $at)";
                command.Parameters.AddWithValue("$version", migration.Version);
                command.Parameters.AddWithValue("$description", migration.Description);
                command.Parameters.AddWithValue("$at", DateTimeOffset.UtcNow.ToString("O"));
                command.ExecuteNonQuery();
            }

            transaction.Commit();
            logger.LogInformation("SQLite schema migrated to version {Version}: {Description}", migration.Version,
                migration.Description);
        }
    }

    private void Execute(string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}

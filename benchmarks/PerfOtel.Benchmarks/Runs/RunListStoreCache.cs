using System.Globalization;
using Npgsql;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage.Postgres;
using PerfOtel.Collector.Storage.Sqlite;

namespace PerfOtel.Benchmarks.Runs;

/// <summary>
/// A run-list store filled once and reused by every <see cref="RunListBenchmarks"/> case. BenchmarkDotNet runs each
/// case in its own process, and each process runs the [GlobalSetup]; without this every case would fill its own million
/// runs (43-93 s a store on the shared machine, 10 minutes before migration 8).
/// </summary>
/// <remarks>
/// The filled store is named by its row count and its store's schema version (the newest migration number), so a
/// different count or a new migration fills a new one and never reads a stale one:
/// <list type="bullet">
/// <item>SQLite: the directory <c>$TMPDIR/perfotel-runlist-{count}-v{schema}</c>.</item>
/// <item>PostgreSQL: the database <c>perfotel_runlist_{count}_v{schema}</c> on the server of
/// <c>PERFOTEL_TEST_POSTGRES</c> (its own database is only used to create and drop it).</item>
/// </list>
/// It counts as complete only once the fill has committed every batch, the store is closed and, on PostgreSQL, the
/// statistics are gathered (<c>ANALYZE</c>): only then is the completion marker written (the file <c>filled</c> in the
/// directory; the database's comment). A case that finds the marker opens the store as it is; one that finds the
/// store without its marker (an interrupted fill) discards it and fills it again. The cases only read, so what each
/// measures does not depend on which case filled the store. Discard it with <c>run-list discard [count] [--postgres
/// connection-string]</c> (or remove the directory / drop the database). One fill at a time: BenchmarkDotNet runs its
/// cases one after the other.
/// </remarks>
public static class RunListStoreCache
{
    private const string MarkerFile = "filled";
    private const string MarkerPrefix = "perfotel run-list fill complete";

    public static int SqliteSchemaVersion => SqliteSchema.Migrations.Max(m => m.Version);

    public static int PostgresSchemaVersion => PostgresSchema.Migrations.Max(m => m.Version);

    public static string SqliteDirectory(int invocations) => Path.Combine(Path.GetTempPath(),
        string.Create(CultureInfo.InvariantCulture, $"perfotel-runlist-{invocations}-v{SqliteSchemaVersion}"));

    public static string PostgresDatabase(int invocations) =>
        string.Create(CultureInfo.InvariantCulture, $"perfotel_runlist_{invocations}_v{PostgresSchemaVersion}");

    private static string Marker(int invocations, int schema) =>
        string.Create(CultureInfo.InvariantCulture, $"{MarkerPrefix}: {invocations} invocations, schema {schema}");

    /// <summary>Opens the filled store of <paramref name="invocations"/> runs, filling it first when it is not complete.</summary>
    public static async Task<IExecutionStore> OpenFilledAsync(int invocations, string? postgres, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(log);
        return string.IsNullOrWhiteSpace(postgres)
            ? await OpenSqliteAsync(invocations, log)
            : await OpenPostgresAsync(invocations, postgres, log);
    }

    /// <summary>Removes the filled store of <paramref name="invocations"/> runs, complete or not; true when there was one.</summary>
    public static async Task<bool> DiscardAsync(int invocations, string? postgres)
    {
        if (string.IsNullOrWhiteSpace(postgres))
        {
            var directory = SqliteDirectory(invocations);
            if (!Directory.Exists(directory))
            {
                return false;
            }
            Directory.Delete(directory, recursive: true);
            return true;
        }
        await using var connection = new NpgsqlConnection(postgres);
        await connection.OpenAsync();
        var name = PostgresDatabase(invocations);
        var existed = (await DatabaseCommentAsync(connection, name)).Exists;
        await DropDatabaseAsync(connection, name);
        return existed;
    }

    private static async Task<IExecutionStore> OpenSqliteAsync(int invocations, TextWriter log)
    {
        var directory = SqliteDirectory(invocations);
        var marker = Path.Combine(directory, MarkerFile);
        var expected = Marker(invocations, SqliteSchemaVersion);
        if (File.Exists(marker) && (await File.ReadAllTextAsync(marker)).Trim() == expected)
        {
            await log.WriteLineAsync($"run-list store: reusing {directory}");
            return await OpenAsync(RunListFill.Open(directory, null));
        }
        if (Directory.Exists(directory))
        {
            await log.WriteLineAsync($"run-list store: {directory} has no completion marker; filling it again");
            Directory.Delete(directory, recursive: true);
        }
        await log.WriteLineAsync($"run-list store: filling {directory} with {invocations} invocations");
        var fill = System.Diagnostics.Stopwatch.StartNew();
        await using (var store = RunListFill.Open(directory, null))
        {
            await RunListFill.FillAsync(store, invocations);
        }
        // Closing the store checkpointed its write-ahead log: every case opens the same closed database file.
        await File.WriteAllTextAsync(marker, expected + Environment.NewLine);
        await log.WriteLineAsync($"run-list store: filled in {fill.Elapsed.TotalSeconds:0.0} s");
        return await OpenAsync(RunListFill.Open(directory, null));
    }

    private static async Task<IExecutionStore> OpenPostgresAsync(int invocations, string postgres, TextWriter log)
    {
        var name = PostgresDatabase(invocations);
        var expected = Marker(invocations, PostgresSchemaVersion);
        var target = new NpgsqlConnectionStringBuilder(postgres) { Database = name }.ConnectionString;
        await using (var server = new NpgsqlConnection(postgres))
        {
            await server.OpenAsync();
            var found = await DatabaseCommentAsync(server, name);
            if (found.Exists && found.Comment == expected)
            {
                await log.WriteLineAsync($"run-list store: reusing database {name}");
                return await OpenAsync(RunListFill.Open("", target));
            }
            if (found.Exists)
            {
                await log.WriteLineAsync($"run-list store: database {name} has no completion marker; filling it again");
                await DropDatabaseAsync(server, name);
            }
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", server);
            await create.ExecuteNonQueryAsync();
        }
        await log.WriteLineAsync($"run-list store: filling database {name} with {invocations} invocations");
        var fill = System.Diagnostics.Stopwatch.StartNew();
        await using (var store = RunListFill.Open("", target))
        {
            await RunListFill.FillAsync(store, invocations);
        }
        await RunListFill.AnalyzeAsync(target);
        await using (var server = new NpgsqlConnection(postgres))
        {
            await server.OpenAsync();
            // The comment is the completion marker: written last, after every batch and the statistics.
            await using var comment = new NpgsqlCommand($"COMMENT ON DATABASE {name} IS '{expected}'", server);
            await comment.ExecuteNonQueryAsync();
        }
        await log.WriteLineAsync($"run-list store: filled and analysed in {fill.Elapsed.TotalSeconds:0.0} s");
        return await OpenAsync(RunListFill.Open("", target));
    }

    private static async Task<IExecutionStore> OpenAsync(IExecutionStore store)
    {
        // Applies no migration: the store was filled at this schema version (its name says so).
        await store.InitializeAsync(CancellationToken.None);
        return store;
    }

    private static async Task<(bool Exists, string? Comment)> DatabaseCommentAsync(NpgsqlConnection server, string name)
    {
        await using var query = new NpgsqlCommand(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = @name", server);
        query.Parameters.AddWithValue("name", name);
        await using var reader = await query.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            return (false, null);
        }
        return (true, await reader.IsDBNullAsync(0) ? null : reader.GetString(0));
    }

    private static async Task DropDatabaseAsync(NpgsqlConnection server, string name)
    {
        NpgsqlConnection.ClearAllPools();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", server);
        await drop.ExecuteNonQueryAsync();
    }
}

namespace PerfOtel.Collector.Storage;

/// <summary>The <c>Storage</c> configuration section.</summary>
public sealed class StorageOptions
{
    public const string SectionName = "Storage";

    /// <summary><c>sqlite</c> (embedded default) or <c>postgres</c>.</summary>
    public string Provider { get; set; } = StorageProviders.Sqlite;

    /// <summary>Directory of the SQLite file (<c>perfotel.db</c>).</summary>
    public string DataDirectory { get; set; } = "./data";

    /// <summary>Npgsql connection string; required for the postgres provider.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>SQLite commit durability: <c>full</c> (survives power loss) or <c>normal</c> (survives a process crash).</summary>
    public string Durability { get; set; } = SqliteDurability.Full;

    /// <summary>
    /// SQLite page cache of the writer connection, in MiB (the readers keep SQLite's default of 2 MiB each). The cache
    /// fills as the database grows and stays resident; pages beyond it come from the operating system's file cache.
    /// </summary>
    public int SqliteCacheMiB { get; set; } = Sqlite.SqliteExecutionStore.DefaultCacheMiB;

    /// <summary>
    /// PostgreSQL only: how many connections one large write is spread over (by trace, one transaction each, all committed
    /// before any sender is answered), so that the server stores its parts on as many cores at once. 1 writes every
    /// batch in one transaction.
    /// </summary>
    public int PostgresWriteConnections { get; set; } = Postgres.PostgresExecutionStore.DefaultWriteConnections;

    /// <summary>
    /// PostgreSQL only: the fewest records a part of a spread write holds; smaller writes use fewer connections (one below
    /// twice this), since a transaction more costs a round trip and a commit of its own.
    /// </summary>
    public int PostgresWritePartMinRecords { get; set; } = Postgres.PostgresExecutionStore.DefaultMinRecordsPerPart;

    /// <summary>Days of data kept; older rows are deleted hourly. 0 keeps everything.</summary>
    public int RetentionDays { get; set; } = 30;
}

public static class StorageProviders
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";
}

public static class SqliteDurability
{
    public const string Full = "full";
    public const string Normal = "normal";
}

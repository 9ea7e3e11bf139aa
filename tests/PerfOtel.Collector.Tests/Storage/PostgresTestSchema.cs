using Npgsql;

namespace PerfOtel.Collector.Tests.Storage;

/// <summary>
/// A schema of its own in the shared test cluster (<see cref="PostgresClusterFixture"/>) for one PostgreSQL test, or
/// several: in the cluster's own database, or in a database of its own for a test that needs a database's collation.
/// <see cref="CreateAsync"/> makes it, <see cref="DisposeAsync"/> drops it with everything in it (its database too, when
/// it has one), after clearing the pooled connections that could still hold it.
/// </summary>
public sealed class PostgresTestSchema : IAsyncDisposable
{
    private readonly PostgresClusterFixture cluster;
    // The CREATE DATABASE clauses after the name when the schema has a database of its own, else null.
    private readonly string? databaseOptions;
    private bool created;

    /// <summary>A schema named <paramref name="prefix"/> and 16 random hex digits, in the cluster's database.</summary>
    public PostgresTestSchema(PostgresClusterFixture cluster, string prefix)
        : this(cluster, prefix, databaseOptions: null)
    {
    }

    private PostgresTestSchema(PostgresClusterFixture cluster, string prefix, string? databaseOptions)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        this.cluster = cluster;
        this.databaseOptions = databaseOptions;
        Name = prefix + Guid.NewGuid().ToString("N")[..16];
    }

    /// <summary>
    /// A schema as <see cref="PostgresTestSchema(PostgresClusterFixture, string)"/> names it, in a database of the same
    /// name created with <paramref name="databaseOptions"/> (what follows <c>CREATE DATABASE name</c>: a template, a
    /// locale).
    /// </summary>
    public static PostgresTestSchema InDatabaseOfItsOwn(PostgresClusterFixture cluster, string prefix, string databaseOptions)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(databaseOptions);
        return new PostgresTestSchema(cluster, prefix, databaseOptions);
    }

    /// <summary>The schema's name (and its database's, when it has one of its own).</summary>
    public string Name { get; }

    /// <summary>Connection string of the cluster's superuser with the schema first on the search path.</summary>
    public string ConnectionString
    {
        get
        {
            var builder = new NpgsqlConnectionStringBuilder(cluster.ConnectionString) { SearchPath = Name };
            if (databaseOptions is not null)
            {
                builder.Database = Name;
            }
            return builder.ToString();
        }
    }

    /// <summary>Creates the schema (and its database first, when it has one of its own).</summary>
    public async Task CreateAsync()
    {
        if (databaseOptions is not null)
        {
            await ExecuteAsync(cluster.ConnectionString, $"CREATE DATABASE {Name} {databaseOptions}");
        }
        created = true;
        await ExecuteAsync(AdminConnectionString, $"CREATE SCHEMA {Name}");
    }

    /// <summary>Drops the schema with everything in it and creates it again, empty.</summary>
    public Task RecreateAsync() => ExecuteAsync(AdminConnectionString, $"DROP SCHEMA {Name} CASCADE; CREATE SCHEMA {Name}");

    public async ValueTask DisposeAsync()
    {
        if (!created)
        {
            return;
        }
        created = false;
        NpgsqlConnection.ClearAllPools();
        await (databaseOptions is null
            ? ExecuteAsync(cluster.ConnectionString, $"DROP SCHEMA IF EXISTS {Name} CASCADE")
            : ExecuteAsync(cluster.ConnectionString, $"DROP DATABASE IF EXISTS {Name} WITH (FORCE)"));
    }

    // The superuser on the schema's database, without the search path.
    private string AdminConnectionString => databaseOptions is null
        ? cluster.ConnectionString
        : new NpgsqlConnectionStringBuilder(cluster.ConnectionString) { Database = Name }.ToString();

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}

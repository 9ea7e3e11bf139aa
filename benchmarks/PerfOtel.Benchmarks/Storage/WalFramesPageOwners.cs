using Microsoft.Data.Sqlite;

namespace PerfOtel.Benchmarks.Storage;

/// <summary>
/// The B-tree each page of a database belongs to: from SQLite's <c>dbstat</c> virtual table when this SQLite build has
/// it (<c>PRAGMA compile_options</c> lists ENABLE_DBSTAT_VTAB), otherwise by walking the B-trees in the file
/// (<see cref="SqliteBTreeWalker"/>). Either way the database's own WAL, if one is beside it, is read over the file.
/// </summary>
public sealed class WalFramesPageOwners
{
    /// <summary>A page past the database's end: written after the WAL copy was taken and gone again since (the file shrank).</summary>
    public const string NotInDatabase = "(not in the database file)";

    /// <summary>A page inside the database that no B-tree holds now: on the free list, or a pointer-map page.</summary>
    public const string InNoTree = "(in no B-tree now: free page)";

    private readonly string?[] _owners;

    private WalFramesPageOwners(string?[] owners, string source)
    {
        _owners = owners;
        Source = source;
    }

    /// <summary>How the owners were found, for the output.</summary>
    public string Source { get; }

    /// <summary>The database's size in pages.</summary>
    public uint PageCount => (uint)(_owners.Length - 1);

    public string TreeOf(uint page) =>
        page >= _owners.Length ? NotInDatabase : _owners[page] ?? InNoTree;

    /// <summary>Whether the SQLite that Microsoft.Data.Sqlite loads in this process was built with <c>dbstat</c>.</summary>
    public static bool HasDbstat()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA compile_options";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            if (reader.GetString(0) == "ENABLE_DBSTAT_VTAB")
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Reads the owners of <paramref name="databasePath"/>'s pages; <paramref name="walk"/> walks even where <c>dbstat</c> exists.</summary>
    public static WalFramesPageOwners Read(string databasePath, bool walk = false)
    {
        if (!walk && HasDbstat())
        {
            return FromDbstat(databasePath);
        }

        using var pages = new SqliteDatabasePages(databasePath);
        var why = walk ? "asked for" : "this SQLite build has no dbstat: PRAGMA compile_options lists no ENABLE_DBSTAT_VTAB";
        var wal = pages.WalFrames > 0
            ? $", with the {pages.WalFrames} committed frames of the database's own WAL over the file"
            : "";
        return new WalFramesPageOwners(SqliteBTreeWalker.OwnersOfPages(pages),
            $"the B-trees walked from sqlite_schema's root pages ({why}){wal}");
    }

    private static WalFramesPageOwners FromDbstat(string databasePath)
    {
        // Read-only: the kept database of a run is evidence, and a collector may still have it open.
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = databasePath,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        connection.Open();
        using var count = connection.CreateCommand();
        count.CommandText = "PRAGMA page_count";
        var owners = new string?[(long)count.ExecuteScalar()! + 1];
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name, pageno FROM dbstat";
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            owners[reader.GetInt64(1)] = reader.GetString(0);
        }

        return new WalFramesPageOwners(owners, "SQLite's dbstat virtual table, on a read-only connection");
    }
}

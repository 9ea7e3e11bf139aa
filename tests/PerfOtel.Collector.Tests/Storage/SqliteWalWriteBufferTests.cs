using Microsoft.Data.Sqlite;
using PerfOtel.Collector.Storage.Sqlite;

namespace PerfOtel.Collector.Tests.Storage;

/// <summary>
/// The WAL write buffer (a SQLite VFS that gathers a connection's WAL appends into one write): every connection the
/// collector opens goes through it; a commit is in the WAL file, as another process would find it after a crash, by
/// the time COMMIT returns; other connections see each commit at once; a transaction that spills frames and reads them
/// back, or rolls back, leaves the database exactly as plain writes would.
/// </summary>
[Collection(HeavyStoreCollection.Name)]
public sealed class SqliteWalWriteBufferTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "perfotel-walbuffer-" + Guid.NewGuid().ToString("N"));

    public SqliteWalWriteBufferTests()
    {
        SqliteThreading.Configure();
        Directory.CreateDirectory(_directory);
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void TheStoresConnectionsGatherTheirWalWrites_intoFewerWritesThanSQLiteMakes()
    {
        Assert.True(SqliteWalWriteBuffer.IsRegistered);
        var gathered = SqliteWalWriteBuffer.GatheredWrites;
        var flushes = SqliteWalWriteBuffer.Flushes;
        using var connection = Open("gather.db");
        Execute(connection, "CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)");
        // One transaction of about 200 pages: about 400 WAL writes (a header and a page per frame) from SQLite.
        Execute(connection, "BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) INSERT INTO t SELECT i, randomblob(3000) FROM n; COMMIT;");

        var sqliteWrites = SqliteWalWriteBuffer.GatheredWrites - gathered;
        var fileWrites = SqliteWalWriteBuffer.Flushes - flushes;
        Assert.True(sqliteWrites >= 400, $"{sqliteWrites} WAL writes gathered");
        // Other tests' connections may flush meanwhile; this transaction alone needs about 1 (it fits one buffer).
        Assert.True(fileWrites * 10 < sqliteWrites, $"{fileWrites} file writes for {sqliteWrites} WAL writes");
    }

    [Fact]
    public void EachCommit_isInTheFilesWhenCommitReturns_asAProcessKilledThenWouldLeaveThem()
    {
        using var connection = Open("crash.db");
        Execute(connection, "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)");
        for (var commit = 1; commit <= 20; commit++)
        {
            // A few rows a commit: far less than the buffer holds, so only the commit's own flush puts them in the file.
            Execute(connection, $"BEGIN; INSERT INTO t VALUES ({commit * 2}, 'a'); INSERT INTO t VALUES ({commit * 2 + 1}, 'b'); COMMIT;");

            // What the files hold now, read by the operating system as another process would after a SIGKILL:
            // the database file and the WAL, without the WAL index (SQLite rebuilds it from the WAL).
            var copy = Path.Combine(_directory, $"copy-{commit}");
            Directory.CreateDirectory(copy);
            File.Copy(Path.Combine(_directory, "crash.db"), Path.Combine(copy, "crash.db"));
            File.Copy(Path.Combine(_directory, "crash.db-wal"), Path.Combine(copy, "crash.db-wal"));
            using var recovered = new SqliteConnection($"Data Source={Path.Combine(copy, "crash.db")};Pooling=False");
            recovered.Open();
            Assert.Equal(commit * 2L, Scalar(recovered, "SELECT count(*) FROM t"));
            Assert.Equal("ok", Scalar(recovered, "PRAGMA integrity_check"));
        }
    }

    [Fact]
    public void AnotherConnection_seesEachCommitAtOnce_andCheckpointsCopyExactlyThem()
    {
        using var writer = Open("shared.db");
        Execute(writer, "CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)");
        using var other = Open("shared.db");
        var expected = 0L;
        for (var commit = 1; commit <= 30; commit++)
        {
            var rows = 1 + (commit * 37 % 300);
            Execute(writer, $"BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) INSERT INTO t (v) SELECT randomblob(500) FROM n; COMMIT;");
            expected += rows;
            Assert.Equal(expected, Scalar(other, "SELECT count(*) FROM t"));
            if (commit % 7 == 0)
            {
                // The checkpointer's connection copies the committed frames into the database file.
                Execute(other, "PRAGMA wal_checkpoint(PASSIVE)");
            }
        }
        Execute(other, "PRAGMA wal_checkpoint(TRUNCATE)");
        Assert.Equal(expected, Scalar(writer, "SELECT count(*) FROM t"));
        Assert.Equal("ok", Scalar(other, "PRAGMA integrity_check"));
    }

    [Fact]
    public void ATransactionThatSpillsPagesAndRollsBack_orCommits_leavesExactlyWhatPlainWritesLeave()
    {
        using var connection = Open("spill.db");
        // A cache of 20 pages: a large transaction writes frames before its commit and reads them back.
        Execute(connection, "PRAGMA cache_size=20; CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)");
        Execute(connection, "BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO t SELECT i, zeroblob(1000) FROM n; COMMIT;");
        Execute(connection, "BEGIN; UPDATE t SET v = randomblob(1000); DELETE FROM t WHERE k % 3 = 0; ROLLBACK;");
        Assert.Equal(2000L, Scalar(connection, "SELECT count(*) FROM t"));
        Assert.Equal(0L, Scalar(connection, "SELECT count(*) FROM t WHERE v <> zeroblob(1000)"));
        Execute(connection, "BEGIN; UPDATE t SET v = zeroblob(1200) WHERE k % 2 = 0; DELETE FROM t WHERE k % 5 = 0; COMMIT;");

        var copy = Path.Combine(_directory, "spill-copy");
        Directory.CreateDirectory(copy);
        File.Copy(Path.Combine(_directory, "spill.db"), Path.Combine(copy, "spill.db"));
        File.Copy(Path.Combine(_directory, "spill.db-wal"), Path.Combine(copy, "spill.db-wal"));
        using var recovered = new SqliteConnection($"Data Source={Path.Combine(copy, "spill.db")};Pooling=False");
        recovered.Open();
        Assert.Equal(1600L, Scalar(recovered, "SELECT count(*) FROM t"));
        Assert.Equal(800L, Scalar(recovered, "SELECT count(*) FROM t WHERE length(v) = 1200"));
        Assert.Equal("ok", Scalar(recovered, "PRAGMA integrity_check"));
    }

    private SqliteConnection Open(string file)
    {
        var connection = new SqliteConnection($"Data Source={Path.Combine(_directory, file)};Pooling=False");
        connection.Open();
        Execute(connection, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0");
        return connection;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar()!;
    }
}

using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace PerfOtel.Collector.Storage.Sqlite;

/// <summary>
/// A prepared INSERT bound by position through SQLite's C API (SQLitePCLRaw, which Microsoft.Data.Sqlite runs on).
/// The ingest path executes one per span: SqliteCommand looks every parameter up by name and boxes every value on
/// each execution, which cost more CPU than SQLite's own insert work. Runs on the writer connection inside the
/// transaction Microsoft.Data.Sqlite opened (same database handle).
/// </summary>
internal sealed class RawInsertStatement : IDisposable
{
    private readonly sqlite3 _database;
    private readonly sqlite3_stmt _statement;
    private int _next = 1;
    private byte[] _utf8 = new byte[256];

    public RawInsertStatement(SqliteConnection connection, string sql)
    {
        _database = connection.Handle!;
        SqliteException.ThrowExceptionForRC(raw.sqlite3_prepare_v2(_database, sql, out _statement), _database);
    }

    public RawInsertStatement Text(string? value)
    {
        if (value is null)
        {
            Check(raw.sqlite3_bind_null(_statement, _next++));
            return this;
        }

        if (value.Length == 0)
        {
            // An empty span pins to a null pointer, which SQLite would store as NULL rather than ''.
            Check(raw.sqlite3_bind_text(_statement, _next++, string.Empty));
            return this;
        }

        // Encoded into a reused buffer (SQLite copies it): the string overload would allocate a byte array per value.
        var length = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (_utf8.Length < length)
        {
            _utf8 = new byte[Math.Max(length, _utf8.Length * 2)];
        }

        var written = Encoding.UTF8.GetBytes(value, _utf8);
        Check(raw.sqlite3_bind_text(_statement, _next++, _utf8.AsSpan(0, written)));
        return this;
    }

    public RawInsertStatement Integer(long value)
    {
        Check(raw.sqlite3_bind_int64(_statement, _next++, value));
        return this;
    }

    public RawInsertStatement Real(double value)
    {
        Check(raw.sqlite3_bind_double(_statement, _next++, value));
        return this;
    }

    public RawInsertStatement Real(double? value)
    {
        Check(value is { } number ? raw.sqlite3_bind_double(_statement, _next++, number) : raw.sqlite3_bind_null(_statement, _next++));
        return this;
    }

    public RawInsertStatement Blob(byte[] value)
    {
        // SQLite copies the bytes (SQLITE_TRANSIENT); an empty array binds a zero-length blob, not NULL.
        Check(value.Length == 0 ? raw.sqlite3_bind_zeroblob(_statement, _next++, 0) : raw.sqlite3_bind_blob(_statement, _next++, value));
        return this;
    }

    /// <summary>Runs the bound insert; returns the rows inserted (0 when ON CONFLICT skipped it).</summary>
    public int Execute()
    {
        _next = 1;
        var result = raw.sqlite3_step(_statement);
        // reset also makes the statement inactive, so COMMIT and savepoint rollbacks are never blocked by it.
        var reset = raw.sqlite3_reset(_statement);
        if (result != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(reset != raw.SQLITE_OK ? reset : result, _database);
        }

        return raw.sqlite3_changes(_database);
    }

    /// <summary>
    /// Runs the bound statement as a query of one row of integers (an aggregate): fills <paramref name="values"/> from
    /// its first columns, NULL as 0.
    /// </summary>
    public void QueryIntegers(Span<long> values)
    {
        _next = 1;
        var result = raw.sqlite3_step(_statement);
        if (result == raw.SQLITE_ROW)
        {
            for (var column = 0; column < values.Length; column++)
            {
                values[column] = raw.sqlite3_column_int64(_statement, column);
            }
        }
        else
        {
            values.Clear();
        }

        var reset = raw.sqlite3_reset(_statement);
        if (result != raw.SQLITE_ROW && result != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(reset != raw.SQLITE_OK ? reset : result, _database);
        }
    }

    public void Dispose() => _statement.Dispose();

    private void Check(int result)
    {
        if (result != raw.SQLITE_OK)
        {
            _next = 1;
            raw.sqlite3_reset(_statement);
            SqliteException.ThrowExceptionForRC(result, _database);
        }
    }
}

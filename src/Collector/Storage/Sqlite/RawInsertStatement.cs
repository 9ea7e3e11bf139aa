using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace PerfOtel.Collector.Storage.Sqlite;

/// <summary>
/// A prepared INSERT bound by position through SQLite's C API (SQLitePCLRaw, which Microsoft.Data.Sqlite runs on).
/// The ingest path executes one per span: SqliteCommand looks every parameter up by name and boxes every value on
/// each execution, which cost more CPU than SQLite's own insert work. Runs on the writer connection inside the
/// transaction Microsoft.Data.Sqlite opened (same database handle).
/// A value equal to the one the same parameter holds from the row before is not bound again: SQLite keeps a
/// statement's bindings across <c>sqlite3_reset</c>, and most columns of consecutive rows repeat (the tenant, the
/// provider and model, the NULLs, a batch's time). Each bind is a P/Invoke that takes the database mutex, and a text
/// is encoded and copied too; skipping it leaves exactly the same value bound.
/// </summary>
internal sealed class RawInsertStatement : IDisposable
{
    private readonly sqlite3 _database;
    private readonly sqlite3_stmt _statement;
    private int _next = 1;
    private byte[] _utf8 = new byte[256];

    // What each parameter (1-based, as SQLite numbers them) holds now. Unknown until first bound, and again after a
    // failed bind (the binding may then be anything). Texts are compared by value, reals by their bits.
    private readonly Bound[] _kinds;
    private readonly string?[] _texts;
    private readonly long[] _numbers;

    public RawInsertStatement(SqliteConnection connection, string sql)
    {
        _database = connection.Handle!;
        SqliteException.ThrowExceptionForRC(raw.sqlite3_prepare_v2(_database, sql, out _statement), _database);
        var parameters = raw.sqlite3_bind_parameter_count(_statement) + 1;
        _kinds = new Bound[parameters];
        _texts = new string?[parameters];
        _numbers = new long[parameters];
    }

    private enum Bound : byte
    {
        Unknown,
        Null,
        Text,
        Integer,
        Real,
    }

    public RawInsertStatement Text(string? value)
    {
        var index = _next++;
        if (value is null)
        {
            if (_kinds[index] != Bound.Null)
            {
                Check(raw.sqlite3_bind_null(_statement, index));
                Holds(index, Bound.Null, null, 0);
            }

            return this;
        }

        if (_kinds[index] == Bound.Text && string.Equals(_texts[index], value, StringComparison.Ordinal))
        {
            return this;
        }

        if (value.Length == 0)
        {
            // An empty span pins to a null pointer, which SQLite would store as NULL rather than ''.
            Check(raw.sqlite3_bind_text(_statement, index, string.Empty));
            Holds(index, Bound.Text, value, 0);
            return this;
        }

        // Encoded into a reused buffer (SQLite copies it): the string overload would allocate a byte array per value.
        var length = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (_utf8.Length < length)
        {
            _utf8 = new byte[Math.Max(length, _utf8.Length * 2)];
        }

        var written = Encoding.UTF8.GetBytes(value, _utf8);
        Check(raw.sqlite3_bind_text(_statement, index, _utf8.AsSpan(0, written)));
        Holds(index, Bound.Text, value, 0);
        return this;
    }

    public RawInsertStatement Integer(long value)
    {
        var index = _next++;
        if (_kinds[index] != Bound.Integer || _numbers[index] != value)
        {
            Check(raw.sqlite3_bind_int64(_statement, index, value));
            Holds(index, Bound.Integer, null, value);
        }

        return this;
    }

    public RawInsertStatement Real(double value)
    {
        var index = _next++;
        var bits = BitConverter.DoubleToInt64Bits(value);
        if (_kinds[index] != Bound.Real || _numbers[index] != bits)
        {
            Check(raw.sqlite3_bind_double(_statement, index, value));
            Holds(index, Bound.Real, null, bits);
        }

        return this;
    }

    public RawInsertStatement Real(double? value)
    {
        if (value is { } number)
        {
            return Real(number);
        }

        var index = _next++;
        if (_kinds[index] != Bound.Null)
        {
            Check(raw.sqlite3_bind_null(_statement, index));
            Holds(index, Bound.Null, null, 0);
        }

        return this;
    }

    public RawInsertStatement Blob(byte[] value)
    {
        // SQLite copies the bytes (SQLITE_TRANSIENT); an empty array binds a zero-length blob, not NULL. Always bound
        // (a blob is not compared): the parameter's value is unknown afterwards.
        var index = _next++;
        Check(value.Length == 0 ? raw.sqlite3_bind_zeroblob(_statement, index, 0) : raw.sqlite3_bind_blob(_statement, index, value));
        Holds(index, Bound.Unknown, null, 0);
        return this;
    }

    private void Holds(int index, Bound kind, string? text, long number)
    {
        _kinds[index] = kind;
        _texts[index] = text;
        _numbers[index] = number;
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
    /// Runs the bound statement as a query of at most one row of integers (an aggregate, or a <c>RETURNING</c> of one
    /// row): fills <paramref name="values"/> from its first columns, NULL as 0, or with zeros when there is no row;
    /// whether there was one.
    /// </summary>
    public bool QueryIntegers(Span<long> values)
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

        return result == raw.SQLITE_ROW;
    }

    public void Dispose() => _statement.Dispose();

    private void Check(int result)
    {
        if (result != raw.SQLITE_OK)
        {
            _next = 1;
            // What a failed bind left is not known: every parameter is bound again from the next row on.
            Array.Clear(_kinds);
            Array.Clear(_texts);
            raw.sqlite3_reset(_statement);
            SqliteException.ThrowExceptionForRC(result, _database);
        }
    }
}

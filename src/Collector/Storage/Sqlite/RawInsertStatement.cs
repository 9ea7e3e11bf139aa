using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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
/// The binds, steps and resets call e_sqlite3 itself with the statement's pointer, taken once: through SQLitePCLRaw each
/// call went through its provider's interface and counted the statement's SafeHandle up and down, about 2 % of the
/// collector's CPU at full rate (#21). The statement is prepared and finalized through SQLitePCLRaw as before, and the
/// pointer is used only between the two.
/// </summary>
internal sealed unsafe class RawInsertStatement : IDisposable
{
    private readonly sqlite3 _database;
    private readonly sqlite3_stmt _statement;
    private readonly IntPtr _db;
    private readonly IntPtr _stmt;
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
        _db = _database.DangerousGetHandle();
        _stmt = _statement.DangerousGetHandle();
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
                Check(Native.sqlite3_bind_null(_stmt, index));
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
            byte empty = 0;
            Check(Native.sqlite3_bind_text(_stmt, index, &empty, 0, Native.Transient));
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
        fixed (byte* text = _utf8)
        {
            Check(Native.sqlite3_bind_text(_stmt, index, text, written, Native.Transient));
        }

        Holds(index, Bound.Text, value, 0);
        return this;
    }

    public RawInsertStatement Integer(long value)
    {
        var index = _next++;
        if (_kinds[index] != Bound.Integer || _numbers[index] != value)
        {
            Check(Native.sqlite3_bind_int64(_stmt, index, value));
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
            Check(Native.sqlite3_bind_double(_stmt, index, value));
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
            Check(Native.sqlite3_bind_null(_stmt, index));
            Holds(index, Bound.Null, null, 0);
        }

        return this;
    }

    public RawInsertStatement Blob(byte[] value)
    {
        // SQLite copies the bytes (SQLITE_TRANSIENT); an empty array binds a zero-length blob, not NULL. Always bound
        // (a blob is not compared): the parameter's value is unknown afterwards.
        var index = _next++;
        if (value.Length == 0)
        {
            Check(Native.sqlite3_bind_zeroblob(_stmt, index, 0));
        }
        else
        {
            fixed (byte* bytes = value)
            {
                Check(Native.sqlite3_bind_blob(_stmt, index, bytes, value.Length, Native.Transient));
            }
        }
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
        var result = Native.sqlite3_step(_stmt);
        // reset also makes the statement inactive, so COMMIT and savepoint rollbacks are never blocked by it.
        var reset = Native.sqlite3_reset(_stmt);
        if (result != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(reset != raw.SQLITE_OK ? reset : result, _database);
        }

        return Native.sqlite3_changes(_db);
    }

    /// <summary>
    /// Runs the bound statement as a query of at most one row of integers (an aggregate, or a <c>RETURNING</c> of one
    /// row): fills <paramref name="values"/> from its first columns, NULL as 0, or with zeros when there is no row;
    /// whether there was one.
    /// </summary>
    public bool QueryIntegers(Span<long> values)
    {
        _next = 1;
        var result = Native.sqlite3_step(_stmt);
        if (result == raw.SQLITE_ROW)
        {
            for (var column = 0; column < values.Length; column++)
            {
                values[column] = Native.sqlite3_column_int64(_stmt, column);
            }
        }
        else
        {
            values.Clear();
        }

        var reset = Native.sqlite3_reset(_stmt);
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
            Native.sqlite3_reset(_stmt);
            SqliteException.ThrowExceptionForRC(result, _database);
        }
    }

    /// <summary>
    /// The e_sqlite3 functions the ingest path calls per row, by pointer. The binds and the reads of a row's values do
    /// no I/O and call nothing back (values are copied, <see cref="Transient"/>), so they skip the runtime's GC
    /// transition; the step and the reset may write pages through the process's VFS, whose calls come back into
    /// managed code (<see cref="SqliteWalWriteBuffer"/>), so they make the full transition.
    /// </summary>
    private static class Native
    {
        private const string Library = "e_sqlite3";

        /// <summary>SQLITE_TRANSIENT: SQLite copies the value before the call returns.</summary>
        public static readonly IntPtr Transient = new(-1);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl), SuppressGCTransition]
        public static extern int sqlite3_bind_null(IntPtr stmt, int index);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl), SuppressGCTransition]
        public static extern int sqlite3_bind_int64(IntPtr stmt, int index, long value);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl), SuppressGCTransition]
        public static extern int sqlite3_bind_double(IntPtr stmt, int index, double value);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl), SuppressGCTransition]
        public static extern int sqlite3_bind_text(IntPtr stmt, int index, byte* text, int length, IntPtr destructor);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl), SuppressGCTransition]
        public static extern int sqlite3_bind_blob(IntPtr stmt, int index, byte* bytes, int length, IntPtr destructor);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl), SuppressGCTransition]
        public static extern int sqlite3_bind_zeroblob(IntPtr stmt, int index, int length);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl), SuppressGCTransition]
        public static extern long sqlite3_column_int64(IntPtr stmt, int column);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl), SuppressGCTransition]
        public static extern int sqlite3_changes(IntPtr db);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern int sqlite3_step(IntPtr stmt);

        [DllImport(Library, CallingConvention = CallingConvention.Cdecl)]
        public static extern int sqlite3_reset(IntPtr stmt);
    }
}

using Microsoft.Data.Sqlite;
using PerfOtel.Collector.Storage.Sqlite;

namespace PerfOtel.Collector.Tests.Storage;

/// <summary>
/// The writer's positional insert skips binding a value equal to the one its parameter already holds from the row
/// before: every row must still store exactly the values given to it, whatever the sequence of repeats, NULLs, empty
/// texts and changes of type, and after a row the database rejected.
/// </summary>
public sealed class RawInsertStatementTests
{
    private sealed record Row(long Id, string? Text, long? Integer, double? Real, byte[]? Blob);

    [Fact]
    public void EveryRowStoresExactlyItsOwnValues_whenConsecutiveRowsRepeatSomeOfThem()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        Execute(connection, "CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT, integer INTEGER, real REAL, blob BLOB)");

        Row[] rows =
        [
            new(1, "default", 5, 1.5, [1, 2]),
            new(2, "default", 5, 1.5, [1, 2]),
            new(3, null, 5, null, []),
            new(4, null, 6, null, [3]),
            new(5, "", 6, 1.5, [3]),
            new(6, "", 7, 2.25, [3]),
            new(7, null, 7, 2.25, [4]),
            new(8, "globex-ü ✓", long.MinValue, -1.0, [4]),
            // An equal text in another string instance, then the same instance again.
            new(9, new string("globex-ü ✓".ToCharArray()), long.MinValue, -1.0, [4]),
            new(10, "default", 0, 0.0, []),
            new(11, "default", 0, -0.5, [5]),
            new(12, "x", long.MaxValue, -0.5, [5]),
            new(13, "default", long.MaxValue, 1.5, [5]),
        ];

        using (var insert = new RawInsertStatement(connection, "INSERT INTO t (id, text, integer, real, blob) VALUES (?1, ?2, ?3, ?4, ?5)"))
        {
            foreach (var row in rows)
            {
                Bind(insert, row).Execute();
            }
        }

        Assert.Equal(rows, ReadRows(connection), RowComparer.Instance);
    }

    [Fact]
    public void ARowTheDatabaseRejects_leavesTheNextRowsExact()
    {
        using var connection = new SqliteConnection("Data Source=:memory:");
        connection.Open();
        Execute(connection, "CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT, integer INTEGER, real REAL, blob BLOB)");

        using var insert = new RawInsertStatement(connection, "INSERT INTO t (id, text, integer, real, blob) VALUES (?1, ?2, ?3, ?4, ?5)");
        Bind(insert, new Row(1, "a", 1, 1.0, [1])).Execute();
        // The same key again: rejected by the primary key, with values that differ from the stored row's.
        Assert.Throws<SqliteException>(() => Bind(insert, new Row(1, "b", 2, null, [2])).Execute());
        Bind(insert, new Row(2, "b", 2, null, [2])).Execute();
        Bind(insert, new Row(3, "a", 2, 1.0, [2])).Execute();

        Row[] expected = [new(1, "a", 1, 1.0, [1]), new(2, "b", 2, null, [2]), new(3, "a", 2, 1.0, [2])];
        Assert.Equal(expected, ReadRows(connection), RowComparer.Instance);
    }

    private static RawInsertStatement Bind(RawInsertStatement insert, Row row)
    {
        insert.Integer(row.Id).Text(row.Text);
        if (row.Integer is { } integer)
        {
            insert.Integer(integer);
        }
        else
        {
            insert.Text(null);
        }

        return insert.Real(row.Real).Blob(row.Blob!);
    }

    private static List<Row> ReadRows(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, text, integer, real, blob FROM t ORDER BY id";
        using var reader = command.ExecuteReader();
        var rows = new List<Row>();
        while (reader.Read())
        {
            rows.Add(new Row(reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetString(1),
                reader.IsDBNull(2) ? null : reader.GetInt64(2), reader.IsDBNull(3) ? null : reader.GetDouble(3),
                reader.IsDBNull(4) ? null : reader.GetFieldValue<byte[]>(4)));
        }

        return rows;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private sealed class RowComparer : IEqualityComparer<Row>
    {
        public static readonly RowComparer Instance = new();

        public bool Equals(Row? x, Row? y) =>
            x is not null && y is not null && x.Id == y.Id && x.Text == y.Text && x.Integer == y.Integer &&
            Nullable.Equals(x.Real, y.Real) && (x.Blob ?? []).AsSpan().SequenceEqual(y.Blob ?? []);

        public int GetHashCode(Row obj) => obj.Id.GetHashCode();
    }
}

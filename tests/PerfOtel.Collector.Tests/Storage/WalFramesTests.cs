using System.Buffers.Binary;
using Microsoft.Data.Sqlite;
using PerfOtel.Benchmarks.Storage;

namespace PerfOtel.Collector.Tests.Storage;

/// <summary>
/// The benchmarks' <c>wal-frames</c> analyser (#21, docs/collector/ingest-performance.md, "Which B-trees write the WAL
/// frames"): the commits of a real SQLite WAL are found and each frame goes to the table or index SQLite wrote it for;
/// a WAL's current generation ends at the first frame with other salts or at a partly copied frame; and per window of
/// commits the frames are set against the distinct pages a checkpoint of them would copy.
/// </summary>
public sealed class WalFramesTests : IDisposable
{
    private const int PageSize = 4096;

    private readonly string _directory = Directory.CreateTempSubdirectory("perfotel-walframes-").FullName;

    /// <summary>
    /// Three commits of known shape into a WAL that a checkpoint emptied first: 10 rows into <c>a</c> (and its index);
    /// every row of <c>b</c> rewritten in place (its leaf pages, nothing allocated); then rows into both, one of them
    /// too large for its page. The WAL is copied while the connection is open, so it is not checkpointed away; the
    /// database is then read either with that WAL still beside it or after the connection closed and copied it in.
    /// </summary>
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void TheFramesOfRealCommits_GoToTheTreesSqliteWroteThemFor(bool closedBeforeReading, bool walk)
    {
        var database = Path.Combine(_directory, "walframes.db");
        var wal = database + "-wal";
        var copy = Path.Combine(_directory, "copy.wal");
        var connection = new SqliteConnection($"Data Source={database};Pooling=False");
        try
        {
            connection.Open();
            Execute(connection, $"""
                PRAGMA page_size={PageSize}; PRAGMA journal_mode=WAL; PRAGMA wal_autocheckpoint=0;
                CREATE TABLE a(id INTEGER PRIMARY KEY, v TEXT NOT NULL);
                CREATE INDEX ix_a_v ON a(v);
                CREATE TABLE b(id INTEGER PRIMARY KEY, w TEXT NOT NULL);
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
                INSERT INTO b(id, w) SELECT i, printf('%0200d', i) FROM n;
                PRAGMA wal_checkpoint(TRUNCATE);
                """);
            Assert.Equal(0, new FileInfo(wal).Length);

            Execute(connection, """
                BEGIN;
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)
                INSERT INTO a(v) SELECT printf('a-%d', i) FROM n;
                COMMIT;
                """);
            var beforeSecond = new FileInfo(wal).Length;
            Execute(connection, "UPDATE b SET w = printf('%0200d', id + 1)");
            var afterSecond = new FileInfo(wal).Length;
            Execute(connection, """
                BEGIN;
                WITH RECURSIVE n(i) AS (SELECT 11 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
                INSERT INTO a(v) SELECT printf('a-%d', i) FROM n;
                INSERT INTO b(id, w) VALUES (1000, printf('%020000d', 7));
                COMMIT;
                """);
            File.Copy(wal, copy);
            if (closedBeforeReading)
            {
                connection.Dispose();
                Assert.False(File.Exists(wal), "closing the last connection checkpoints and removes the WAL");
            }

            var generation = WalFramesReader.Read(File.ReadAllBytes(copy));
            var owners = WalFramesPageOwners.Read(database, walk);
            var counts = WalFramesCounter.Count([generation], owners.TreeOf, [1, 3]);

            Assert.Equal(3, counts.Commits);
            Assert.Equal(WalEnd.EndOfFile, generation.End);
            Assert.Equal(0, generation.FramesAfterLastCommit);
            Assert.Equal((new FileInfo(copy).Length - WalFramesReader.HeaderSize) / (WalFramesReader.FrameHeaderSize + PageSize), counts.Frames);
            // Every frame goes to a tree of the database; page 1 (sqlite_schema's root) holds the database's size, which
            // SQLite rewrites in a commit that grows the file.
            Assert.All(counts.Trees, t => Assert.Contains(t.Tree, new[] { "a", "ix_a_v", "b", SqliteBTreeWalker.SchemaTree }));
            Assert.Equal(counts.Frames, counts.Trees.Sum(t => t.Frames));

            var first = generation.Commits[0].Select(owners.TreeOf).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(["a", "ix_a_v"], first);
            // The second commit, measured by the WAL's growth: every frame it wrote is b's, one for each leaf of b.
            var second = generation.Commits[1].Select(owners.TreeOf).ToList();
            Assert.Equal((afterSecond - beforeSecond) / (WalFramesReader.FrameHeaderSize + PageSize), second.Count);
            Assert.All(second, tree => Assert.Equal("b", tree));
            Assert.InRange(second.Count, 10, 30);
            // The third: the 20 000-byte row's overflow pages are b's too.
            var third = generation.Commits[2].Select(owners.TreeOf).ToList();
            Assert.Contains("a", third);
            Assert.Contains("ix_a_v", third);
            Assert.True(third.Count(t => t == "b") >= 1 + 20_000 / (PageSize - 4), $"b's frames in the third commit: {third.Count(t => t == "b")}");
            Assert.Equal(second.Count + third.Count(t => t == "b"), counts.Trees.Single(t => t.Tree == "b").Frames);
        }
        finally
        {
            connection.Dispose();
        }
    }

    [Fact]
    public void AWindowOfCommits_SetsTheFramesAgainstTheDistinctPagesAmongThem()
    {
        // Frames for pages 5, 6 | 5, 7 | 5; pages 6 and 7 are one tree, 5 another.
        var generation = WalFramesReader.Read(Wal(Frame(5), Commit(6), Frame(5), Commit(7), Commit(5)));
        var counts = WalFramesCounter.Count([generation], page => page == 5 ? "five" : "six-seven", [1, 2, 3]);

        Assert.Equal(3, counts.Commits);
        Assert.Equal(5, counts.Frames);
        Assert.Equal([new TreeFrames("five", 3), new TreeFrames("six-seven", 2)], counts.Trees);
        Assert.Equal("five", counts.LargestTree);
        // Window 3: 5 frames, 3 distinct pages; without the largest tree (page 5): 2 frames, 2 pages.
        Assert.Equal(new WindowFrames(3, 1, 5, 3, 2, 2), counts.Windows[2]);
        Assert.Equal(new WindowFrames(1, 3, 5, 5, 2, 2), counts.Windows[0]);
        // Window 2: the first two commits only (5, 6, 5, 7); the third is left over.
        Assert.Equal(new WindowFrames(2, 1, 4, 3, 2, 2), counts.Windows[1]);
    }

    [Fact]
    public void AFrameWithOtherSalts_EndsTheGeneration()
    {
        var generation = WalFramesReader.Read(Wal(Commit(3), Commit(4), Commit(5, salt1: 0xdead), Commit(6)));

        Assert.Equal(WalEnd.EarlierGeneration, generation.End);
        Assert.Equal([[3u], [4u]], generation.Commits);
        Assert.Equal(2, generation.Frames);
    }

    [Fact]
    public void FramesAfterTheLastCommit_AndAPartlyCopiedFrame_AreNoCommit()
    {
        var whole = Wal(Frame(3), Commit(4), Frame(5), Commit(6));
        // Cut inside the last frame's page: its header, commit mark and all, was copied, the rest of it was not.
        var generation = WalFramesReader.Read(whole.AsSpan(0, whole.Length - 100));

        Assert.Equal(WalEnd.PartialFrame, generation.End);
        Assert.Equal([[3u, 4u]], generation.Commits);
        Assert.Equal(1, generation.FramesAfterLastCommit);
        Assert.Equal(4u, generation.DatabasePagesAfterLastCommit);

        var empty = WalFramesReader.Read([]);
        Assert.Equal(WalEnd.NoHeader, empty.End);
        Assert.Empty(empty.Commits);
    }

    private const uint Salt1 = 0x11111111;
    private const uint Salt2 = 0x22222222;
    private const int SmallPage = 512;

    private static (uint Page, bool Commit, uint Salt1) Frame(uint page) => (page, false, Salt1);

    private static (uint Page, bool Commit, uint Salt1) Commit(uint page, uint salt1 = Salt1) => (page, true, salt1);

    /// <summary>A WAL of 512-byte pages whose header has salts <see cref="Salt1"/> and <see cref="Salt2"/>; a commit frame
    /// records its page number as the database's size.</summary>
    private static byte[] Wal(params (uint Page, bool Commit, uint Salt1)[] frames)
    {
        var stride = WalFramesReader.FrameHeaderSize + SmallPage;
        var bytes = new byte[WalFramesReader.HeaderSize + frames.Length * stride];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, WalFramesReader.MagicBigEndianChecksums);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(4), WalFramesReader.FormatVersion);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(8), SmallPage);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(16), Salt1);
        BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(20), Salt2);
        for (var i = 0; i < frames.Length; i++)
        {
            var frame = bytes.AsSpan(WalFramesReader.HeaderSize + i * stride);
            BinaryPrimitives.WriteUInt32BigEndian(frame, frames[i].Page);
            BinaryPrimitives.WriteUInt32BigEndian(frame[4..], frames[i].Commit ? frames[i].Page : 0);
            BinaryPrimitives.WriteUInt32BigEndian(frame[8..], frames[i].Salt1);
            BinaryPrimitives.WriteUInt32BigEndian(frame[12..], Salt2);
        }

        return bytes;
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}

using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace PerfOtel.Collector.Storage.Sqlite;

/// <summary>
/// Reads how many pages the WAL holds and how many of them a checkpoint has copied into the database file, from the
/// WAL-index header in the database's <c>-shm</c> file (SQLite's file format, "The WAL-Index Format": the header's
/// first copy holds <c>mxFrame</c> at byte 16, the checkpoint information that follows both copies holds
/// <c>nBackfill</c> at byte 96, both 32-bit in the machine's byte order; <c>iVersion</c> at byte 0 is 3007000; the WAL
/// header's two salts at byte 32, which change each time the WAL restarts from its beginning). One
/// read of 100 bytes: the writer calls it after each commit to decide whether a checkpoint is due, which SQLite's own
/// WAL hook would tell it but Microsoft.Data.Sqlite does not expose.
/// </summary>
internal sealed class SqliteWalIndex : IDisposable
{
    /// <summary>The WAL-index format SQLite has written since 3.7.0 (<c>WALINDEX_MAX_VERSION</c>).</summary>
    private const uint Version = 3007000;
    private const int HeaderBytes = 100;
    private const int MaxFrameOffset = 16;
    private const int SaltOffset = 32;
    private const int BackfillOffset = 96;

    private readonly SafeFileHandle _shm;

    private SqliteWalIndex(SafeFileHandle shm) => _shm = shm;

    /// <summary>
    /// Opens the database's <c>-shm</c> file (after a connection put the database in WAL mode); null when it is missing
    /// or does not hold the WAL-index format this reader knows (the caller then leaves checkpoints to SQLite).
    /// </summary>
    public static SqliteWalIndex? Open(string databasePath)
    {
        SafeFileHandle shm;
        try
        {
            shm = File.OpenHandle(databasePath + "-shm", FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        var index = new SqliteWalIndex(shm);
        if (index.Read() is null)
        {
            index.Dispose();
            return null;
        }
        return index;
    }

    /// <summary>
    /// Pages (frames) in the WAL, how many of them a checkpoint copied into the database file, and the WAL's generation
    /// (its salts: a restart changes it, so two reads with the same generation see the same WAL growing); null if the
    /// header is not one this reader knows.
    /// </summary>
    public (long Pages, long Copied, ulong Generation)? Read()
    {
        Span<byte> header = stackalloc byte[HeaderBytes];
        if (RandomAccess.Read(_shm, header, 0) < HeaderBytes)
        {
            return null;
        }
        if (ReadNative(header) != Version)
        {
            return null;
        }
        return (ReadNative(header[MaxFrameOffset..]), ReadNative(header[BackfillOffset..]),
            BinaryPrimitives.ReadUInt64LittleEndian(header[SaltOffset..]));
    }

    private static uint ReadNative(ReadOnlySpan<byte> bytes) => BitConverter.IsLittleEndian
        ? BinaryPrimitives.ReadUInt32LittleEndian(bytes)
        : BinaryPrimitives.ReadUInt32BigEndian(bytes);

    public void Dispose() => _shm.Dispose();
}

using System.Buffers.Binary;

namespace PerfOtel.Benchmarks.Storage;

/// <summary>Why the reading of a WAL file stopped where it did.</summary>
public enum WalEnd
{
    /// <summary>The file ended on a frame boundary.</summary>
    EndOfFile,

    /// <summary>A frame whose salts are not the header's: a frame of an earlier generation, from before the WAL restarted.</summary>
    EarlierGeneration,

    /// <summary>Less than a whole frame was left: a copy taken while the frame was being written.</summary>
    PartialFrame,

    /// <summary>Shorter than the 32-byte header: an empty WAL, or one copied just after it was truncated.</summary>
    NoHeader,
}

/// <summary>
/// The current generation of a WAL file: its commits, each the page numbers of its frames in the order written.
/// </summary>
/// <param name="PageSize">The database page size the WAL header gives; every frame is 24 bytes of header and one page.</param>
/// <param name="Commits">One entry per commit: the page number of each of its frames, the commit frame last.</param>
/// <param name="FramesAfterLastCommit">Frames of the generation after its last commit frame: a transaction still being
/// written when the file was copied, not a commit, so counted nowhere else.</param>
/// <param name="DatabasePagesAfterLastCommit">The database size in pages that the last commit frame records (0 without a
/// commit): the size of the database as a reader of this WAL sees it.</param>
public sealed record WalGeneration(int PageSize, uint Salt1, uint Salt2, IReadOnlyList<uint[]> Commits,
    int FramesAfterLastCommit, uint DatabasePagesAfterLastCommit, WalEnd End)
{
    /// <summary>Frames of the generation's commits (the frames after the last commit are not among them).</summary>
    public int Frames => Commits.Sum(c => c.Length);

    /// <summary>Byte offset of frame <paramref name="index"/> (0-based, counted from the first frame) in the file.</summary>
    public long FrameOffset(int index) => WalFramesReader.HeaderSize + (long)index * (WalFramesReader.FrameHeaderSize + PageSize);

    /// <summary>
    /// The index of the last committed frame of each page: where a reader of this WAL finds the page's newest image.
    /// </summary>
    public Dictionary<uint, int> NewestFrameOfEachPage()
    {
        var newest = new Dictionary<uint, int>();
        var index = 0;
        foreach (var commit in Commits)
        {
            foreach (var page in commit)
            {
                newest[page] = index++;
            }
        }

        return newest;
    }
}

/// <summary>
/// Reads the frame headers of a SQLite WAL file (https://sqlite.org/fileformat.html, "The Write-Ahead Log"): a 32-byte
/// header (magic, format version, page size, checkpoint sequence, salt-1, salt-2, two checksums; big-endian), then
/// frames of a 24-byte header (page number, the database size in pages after the commit for a commit's last frame and 0
/// for every other, salt-1, salt-2, two checksums) and the page image.
/// </summary>
/// <remarks>
/// A frame belongs to the WAL's current generation while its salts equal the header's: when the writer restarts the
/// WAL it writes a new header with new salts and overwrites from the first frame on, so the first frame with other salts
/// starts what is left of the earlier generation. SQLite also checks each frame's cumulative checksum; this reader does
/// not (the salts separate the generations, and it is for copies of a live WAL, not for recovery), so a frame whose
/// header is intact but whose page was torn still counts. Only the frame headers are read.
/// </remarks>
public static class WalFramesReader
{
    public const int HeaderSize = 32;
    public const int FrameHeaderSize = 24;

    /// <summary>The two magic numbers: the last bit says in which byte order the checksums were computed.</summary>
    public const uint MagicLittleEndianChecksums = 0x377f0682;
    public const uint MagicBigEndianChecksums = 0x377f0683;
    public const uint FormatVersion = 3007000;

    /// <summary>The current generation's commits in <paramref name="wal"/>, a whole WAL file or a copy of one.</summary>
    /// <exception cref="InvalidDataException">The header is not a WAL header.</exception>
    public static WalGeneration Read(ReadOnlySpan<byte> wal)
    {
        if (wal.Length < HeaderSize)
        {
            return new WalGeneration(0, 0, 0, [], 0, 0, WalEnd.NoHeader);
        }

        var magic = BinaryPrimitives.ReadUInt32BigEndian(wal);
        if (magic is not (MagicLittleEndianChecksums or MagicBigEndianChecksums))
        {
            throw new InvalidDataException($"not a SQLite WAL file: magic 0x{magic:x8}");
        }

        var version = BinaryPrimitives.ReadUInt32BigEndian(wal[4..]);
        if (version != FormatVersion)
        {
            throw new InvalidDataException($"WAL format version {version}, not {FormatVersion}");
        }

        var pageSize = BinaryPrimitives.ReadUInt32BigEndian(wal[8..]);
        if (pageSize is < 512 or > 65536 || (pageSize & (pageSize - 1)) != 0)
        {
            throw new InvalidDataException($"WAL page size {pageSize} is not a power of two from 512 to 65536");
        }

        var salt1 = BinaryPrimitives.ReadUInt32BigEndian(wal[16..]);
        var salt2 = BinaryPrimitives.ReadUInt32BigEndian(wal[20..]);
        var stride = FrameHeaderSize + (int)pageSize;
        var commits = new List<uint[]>();
        var pending = new List<uint>();
        uint databasePages = 0;
        var end = WalEnd.EndOfFile;
        for (var offset = HeaderSize; offset < wal.Length; offset += stride)
        {
            if (wal.Length - offset < stride)
            {
                end = WalEnd.PartialFrame;
                break;
            }

            var frame = wal.Slice(offset, FrameHeaderSize);
            var page = BinaryPrimitives.ReadUInt32BigEndian(frame);
            var pagesAfterCommit = BinaryPrimitives.ReadUInt32BigEndian(frame[4..]);
            // Page 0 does not exist: a zeroed frame header is no frame of this generation either.
            if (BinaryPrimitives.ReadUInt32BigEndian(frame[8..]) != salt1 || BinaryPrimitives.ReadUInt32BigEndian(frame[12..]) != salt2 || page == 0)
            {
                end = WalEnd.EarlierGeneration;
                break;
            }

            pending.Add(page);
            if (pagesAfterCommit != 0)
            {
                commits.Add([.. pending]);
                pending.Clear();
                databasePages = pagesAfterCommit;
            }
        }

        return new WalGeneration((int)pageSize, salt1, salt2, commits, pending.Count, databasePages, end);
    }
}

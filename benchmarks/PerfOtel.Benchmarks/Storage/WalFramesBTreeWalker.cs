using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace PerfOtel.Benchmarks.Storage;

/// <summary>
/// The pages of a SQLite database as a reader sees them: the database file, and over it the committed frames of the
/// database's own WAL (<c>PATH-wal</c>) when there is one. A collector stopped hard leaves its last commits there, not
/// yet copied into the file.
/// </summary>
public sealed class SqliteDatabasePages : IDisposable
{
    private const int FileHeaderSize = 100;

    private readonly SafeFileHandle _file;
    private readonly long _fileLength;
    private readonly byte[] _wal;
    private readonly WalGeneration? _walGeneration;
    private readonly Dictionary<uint, int> _newestFrame;

    public SqliteDatabasePages(string databasePath)
    {
        _file = File.OpenHandle(databasePath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        _fileLength = RandomAccess.GetLength(_file);
        var header = new byte[FileHeaderSize];
        if (_fileLength < FileHeaderSize || RandomAccess.Read(_file, header, 0) != FileHeaderSize
            || !header.AsSpan(0, 16).SequenceEqual("SQLite format 3\0"u8))
        {
            _file.Dispose();
            throw new InvalidDataException($"{databasePath} is not a SQLite database file");
        }

        var pageSize = BinaryPrimitives.ReadUInt16BigEndian(header.AsSpan(16));
        PageSize = pageSize == 1 ? 65536 : pageSize;
        UsableSize = PageSize - header[20];
        TextEncoding = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(56)) switch
        {
            2 => Encoding.Unicode,
            3 => Encoding.BigEndianUnicode,
            _ => Encoding.UTF8,
        };

        var walPath = databasePath + "-wal";
        _wal = File.Exists(walPath) ? File.ReadAllBytes(walPath) : [];
        _walGeneration = _wal.Length == 0 ? null : WalFramesReader.Read(_wal);
        if (_walGeneration is { Commits.Count: > 0 } generation && generation.PageSize != PageSize)
        {
            _file.Dispose();
            throw new InvalidDataException($"{walPath} has pages of {generation.PageSize} bytes, the database {PageSize}");
        }

        _newestFrame = _walGeneration?.NewestFrameOfEachPage() ?? [];
        // The in-header size is valid only when the version-valid-for number matches the change counter; SQLite in
        // WAL mode takes the size from the last commit frame.
        var headerValid = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(92)) == BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(24));
        PageCount = _walGeneration is { DatabasePagesAfterLastCommit: > 0 } wal
            ? wal.DatabasePagesAfterLastCommit
            : headerValid ? BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(28)) : (uint)(_fileLength / PageSize);
    }

    public int PageSize { get; }

    /// <summary>The page size less the bytes each page reserves at its end (for extensions); what B-tree pages use.</summary>
    public int UsableSize { get; }

    public uint PageCount { get; }

    public Encoding TextEncoding { get; }

    /// <summary>Committed frames of the database's own WAL that stand over the file (0 without one).</summary>
    public int WalFrames => _walGeneration?.Frames ?? 0;

    /// <summary>Reads page <paramref name="page"/> (1-based) into <paramref name="buffer"/>, of <see cref="PageSize"/> bytes.</summary>
    public void Read(uint page, Span<byte> buffer)
    {
        if (page == 0 || page > PageCount)
        {
            throw new InvalidDataException($"page {page} is outside the database's {PageCount} pages");
        }

        if (_newestFrame.TryGetValue(page, out var frame))
        {
            var offset = _walGeneration!.FrameOffset(frame) + WalFramesReader.FrameHeaderSize;
            _wal.AsSpan((int)offset, PageSize).CopyTo(buffer);
            return;
        }

        var position = (long)(page - 1) * PageSize;
        if (position + PageSize > _fileLength || RandomAccess.Read(_file, buffer[..PageSize], position) != PageSize)
        {
            throw new InvalidDataException($"page {page} lies beyond the end of the database file and is in no WAL frame");
        }
    }

    public void Dispose() => _file.Dispose();
}

/// <summary>
/// Which B-tree (table, index, or the schema table itself) each page of a SQLite database belongs to, found by walking
/// every B-tree from the root pages <c>sqlite_schema</c> lists, as the <c>dbstat</c> virtual table does: interior pages
/// give their children, and cells too large for their page give the chain of overflow pages their payload continues in.
/// For SQLite builds without <c>dbstat</c> (the e_sqlite3 build Microsoft.Data.Sqlite ships has none). The page format
/// is https://sqlite.org/fileformat.html, "B-tree Pages" and "Cell Payload Overflow Pages".
/// </summary>
public static class SqliteBTreeWalker
{
    /// <summary>The schema table's name as <c>dbstat</c> reports it; its root is always page 1.</summary>
    public const string SchemaTree = "sqlite_schema";

    private const byte IndexInterior = 0x02;
    private const byte TableInterior = 0x05;
    private const byte IndexLeaf = 0x0a;
    private const byte TableLeaf = 0x0d;

    /// <summary>The owner of each page: index = page number, null for pages in no B-tree (free list, pointer map).</summary>
    public static string?[] OwnersOfPages(SqliteDatabasePages pages)
    {
        var owners = new string?[pages.PageCount + 1];
        var schemaRows = new List<byte[]>();
        Walk(pages, 1, SchemaTree, owners, schemaRows);
        foreach (var row in schemaRows)
        {
            var columns = RecordColumns(row, pages.TextEncoding);
            // type, name, tbl_name, rootpage, sql; views and triggers have root page 0 and no tree.
            if (columns.Count >= 4 && columns[1] is string name && columns[3] is long root && root > 0)
            {
                Walk(pages, (uint)root, name, owners, rows: null);
            }
        }

        return owners;
    }

    private static void Walk(SqliteDatabasePages pages, uint root, string tree, string?[] owners, List<byte[]>? rows)
    {
        var buffer = new byte[pages.PageSize];
        var usable = pages.UsableSize;
        var pending = new Stack<uint>();
        pending.Push(root);
        while (pending.Count > 0)
        {
            var page = pending.Pop();
            Claim(owners, page, tree);
            pages.Read(page, buffer);
            var header = page == 1 ? 100 : 0;
            var type = buffer[header];
            var interior = type is IndexInterior or TableInterior;
            if (type is not (IndexInterior or TableInterior or IndexLeaf or TableLeaf))
            {
                throw new InvalidDataException($"page {page} of {tree} is no B-tree page (type 0x{type:x2})");
            }

            var cells = BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(header + 3));
            var pointers = header + (interior ? 12 : 8);
            if (interior)
            {
                pending.Push(BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(header + 8)));
            }

            for (var i = 0; i < cells; i++)
            {
                int cell = BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(pointers + 2 * i));
                if (interior)
                {
                    pending.Push(BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(cell)));
                    cell += 4;
                }

                if (type == TableInterior)
                {
                    continue; // a child pointer and a rowid key, no payload
                }

                var payloadSize = ReadVarint(buffer, ref cell);
                if (type == TableLeaf)
                {
                    ReadVarint(buffer, ref cell); // the rowid
                }

                var local = LocalPayload(payloadSize, usable, type == TableLeaf);
                // Only the schema's rows are read; every other tree's payloads only tell where their overflow pages are.
                var payload = rows is null ? null : new byte[payloadSize];
                if (payload is not null)
                {
                    buffer.AsSpan(cell, local).CopyTo(payload);
                }

                if (local < payloadSize)
                {
                    FollowOverflow(pages, BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(cell + local)),
                        payloadSize - local, tree, owners, payload, local);
                }

                if (payload is not null && type == TableLeaf)
                {
                    rows!.Add(payload);
                }
            }
        }
    }

    /// <summary>Claims the overflow pages of one cell, copying what they hold into <paramref name="payload"/> if given.</summary>
    private static void FollowOverflow(SqliteDatabasePages pages, uint first, long remaining, string tree, string?[] owners,
        byte[]? payload, int written)
    {
        var buffer = new byte[pages.PageSize];
        var perPage = pages.UsableSize - 4;
        for (var page = first; remaining > 0; page = BinaryPrimitives.ReadUInt32BigEndian(buffer))
        {
            Claim(owners, page, tree);
            pages.Read(page, buffer);
            var take = (int)Math.Min(perPage, remaining);
            if (payload is not null)
            {
                buffer.AsSpan(4, take).CopyTo(payload.AsSpan(written));
                written += take;
            }

            remaining -= take;
        }
    }

    private static void Claim(string?[] owners, uint page, string tree)
    {
        if (page == 0 || page >= owners.Length)
        {
            throw new InvalidDataException($"{tree} points at page {page}, outside the database's {owners.Length - 1} pages");
        }

        if (owners[page] is { } owner)
        {
            // A page reached twice would loop forever, and means a corrupt file or a database changed under the walk.
            throw new InvalidDataException($"page {page} is reached from both {owner} and {tree}");
        }

        owners[page] = tree;
    }

    /// <summary>
    /// How many bytes of a payload stay on the B-tree page; the rest goes to overflow pages. The rule of the file format:
    /// with X the most a cell keeps locally and M the least it keeps when it spills, a payload P larger than X keeps
    /// M + (P - M) mod (U - 4) bytes if that is at most X, and M bytes otherwise.
    /// </summary>
    internal static int LocalPayload(long payloadSize, int usable, bool tableLeaf)
    {
        var most = tableLeaf ? usable - 35 : ((usable - 12) * 64 / 255) - 23;
        if (payloadSize <= most)
        {
            return (int)payloadSize;
        }

        var least = ((usable - 12) * 32 / 255) - 23;
        var kept = least + (int)((payloadSize - least) % (usable - 4));
        return kept <= most ? kept : least;
    }

    /// <summary>A SQLite varint: 7 bits a byte, high bit first, the ninth byte whole.</summary>
    private static long ReadVarint(byte[] buffer, ref int offset)
    {
        long value = 0;
        for (var i = 0; i < 8; i++)
        {
            var b = buffer[offset++];
            value = (value << 7) | (uint)(b & 0x7f);
            if (b < 0x80)
            {
                return value;
            }
        }

        return (value << 8) | buffer[offset++];
    }

    /// <summary>The columns of a record (https://sqlite.org/fileformat.html, "Record Format"): null, long, double, string or bytes.</summary>
    private static List<object?> RecordColumns(byte[] record, Encoding text)
    {
        var offset = 0;
        var headerSize = (int)ReadVarint(record, ref offset);
        var body = headerSize;
        var columns = new List<object?>();
        while (offset < headerSize)
        {
            var serial = ReadVarint(record, ref offset);
            switch (serial)
            {
                case 0:
                    columns.Add(null);
                    break;
                case >= 1 and <= 6:
                    var size = serial switch { 5 => 6, 6 => 8, _ => (int)serial };
                    long integer = (sbyte)record[body];
                    for (var i = 1; i < size; i++)
                    {
                        integer = (integer << 8) | record[body + i];
                    }

                    columns.Add(integer);
                    body += size;
                    break;
                case 7:
                    columns.Add(BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64BigEndian(record.AsSpan(body))));
                    body += 8;
                    break;
                case 8 or 9:
                    columns.Add((long)(serial - 8));
                    break;
                case >= 12 when serial % 2 == 0:
                    var blob = (int)(serial - 12) / 2;
                    columns.Add(record.AsSpan(body, blob).ToArray());
                    body += blob;
                    break;
                case >= 13:
                    var length = (int)(serial - 13) / 2;
                    columns.Add(text.GetString(record, body, length));
                    body += length;
                    break;
                default:
                    throw new InvalidDataException($"record serial type {serial} is reserved");
            }
        }

        return columns;
    }
}

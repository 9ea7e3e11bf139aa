using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PerfOtel.Collector.Storage.Sqlite;

/// <summary>
/// A SQLite VFS, registered as the process's default, that gathers the frames a connection appends to a WAL file into
/// one buffer and writes them 124 KiB (30 frames) a call, instead of the two <c>pwrite</c> calls SQLite makes per frame
/// (its 24-byte header, then the page). Every other file, and every call other than an appending write, goes to the platform's VFS
/// unchanged.
/// </summary>
/// <remarks>
/// A commit appends a frame per page it changed (about a thousand at full rate, #21), so the writer made about two
/// thousand system calls a commit for the WAL alone (the profile: <c>pwrite</c> of the writer's frames 9 % of the
/// collector's CPU). What keeps this exact (docs/collector/storage.md, "The WAL write buffer"):
/// <list type="bullet">
/// <item>The buffered bytes are written before any other connection can use them: other connections read only frames
/// of commits published in the WAL index, and SQLite publishes a commit after it wrote the commit's last frame (the
/// frame whose header carries the database size). The buffer is written as soon as it holds the end of such a frame,
/// so a commit is in the file (in the kernel's page cache, as with plain writes: it survives the process being killed)
/// before COMMIT returns, and before any other connection can see it.</item>
/// <item>The connection's own other uses of the file see it as SQLite wrote it: a read, sync, truncate, size query, file
/// control or close first writes the buffer; a write that does not continue the buffered bytes writes the buffer
/// first and then goes to the file itself.</item>
/// <item>A failed write of the buffer is SQLite's write error for the call that caused it (the commit fails and rolls
/// back, as if its own write had failed), and the buffered bytes are dropped: nothing was published with them.</item>
/// </list>
/// Only the WAL's appends are gathered: the database file's writes (checkpoints) and the journals go straight through.
/// A WAL file is used by one connection, and SQLite calls a connection's files from one thread at a time, so the buffer
/// needs no lock.
/// </remarks>
internal static unsafe class SqliteWalWriteBuffer
{
    /// <summary>The VFS's name (<c>sqlite3_vfs_find</c> finds it; it is also the default once registered).</summary>
    public const string VfsName = "perfotel-wal-buffer";

    /// <summary>How many bytes a WAL file's buffer holds before it is written: 256 frames of 4 KiB pages.</summary>
    public const int Capacity = 1 << 20;

    /// <summary>The most one call to the platform's write takes: 31 pages of 4 KiB, under os_unix.c's 128 KiB.</summary>
    public const int MaxWrite = 31 * 4096;

    private const int SqliteOk = 0;
    private const int SqliteIoErrWrite = 10 | (3 << 8);
    private const int SqliteIoErrRead = 10 | (1 << 8);
    private const int SqliteOpenWal = 0x00080000;
    private const int FrameHeaderBytes = 24;
    private const int WalHeaderBytes = 32;

    private static readonly object Gate = new();
    private static IntPtr registered;
    private static sqlite3_vfs* platform;
    private static sqlite3_io_methods* walMethods;
    private static long flushes;
    private static long gatheredWrites;

    /// <summary>Whether the VFS is registered in this process.</summary>
    public static bool IsRegistered => registered != IntPtr.Zero;

    /// <summary>Calls to the platform's write made for buffers so far in this process (each one call for many frames).</summary>
    public static long Flushes => Interlocked.Read(ref flushes);

    /// <summary>WAL writes SQLite made that went into a buffer rather than straight to the file.</summary>
    public static long GatheredWrites => Interlocked.Read(ref gatheredWrites);

    /// <summary>
    /// Registers the VFS as the default for connections opened from now on (idempotent). Returns false when the
    /// platform VFS cannot be found (then nothing changes and SQLite writes as before).
    /// </summary>
    public static bool Register()
    {
        lock (Gate)
        {
            if (registered != IntPtr.Zero)
            {
                return true;
            }
            // SQLite initialises itself on this first call; Microsoft.Data.Sqlite's provider is the same library.
            var found = NativeMethods.sqlite3_vfs_find(null);
            // Version 3 (every platform VFS since SQLite 3.7.6): the whole structure below is there to copy.
            if (found == null || found->iVersion < 3)
            {
                return false;
            }
            platform = found;
            var vfs = (sqlite3_vfs*)NativeMemory.AllocZeroed((nuint)sizeof(sqlite3_vfs));
            // Every method but xOpen is the platform's own: they read only the fields copied with them.
            *vfs = *found;
            vfs->pNext = null;
            vfs->zName = (byte*)Marshal.StringToCoTaskMemUTF8(VfsName);
            // Room for the larger of the two layouts: a WAL file is [WalFile][the platform's file], any other file
            // the platform's file alone at the start.
            vfs->szOsFile = found->szOsFile + sizeof(WalFile);
            vfs->xOpen = (IntPtr)(delegate* unmanaged[Cdecl]<sqlite3_vfs*, byte*, sqlite3_file*, int, int*, int>)&Open;

            var methods = (sqlite3_io_methods*)NativeMemory.AllocZeroed((nuint)sizeof(sqlite3_io_methods));
            methods->iVersion = 1;
            methods->xClose = (IntPtr)(delegate* unmanaged[Cdecl]<sqlite3_file*, int>)&Close;
            methods->xRead = (IntPtr)(delegate* unmanaged[Cdecl]<sqlite3_file*, byte*, int, long, int>)&Read;
            methods->xWrite = (IntPtr)(delegate* unmanaged[Cdecl]<sqlite3_file*, byte*, int, long, int>)&Write;
            methods->xTruncate = (IntPtr)(delegate* unmanaged[Cdecl]<sqlite3_file*, long, int>)&Truncate;
            methods->xSync = (IntPtr)(delegate* unmanaged[Cdecl]<sqlite3_file*, int, int>)&Sync;
            methods->xFileSize = (IntPtr)(delegate* unmanaged[Cdecl]<sqlite3_file*, long*, int>)&FileSize;
            methods->xLock = (IntPtr)(delegate* unmanaged[Cdecl]<sqlite3_file*, int, int>)&Lock;
            methods->xUnlock = (IntPtr)(delegate* unmanaged[Cdecl]<sqlite3_file*, int, int>)&Unlock;
            methods->xCheckReservedLock = (IntPtr)(delegate* unmanaged[Cdecl]<sqlite3_file*, int*, int>)&CheckReservedLock;
            methods->xFileControl = (IntPtr)(delegate* unmanaged[Cdecl]<sqlite3_file*, int, void*, int>)&FileControl;
            methods->xSectorSize = (IntPtr)(delegate* unmanaged[Cdecl]<sqlite3_file*, int>)&SectorSize;
            methods->xDeviceCharacteristics = (IntPtr)(delegate* unmanaged[Cdecl]<sqlite3_file*, int>)&DeviceCharacteristics;
            walMethods = methods;

            var rc = NativeMethods.sqlite3_vfs_register(vfs, 1);
            if (rc != SqliteOk)
            {
                throw new InvalidOperationException($"sqlite3_vfs_register failed with SQLite error {rc}");
            }
            registered = (IntPtr)vfs;
            return true;
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Open(sqlite3_vfs* vfs, byte* name, sqlite3_file* file, int flags, int* outFlags)
    {
        var open = (delegate* unmanaged[Cdecl]<sqlite3_vfs*, byte*, sqlite3_file*, int, int*, int>)platform->xOpen;
        if ((flags & SqliteOpenWal) == 0)
        {
            // Not a WAL: the platform's file at the start of the space, with the platform's methods; never seen again.
            return open(platform, name, file, flags, outFlags);
        }
        var wal = (WalFile*)file;
        *wal = default;
        wal->Frontier = -1;
        var real = (sqlite3_file*)(wal + 1);
        real->pMethods = null;
        var rc = open(platform, name, real, flags, outFlags);
        // SQLite calls xClose whenever pMethods is set, even after a failed open: set it exactly when the platform did.
        if (real->pMethods != null)
        {
            wal->Real = real;
            wal->Base.pMethods = walMethods;
        }
        return rc;
    }

    private static sqlite3_io_methods* RealMethods(WalFile* wal) => wal->Real->pMethods;

    /// <summary>Writes the buffered bytes; false (and the bytes dropped) when the platform's write failed.</summary>
    private static bool Flush(WalFile* wal, out int rc)
    {
        rc = SqliteOk;
        if (wal->Length == 0)
        {
            return true;
        }
        var write = (delegate* unmanaged[Cdecl]<sqlite3_file*, byte*, int, long, int>)RealMethods(wal)->xWrite;
        // The platform's write takes at most 128 KiB - 1 at a time (os_unix.c masks the length with 0x1ffff): in pieces.
        for (var done = 0; done < wal->Length && rc == SqliteOk; done += MaxWrite)
        {
            rc = write(wal->Real, wal->Data + done, Math.Min(MaxWrite, wal->Length - done), wal->Start + done);
            Interlocked.Increment(ref flushes);
        }
        wal->Length = 0;
        return rc == SqliteOk;
    }

    private static int FlushOr(WalFile* wal, int failure) => Flush(wal, out var rc) ? SqliteOk : (rc == SqliteOk ? failure : rc);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Write(sqlite3_file* file, byte* data, int amount, long offset)
    {
        var wal = (WalFile*)file;
        int rc;
        if (wal->Frontier < 0)
        {
            // The first write through this handle: what the file holds already counts as written.
            long size;
            rc = ((delegate* unmanaged[Cdecl]<sqlite3_file*, long*, int>)RealMethods(wal)->xFileSize)(wal->Real, &size);
            if (rc != SqliteOk)
            {
                return rc;
            }
            wal->Frontier = size;
        }
        if (offset == 0 && amount >= WalHeaderBytes)
        {
            // The WAL header: the log restarts from its beginning, and its page size is the frames' from now on.
            wal->PageSize = (int)BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(data + 8, 4));
            wal->CommitEnd = 0;
            rc = WriteThrough(wal, data, amount, offset);
            wal->Frontier = amount;
            return rc;
        }
        // A write that starts a frame (SQLite writes the 24-byte header, then the page): a header whose database size
        // is not zero ends a commit, and the commit ends with that frame's page.
        var pageSize = PageSize(wal);
        if (pageSize <= 0)
        {
            return SqliteIoErrWrite;
        }
        if ((offset - WalHeaderBytes) % (FrameHeaderBytes + pageSize) == 0 && amount >= 8
            && BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(data + 4, 4)) != 0)
        {
            wal->CommitEnd = Math.Max(wal->CommitEnd, offset + FrameHeaderBytes + pageSize);
        }
        if (offset < wal->Frontier || amount > MaxWrite)
        {
            // Not an append: SQLite rewrites a frame of the open transaction, or a header's checksums after the
            // commit frame (walRewriteChecksums). To the file at once, after what is buffered, so that nothing is
            // left behind in the buffer once the commit is published.
            rc = WriteThrough(wal, data, amount, offset);
            if (rc == SqliteOk && wal->CommitEnd != 0 && wal->CommitEnd <= wal->Frontier)
            {
                // Everything up to the commit's end is in the file: the buffer was written before this write.
                wal->CommitEnd = 0;
            }
            return rc;
        }
        var continues = wal->Length > 0 && offset == wal->Start + wal->Length;
        if (wal->Length > 0 && (!continues || wal->Length + amount > Capacity) && (rc = FlushOr(wal, SqliteIoErrWrite)) != SqliteOk)
        {
            return rc;
        }
        if (wal->Data == null)
        {
            wal->Data = (byte*)NativeMemory.Alloc(Capacity);
        }
        if (wal->Length == 0)
        {
            wal->Start = offset;
        }
        new ReadOnlySpan<byte>(data, amount).CopyTo(new Span<byte>(wal->Data + wal->Length, amount));
        wal->Length += amount;
        wal->Frontier = Math.Max(wal->Frontier, offset + amount);
        Interlocked.Increment(ref gatheredWrites);

        if (wal->CommitEnd != 0 && offset + amount >= wal->CommitEnd)
        {
            wal->CommitEnd = 0;
            return FlushOr(wal, SqliteIoErrWrite);
        }
        return SqliteOk;
    }

    /// <summary>Writes the buffer, then <paramref name="data"/> straight to the file.</summary>
    private static int WriteThrough(WalFile* wal, byte* data, int amount, long offset)
    {
        var rc = FlushOr(wal, SqliteIoErrWrite);
        if (rc != SqliteOk)
        {
            return rc;
        }
        rc = ((delegate* unmanaged[Cdecl]<sqlite3_file*, byte*, int, long, int>)RealMethods(wal)->xWrite)(wal->Real, data, amount, offset);
        if (rc == SqliteOk)
        {
            wal->Frontier = Math.Max(wal->Frontier, offset + amount);
        }
        return rc;
    }

    /// <summary>The WAL's page size: from its header as last written here, else as the file holds it.</summary>
    private static int PageSize(WalFile* wal)
    {
        if (wal->PageSize > 0)
        {
            return wal->PageSize;
        }
        if (Flush(wal, out _))
        {
            var header = stackalloc byte[WalHeaderBytes];
            var read = (delegate* unmanaged[Cdecl]<sqlite3_file*, byte*, int, long, int>)RealMethods(wal)->xRead;
            if (read(wal->Real, header, WalHeaderBytes, 0) == SqliteOk)
            {
                wal->PageSize = (int)BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(header + 8, 4));
            }
        }
        return wal->PageSize;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Close(sqlite3_file* file)
    {
        var wal = (WalFile*)file;
        var flushed = FlushOr(wal, SqliteIoErrWrite);
        if (wal->Data != null)
        {
            NativeMemory.Free(wal->Data);
            wal->Data = null;
        }
        var close = (delegate* unmanaged[Cdecl]<sqlite3_file*, int>)RealMethods(wal)->xClose;
        var rc = close(wal->Real);
        return flushed != SqliteOk ? flushed : rc;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Read(sqlite3_file* file, byte* data, int amount, long offset)
    {
        var wal = (WalFile*)file;
        var rc = FlushOr(wal, SqliteIoErrRead);
        return rc != SqliteOk
            ? rc
            : ((delegate* unmanaged[Cdecl]<sqlite3_file*, byte*, int, long, int>)RealMethods(wal)->xRead)(wal->Real, data, amount, offset);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Truncate(sqlite3_file* file, long size)
    {
        var wal = (WalFile*)file;
        var rc = FlushOr(wal, SqliteIoErrWrite);
        if (rc == SqliteOk)
        {
            rc = ((delegate* unmanaged[Cdecl]<sqlite3_file*, long, int>)RealMethods(wal)->xTruncate)(wal->Real, size);
            wal->Frontier = Math.Min(wal->Frontier, size);
        }
        return rc;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Sync(sqlite3_file* file, int flags)
    {
        var wal = (WalFile*)file;
        var rc = FlushOr(wal, SqliteIoErrWrite);
        return rc != SqliteOk ? rc : ((delegate* unmanaged[Cdecl]<sqlite3_file*, int, int>)RealMethods(wal)->xSync)(wal->Real, flags);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int FileSize(sqlite3_file* file, long* size)
    {
        var wal = (WalFile*)file;
        var rc = FlushOr(wal, SqliteIoErrWrite);
        return rc != SqliteOk ? rc : ((delegate* unmanaged[Cdecl]<sqlite3_file*, long*, int>)RealMethods(wal)->xFileSize)(wal->Real, size);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Lock(sqlite3_file* file, int level)
    {
        var wal = (WalFile*)file;
        return ((delegate* unmanaged[Cdecl]<sqlite3_file*, int, int>)RealMethods(wal)->xLock)(wal->Real, level);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Unlock(sqlite3_file* file, int level)
    {
        var wal = (WalFile*)file;
        return ((delegate* unmanaged[Cdecl]<sqlite3_file*, int, int>)RealMethods(wal)->xUnlock)(wal->Real, level);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int CheckReservedLock(sqlite3_file* file, int* result)
    {
        var wal = (WalFile*)file;
        return ((delegate* unmanaged[Cdecl]<sqlite3_file*, int*, int>)RealMethods(wal)->xCheckReservedLock)(wal->Real, result);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int FileControl(sqlite3_file* file, int op, void* argument)
    {
        var wal = (WalFile*)file;
        var rc = FlushOr(wal, SqliteIoErrWrite);
        return rc != SqliteOk ? rc : ((delegate* unmanaged[Cdecl]<sqlite3_file*, int, void*, int>)RealMethods(wal)->xFileControl)(wal->Real, op, argument);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SectorSize(sqlite3_file* file)
    {
        var wal = (WalFile*)file;
        return ((delegate* unmanaged[Cdecl]<sqlite3_file*, int>)RealMethods(wal)->xSectorSize)(wal->Real);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int DeviceCharacteristics(sqlite3_file* file)
    {
        var wal = (WalFile*)file;
        return ((delegate* unmanaged[Cdecl]<sqlite3_file*, int>)RealMethods(wal)->xDeviceCharacteristics)(wal->Real);
    }

    // sqlite3.h's structures, as laid out on the platforms .NET runs on (pointers and ints at their natural alignment).
#pragma warning disable IDE1006, SA1307, CA1707 // SQLite's own field names
    [StructLayout(LayoutKind.Sequential)]
    private struct sqlite3_file
    {
        public sqlite3_io_methods* pMethods;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct sqlite3_io_methods
    {
        public int iVersion;
        public IntPtr xClose;
        public IntPtr xRead;
        public IntPtr xWrite;
        public IntPtr xTruncate;
        public IntPtr xSync;
        public IntPtr xFileSize;
        public IntPtr xLock;
        public IntPtr xUnlock;
        public IntPtr xCheckReservedLock;
        public IntPtr xFileControl;
        public IntPtr xSectorSize;
        public IntPtr xDeviceCharacteristics;
        public IntPtr xShmMap;
        public IntPtr xShmLock;
        public IntPtr xShmBarrier;
        public IntPtr xShmUnmap;
        public IntPtr xFetch;
        public IntPtr xUnfetch;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct sqlite3_vfs
    {
        public int iVersion;
        public int szOsFile;
        public int mxPathname;
        public sqlite3_vfs* pNext;
        public byte* zName;
        public IntPtr pAppData;
        public IntPtr xOpen;
        public IntPtr xDelete;
        public IntPtr xAccess;
        public IntPtr xFullPathname;
        public IntPtr xDlOpen;
        public IntPtr xDlError;
        public IntPtr xDlSym;
        public IntPtr xDlClose;
        public IntPtr xRandomness;
        public IntPtr xSleep;
        public IntPtr xCurrentTime;
        public IntPtr xGetLastError;
        public IntPtr xCurrentTimeInt64;
        public IntPtr xSetSystemCall;
        public IntPtr xGetSystemCall;
        public IntPtr xNextSystemCall;
    }
#pragma warning restore IDE1006, SA1307, CA1707

    /// <summary>A WAL file as SQLite holds it: our methods first, then the buffer's state; the platform's file follows.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct WalFile
    {
        public sqlite3_file Base;
        public sqlite3_file* Real;
        public byte* Data;
        public long Start;
        public int Length;
        public int PageSize;
        public long CommitEnd;

        /// <summary>The end of what this handle wrote since the log last restarted (-1: not known yet): a write below
        /// it rewrites bytes already written, one at or beyond it appends.</summary>
        public long Frontier;
    }

    private static class NativeMethods
    {
        [DllImport("e_sqlite3", CallingConvention = CallingConvention.Cdecl)]
        public static extern sqlite3_vfs* sqlite3_vfs_find(byte* name);

        [DllImport("e_sqlite3", CallingConvention = CallingConvention.Cdecl)]
        public static extern int sqlite3_vfs_register(sqlite3_vfs* vfs, int makeDefault);
    }
}

using SQLitePCL;

namespace PerfOtel.Collector.Storage.Sqlite;

/// <summary>
/// Puts the process's SQLite library into multi-thread mode before it initialises. The bundled e_sqlite3 is built
/// serialized: every connection then has a mutex that each <c>sqlite3_bind_*</c>, <c>step</c>, <c>reset</c> and column
/// read takes and releases, a lock pair per call that the store never needs, since none of its connections is used by
/// two threads at once: the single writer belongs to the writer loop (one operation after another, whatever thread
/// its continuation runs on), and each read opens its own pooled connection, which the pool hands to one reader at a
/// time. Multi-thread mode keeps SQLite's own shared state (the memory allocator, the page-cache and VFS lists)
/// locked; only the per-connection mutex goes. Memory statistics are switched off too: they put a global mutex
/// around every allocation and free. Microsoft.Data.Sqlite opens its connections without
/// <c>SQLITE_OPEN_FULLMUTEX</c>, so they take the library's mode.
/// </summary>
/// <remarks>
/// <c>sqlite3_config</c> works only before SQLite initialises (the first connection opened in the process does that):
/// every store calls <see cref="Configure"/> in its constructor, before it opens anything. If some
/// other code in the process opened a SQLite connection first, the mode stays serialized (correct, only slower) and
/// <see cref="MultiThread"/> says so.
/// </remarks>
internal static class SqliteThreading
{
    private static readonly Lazy<bool> Result = new(Apply, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Whether this process's SQLite runs in multi-thread mode (no per-connection mutex).</summary>
    public static bool MultiThread => Result.Value;

    /// <summary>
    /// Sets multi-thread mode if SQLite has not initialised yet, then registers the WAL write buffer
    /// (<see cref="SqliteWalWriteBuffer"/>) as the default VFS, which initialises SQLite; idempotent.
    /// </summary>
    public static void Configure()
    {
        _ = Result.Value;
        SqliteWalWriteBuffer.Register();
    }

    private static bool Apply()
    {
        // What Microsoft.Data.Sqlite's own type initializer does: load e_sqlite3 and register it with SQLitePCLRaw.
        Batteries_V2.Init();
        // SQLITE_MISUSE when SQLite has initialised already: the mode then stays what it was.
        if (raw.sqlite3_config(raw.SQLITE_CONFIG_MULTITHREAD) != raw.SQLITE_OK)
        {
            return false;
        }

        // Without memory statistics: with them every sqlite3_malloc and sqlite3_free takes the allocator's global
        // mutex (a statement's step frees its registers through it), the lock pair left in the writer's path once
        // the connections have none. Nothing here reads sqlite3_memory_used or sets a soft heap limit.
        return raw.sqlite3_config(raw.SQLITE_CONFIG_MEMSTATUS, 0) == raw.SQLITE_OK;
    }
}

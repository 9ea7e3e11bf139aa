using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Storage.Sqlite;

/// <summary>
/// Copies the WAL into the database file on a thread and a connection of its own, beside the writer, instead of inside
/// one commit in every few (SQLite's automatic checkpoint, which the store turns off). A passive checkpoint runs beside
/// a writer by SQLite's design: it copies the pages committed before it began while the writer appends new ones.
/// </summary>
/// <remarks>
/// <para>
/// It keeps <c>full</c>'s promise as SQLite's own checkpoint did (<see cref="SqliteWalSync"/>'s remarks): its connection
/// runs at <c>synchronous=NORMAL</c>, so each checkpoint syncs the WAL before copying and the database file after, before
/// it records the pages as copied; only then may the writer restart the WAL over them.
/// </para>
/// <para>
/// The WAL restarts from its beginning when the writer begins a transaction with every page of it copied. A checkpoint
/// that ends while the writer is inside its next transaction leaves that transaction's pages behind, so the writer asks
/// for the next pass as soon as this one ended while a backlog remains: each pass copies what was committed during the
/// one before, fewer pages each time, and once only a few commits' pages are left the writer copies them itself at its
/// next idle moment (<see cref="CheckpointOnWriter"/>), so that its next transaction restarts the WAL. When the writer
/// never idles and the WAL reaches its bound, the writer copies what is left there, whatever it is.
/// </para>
/// </remarks>
internal sealed class SqliteCheckpointer : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly SqliteWalIndex _walIndex;
    private readonly CollectorMetrics? _metrics;
    private readonly ILogger _logger;
    private readonly Action? _beforePassForTests;
    private readonly Action? _beforeCopyForTests;
    private readonly object _gate = new();
    // Held across each checkpoint of the store, the checkpointer's and the writer's (see Checkpoint).
    private readonly object _copying = new();
    private readonly Thread _thread;
    private bool _requested;
    private bool _running;
    private bool _stopping;
    private long _passes;

    /// <param name="connectionString">A read-write connection to the store's database.</param>
    /// <param name="walIndex">The store's reader of the WAL-index header (pages in the WAL, pages copied).</param>
    /// <param name="metrics">Records each pass's duration and pages (null: none).</param>
    /// <param name="logger">Where a failed pass is reported.</param>
    /// <param name="beforePassForTests">Runs on the thread before each pass: a test can hold the checkpointer with it.</param>
    /// <param name="beforeCopyForTests">Runs on the thread inside each pass, after it read the backfill mark and before
    /// its PRAGMA: a test can hold a pass there while the writer reaches its bound.</param>
    public SqliteCheckpointer(string connectionString, SqliteWalIndex walIndex, CollectorMetrics? metrics, ILogger logger,
        Action? beforePassForTests = null, Action? beforeCopyForTests = null)
    {
        _beforeCopyForTests = beforeCopyForTests;
        _walIndex = walIndex;
        _metrics = metrics;
        _logger = logger;
        _beforePassForTests = beforePassForTests;
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        using (var command = _connection.CreateCommand())
        {
            // NORMAL: the checkpoint syncs the WAL before it copies and the database file before it records the copy.
            // The cache stays small: a checkpoint copies through its own buffer, not the page cache.
            command.CommandText = "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-1024; PRAGMA wal_autocheckpoint=0";
            command.ExecuteNonQuery();
        }
        _thread = new Thread(Run) { IsBackground = true, Name = "SQLite checkpointer" };
        _thread.Start();
    }

    /// <summary>Checkpoints this thread has run (each copies what the WAL held when it began).</summary>
    public long Passes => Interlocked.Read(ref _passes);

    /// <summary>WAL frames the store's checkpoints copied, the checkpointer's and the writer's (the pages counters' sum).</summary>
    public long FramesCopied => Interlocked.Read(ref _framesCopied);

    private long _framesCopied;

    /// <summary>Whether a pass runs or was asked for.</summary>
    public bool Busy
    {
        get
        {
            lock (_gate)
            {
                return _running || _requested;
            }
        }
    }

    /// <summary>Asks for a pass; false (ignored) while one is running or already asked for.</summary>
    public bool Request()
    {
        lock (_gate)
        {
            if (_running || _requested || _stopping)
            {
                return false;
            }
            _requested = true;
            Monitor.Pulse(_gate);
            return true;
        }
    }

    /// <summary>
    /// A copy by the writer (<see cref="CheckpointBy.Writer"/> at the WAL's bound, <see cref="CheckpointBy.WriterIdle"/>
    /// of a small remainder in an idle moment), on its own connection: false, with
    /// nothing copied or recorded, while the checkpointer's pass runs (the writer's next commit tries again).
    /// </summary>
    public bool CheckpointOnWriter(SqliteConnection writerConnection, string by)
    {
        if (!Monitor.TryEnter(_copying))
        {
            return false;
        }
        try
        {
            return Checkpoint(writerConnection, by, beforeCopy: null);
        }
        finally
        {
            Monitor.Exit(_copying);
        }
    }

    /// <summary>
    /// Runs a passive checkpoint on <paramref name="connection"/>: copies every WAL page committed before it began that
    /// no reader still needs. Records its duration and the WAL frames it copied under <paramref name="by"/>; false, with
    /// nothing recorded, when another connection's checkpoint was running (SQLite then copies nothing). The caller holds
    /// the store's copy lock (<see cref="_copying"/>), so no other checkpoint of the store advances the backfill mark
    /// between the read of it here and the PRAGMA: what the mark advanced by is what this checkpoint copied.
    /// </summary>
    private bool Checkpoint(SqliteConnection connection, string by, Action? beforeCopy)
    {
        var before = _walIndex.Read();
        beforeCopy?.Invoke();
        var started = Stopwatch.GetTimestamp();
        long copied;
        using (var command = connection.CreateCommand())
        {
            command.CommandText = "PRAGMA wal_checkpoint(PASSIVE)";
            using var reader = command.ExecuteReader();
            reader.Read();
            // busy (another checkpoint held SQLite's checkpoint lock), pages in the WAL, pages of it copied so far.
            if (reader.GetInt64(0) != 0)
            {
                return false;
            }
            copied = reader.GetInt64(2);
        }
        // The writer restarts the WAL (a new generation, its backfill mark back at 0) only when every frame was copied:
        // if that happened since the read above, this checkpoint copied the new WAL's frames from its beginning.
        var frames = Math.Max(0, before is { } mark && _walIndex.Read()?.Generation == mark.Generation ? copied - mark.Copied : copied);
        Interlocked.Add(ref _framesCopied, frames);
        _metrics?.StoreCheckpoint(by, Stopwatch.GetElapsedTime(started).TotalSeconds, frames);
        return true;
    }

    private void Run()
    {
        while (true)
        {
            lock (_gate)
            {
                while (!_requested && !_stopping)
                {
                    Monitor.Wait(_gate);
                }
                if (_stopping)
                {
                    return;
                }
                _requested = false;
                _running = true;
            }

            var done = false;
            try
            {
                _beforePassForTests?.Invoke();
                lock (_copying)
                {
                    done = Checkpoint(_connection, CheckpointBy.Checkpointer, _beforeCopyForTests);
                }
            }
#pragma warning disable CA1031 // A failed checkpoint leaves the pages in the WAL (still durable there); the next pass or the writer retries.
            catch (Exception error)
#pragma warning restore CA1031
            {
                _logger.LogWarning(error, "SQLite checkpoint beside the writer failed; the pages stay in the WAL and are copied later");
            }
            finally
            {
                lock (_gate)
                {
                    // Counted as the thread becomes free again, so whoever sees the count can ask for the next pass.
                    _running = false;
                    if (done)
                    {
                        Interlocked.Increment(ref _passes);
                    }
                }
            }
        }
    }

    /// <summary>Ends the thread after the pass running, if any, and closes its connection (before the writer's closes).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.Pulse(_gate);
        }
        _thread.Join();
        _connection.Dispose();
    }
}

using System.Diagnostics;

namespace PerfOtel.Collector.Storage.Sqlite;

/// <summary>
/// Durability <c>full</c> with the fsync off the writer's path: the writer commits with <c>synchronous=NORMAL</c> (no
/// sync inside COMMIT) and asks for a flush of the WAL after each commit returned; this thread flushes the WAL file
/// once for every commit asked for since its previous flush began, and only then are those commits' callers told they
/// are stored. Meanwhile the writer builds and commits the next transaction.
/// </summary>
/// <remarks>
/// Why a flush issued after COMMIT returned makes the commit durable, whatever SQLite did in between
/// (docs/collector/storage.md, "Acknowledgment and durability"):
/// <list type="bullet">
/// <item>If the commit's frames are still in the WAL, the flush of the WAL file puts them on disk, with every frame
/// before them (SQLite's recovery replays the WAL's frames in order up to the first one whose cumulative checksum
/// fails, so a commit is never recovered without the commits before it).</item>
/// <item>If a checkpoint copied them into the database file before the flush, SQLite (at <c>synchronous=NORMAL</c>)
/// synced the WAL before copying and the database file after, before it recorded the copy as done; only a completed
/// copy lets a later writer restart the WAL from its beginning and overwrite those frames. So the commit is on disk in
/// the database file, and the flush of the restarted WAL is merely redundant for it.</item>
/// <item>If the WAL file is gone (the last connection closed after a full checkpoint), that checkpoint synced the
/// database file: nothing is left to flush.</item>
/// </list>
/// A failed flush fails every commit waiting for it and every later one: after a failed fsync the kernel may have
/// dropped the dirty pages and report the next fsync as clean, so nothing after it is acknowledged (the senders get
/// 503 and retry; a restart recovers what is on disk).
/// </remarks>
internal sealed class SqliteWalSync : IDisposable
{
    private readonly string _walPath;
    private readonly Action<string> _flush;
    private readonly Action<double>? _flushed;
    private readonly object _gate = new();
    private readonly Thread _thread;
    private TaskCompletionSource _round = NewRound();
    private bool _requested;
    private bool _stopping;
    private Exception? _failure;

    /// <param name="walPath">The database's <c>-wal</c> file.</param>
    /// <param name="flush">Flushes a file to disk (tests pass one they can hold); default: fsync of the file.</param>
    /// <param name="flushed">Told each successful flush's duration in seconds (the self-metric).</param>
    public SqliteWalSync(string walPath, Action<string>? flush = null, Action<double>? flushed = null)
    {
        _walPath = walPath;
        _flush = flush ?? FlushToDisk;
        _flushed = flushed;
        _thread = new Thread(Run) { IsBackground = true, Name = "SQLite WAL sync" };
        _thread.Start();
    }

    /// <summary>Flushes performed so far (each covers every commit asked for before it began).</summary>
    public long Flushes => Interlocked.Read(ref _flushes);

    private long _flushes;

    /// <summary>
    /// Called after a COMMIT returned: completes once a flush that began after this call finished, so it covers that
    /// commit and every one before it.
    /// </summary>
    public Task AfterCommit()
    {
        lock (_gate)
        {
            if (_failure is not null)
            {
                return Task.FromException(_failure);
            }
            _requested = true;
            Monitor.Pulse(_gate);
            return _round.Task;
        }
    }

    private void Run()
    {
        while (true)
        {
            TaskCompletionSource round;
            lock (_gate)
            {
                while (!_requested && !_stopping)
                {
                    Monitor.Wait(_gate);
                }
                if (!_requested)
                {
                    return;
                }
                round = _round;
                _round = NewRound();
                _requested = false;
            }

            try
            {
                var started = Stopwatch.GetTimestamp();
                _flush(_walPath);
                _flushed?.Invoke(Stopwatch.GetElapsedTime(started).TotalSeconds);
                Interlocked.Increment(ref _flushes);
                round.TrySetResult();
            }
#pragma warning disable CA1031 // Any failure of the flush fails the commits waiting for it; the thread must answer them.
            catch (Exception error)
#pragma warning restore CA1031
            {
                var failure = new SqliteWriteFailedException(
                    "The store committed the write but could not flush it to disk; nothing more is acknowledged.", error);
                lock (_gate)
                {
                    _failure = failure;
                    _round.TrySetException(failure);
                }
                round.TrySetException(failure);
            }
        }
    }

    private static void FlushToDisk(string path)
    {
        FileStream file;
        try
        {
            // Opened for writing only because .NET flushes to disk only a writable stream; nothing is written.
            file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete,
                bufferSize: 0);
        }
        catch (FileNotFoundException)
        {
            return;
        }
        using (file)
        {
            file.Flush(flushToDisk: true);
        }
    }

    private static TaskCompletionSource NewRound() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Flushes what was asked for, then ends the thread.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.Pulse(_gate);
        }
        _thread.Join();
    }
}

using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage.Sqlite;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Storage;

/// <summary>
/// Durability <c>full</c> on SQLite: the writer commits without a sync inside COMMIT and a flush of the WAL begun after
/// the commit makes it durable; callers are answered only after that flush, while the writer goes on committing.
/// The flush is the test's, so that it can be held or failed; the real fsync is what every other SQLite test (and the
/// process-level SIGKILL test) runs.
/// </summary>
[Collection(HeavyStoreCollection.Name)]
public sealed class SqliteWalFlushTests : IAsyncDisposable
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "perfotel-walflush-" + Guid.NewGuid().ToString("N"));
    private readonly SemaphoreSlim _flushGate = new(0);
    private readonly List<long> _committedAtFlushStart = [];
    private SqliteExecutionStore? _store;
    private Exception? _flushFailure;

    private SqliteExecutionStore Store => _store!;

    private async Task OpenAsync(bool fullDurability = true)
    {
        _store = new SqliteExecutionStore(_directory, fullDurability, logger: null, SqliteExecutionStore.DefaultCacheMiB,
            flushForTests: path =>
            {
                Assert.EndsWith("-wal", path, StringComparison.Ordinal);
                lock (_committedAtFlushStart)
                {
                    _committedAtFlushStart.Add(_store!.CommittedTransactions);
                }
                if (_flushFailure is { } failure)
                {
                    throw failure;
                }
                Assert.True(_flushGate.Wait(Patience), "the test never released the flush");
            });
        await _store.InitializeAsync(CancellationToken.None);
    }

    [Fact]
    public async Task AWriteIsAnsweredOnlyAfterAFlushBegunAfterItsCommit_AndTheWriterCommitsTheNextMeanwhile()
    {
        await OpenAsync();
        var first = Store.WriteAsync(TestRecords.Batch(TestRecords.Invocation()), CancellationToken.None);
        await Eventually.Until(() => FlushesStarted == 1, "the first commit's flush to begin");

        // The first flush is held: the writer still commits the second write, and neither caller is answered.
        var second = Store.WriteAsync(TestRecords.Batch(TestRecords.Invocation()), CancellationToken.None);
        await Eventually.Until(() => Store.CommittedTransactions == 2, "the second commit while the first flush is held");
        await Task.Delay(100);
        Assert.False(first.IsCompleted, "the first write was answered before its commit was flushed");
        Assert.False(second.IsCompleted, "the second write was answered before its commit was flushed");

        // Releasing the first flush answers the first write only: the second committed after that flush began.
        _flushGate.Release();
        await first.WaitAsync(Patience);
        await Task.Delay(100);
        Assert.False(second.IsCompleted, "the second write was answered by a flush begun before its commit");

        _flushGate.Release();
        await second.WaitAsync(Patience);
        Assert.Equal([1L, 2L], Flushes());
    }

    [Fact]
    public async Task WritesAskedForWhileAFlushRunsShareTheNextFlush()
    {
        await OpenAsync();
        var first = Store.WriteAsync(TestRecords.Batch(TestRecords.Invocation()), CancellationToken.None);
        await Eventually.Until(() => FlushesStarted == 1, "the first commit's flush to begin");

        var later = Enumerable.Range(0, 20)
            .Select(_ => Store.WriteAsync(TestRecords.Batch(TestRecords.Invocation()), CancellationToken.None)).ToArray();
        // Committed is visible to readers before it is flushed (nobody has been answered yet).
        await Eventually.Until(() => VisibleInvocations() == 21, "every later write to commit");

        _flushGate.Release(2);
        await Task.WhenAll(later.Append(first)).WaitAsync(Patience);
        // One flush for the first commit, one for everything committed while it ran.
        Assert.Equal(2, FlushesStarted);
        Assert.Equal(Store.CommittedTransactions, Flushes()[1]);
    }

    [Fact]
    public async Task AFailedFlushFailsTheWritesWaitingForIt_AndEveryLaterOne()
    {
        _flushFailure = new IOException("fsync: Input/output error");
        await OpenAsync();
        var invocation = TestRecords.Invocation();

        var failed = await Assert.ThrowsAsync<SqliteWriteFailedException>(
            () => Store.WriteAsync(TestRecords.Batch(invocation), CancellationToken.None).WaitAsync(Patience));
        Assert.Contains("could not flush it to disk", failed.Message, StringComparison.Ordinal);
        Assert.Same(_flushFailure, failed.InnerException);

        // The kernel may report the next fsync clean after a failed one: nothing later is acknowledged either.
        await Assert.ThrowsAsync<SqliteWriteFailedException>(
            () => Store.WriteAsync(TestRecords.Batch(TestRecords.Invocation()), CancellationToken.None).WaitAsync(Patience));
        Assert.Equal(1, FlushesStarted);
    }

    [Fact]
    public async Task DurabilityNormalFlushesNothingBeyondSqlite()
    {
        await OpenAsync(fullDurability: false);
        await Store.WriteAsync(TestRecords.Batch(TestRecords.Invocation()), CancellationToken.None).WaitAsync(Patience);
        Assert.Equal(0, FlushesStarted);
    }

    [Fact]
    public async Task WriteCommittedAsync_AnswersAtCommitWithTheFlushToWaitFor()
    {
        await OpenAsync();
        var invocation = TestRecords.Invocation();
        var committed = await Store.WriteCommittedAsync(TestRecords.Batch(invocation), CancellationToken.None)
            .WaitAsync(Patience);

        Assert.Equal([invocation.SpanId], committed.Stored.Invocations.Select(i => i.SpanId));
        await Task.Delay(100);
        Assert.False(committed.Durable.IsCompleted, "durable before its flush ended");

        _flushGate.Release();
        await committed.Durable.WaitAsync(Patience);
    }

    private int FlushesStarted
    {
        get { lock (_committedAtFlushStart) { return _committedAtFlushStart.Count; } }
    }

    private List<long> Flushes()
    {
        lock (_committedAtFlushStart)
        {
            return [.. _committedAtFlushStart];
        }
    }

    private int VisibleInvocations()
    {
        var count = 0;
        var read = Task.Run(async () =>
        {
            await foreach (var _ in Store.ReadInvocationsAsync(new InvocationQuery(), CancellationToken.None))
            {
                count++;
            }
        });
        read.Wait(Patience);
        return count;
    }

    public async ValueTask DisposeAsync()
    {
        _flushGate.Release(100);
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
        _flushGate.Dispose();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}

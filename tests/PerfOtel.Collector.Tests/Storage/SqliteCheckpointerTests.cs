using System.Diagnostics.Metrics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage.Sqlite;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Exporter;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Storage;

/// <summary>
/// SQLite's checkpoints run beside the writer (<see cref="SqliteCheckpointer"/>), not inside a commit: the writer goes
/// on committing while the checkpointer is held, copies what is left itself at the WAL's bound (so the WAL stays
/// bounded), a pass that leaves a backlog is followed by the next at once, a small remainder is copied by the idle
/// writer so that its next transaction restarts the WAL, every frame written is counted as copied once, and nothing
/// committed is lost.
/// Small thresholds (tens of pages) so that a few hundred records cross them; the real fsync throughout.
/// </summary>
[Collection(HeavyStoreCollection.Name)]
public sealed class SqliteCheckpointerTests : IAsyncDisposable
{
    private const int Pages = 40;
    private const int BoundPages = 160;
    private const int InvocationsPerWrite = 40;

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "perfotel-checkpoint-" + Guid.NewGuid().ToString("N"));
    private readonly ManualResetEventSlim _release = new(initialState: true);
    private readonly ManualResetEventSlim _asked = new();
    private readonly ManualResetEventSlim _copyRelease = new(initialState: true);
    private readonly ManualResetEventSlim _copyReached = new();
    private SqliteExecutionStore? _store;
    private int _written;

    private SqliteExecutionStore Store => _store!;

    private async Task OpenAsync(int boundPages, CollectorMetrics? metrics = null, int pages = Pages, int? remainderPages = null)
    {
        _store = new SqliteExecutionStore(_directory, fullDurability: true, logger: null, SqliteExecutionStore.DefaultCacheMiB,
            flushForTests: null, new SqliteCheckpointSettings(pages, boundPages, () =>
            {
                _asked.Set();
                Assert.True(_release.Wait(Eventually.Patience), "the test never released the checkpointer");
            }, () =>
            {
                _copyReached.Set();
                Assert.True(_copyRelease.Wait(Eventually.Patience), "the test never released the checkpointer's copy");
            }) { RemainderPages = remainderPages ?? Math.Max(1, pages / 8) }, metrics);
        await _store.InitializeAsync(CancellationToken.None);
    }

    /// <summary>
    /// Holds a reader's snapshot at the WAL as it is, writes until the WAL holds <paramref name="pages"/> pages, waits
    /// for the checkpointer's pass of that backlog (which copies up to the snapshot only, as a pass leaves behind the
    /// commits made while it runs), then lets the snapshot go.
    /// </summary>
    private async Task PassOfTheBacklogBehindAReaderAsync(int pages)
    {
        var reader = new SqliteConnection($"Data Source={Store.DatabasePath};Mode=ReadOnly;Pooling=False");
        await reader.OpenAsync();
        var snapshot = reader.BeginTransaction();
        using (var read = reader.CreateCommand())
        {
            read.Transaction = snapshot;
            read.CommandText = "SELECT count(*) FROM invocations";
            Assert.Equal((long)_written, (long)read.ExecuteScalar()!);
        }
        while (await WriteAsync() < pages)
        {
        }
        await Eventually.Until(() => Store.CheckpointerPasses == 1 && !Store.CheckpointerBusy, "the checkpointer's pass of the backlog");
        snapshot.Dispose();
        await reader.DisposeAsync();
    }

    /// <summary>One write of random-keyed invocations (each touches index pages all over the file); the WAL's pages after it.</summary>
    private async Task<long> WriteAsync()
    {
        var batch = TestRecords.Batch([.. Enumerable.Range(0, InvocationsPerWrite).Select(_ => (object)TestRecords.Invocation())]);
        await Store.WriteAsync(batch, CancellationToken.None).WaitAsync(Eventually.Patience);
        _written += InvocationsPerWrite;
        return Store.WalPages ?? throw new InvalidOperationException("the WAL index was not read");
    }

    [Fact]
    public async Task WithTheCheckpointerHeld_TheWriterGoesOnCommitting_AndCopiesWhatIsLeftItselfOnlyAtTheBound()
    {
        _release.Reset();
        await OpenAsync(BoundPages);

        // Past the threshold the checkpointer is asked for a pass (and held): the commits go on, nothing copies inside
        // them (SQLite's automatic checkpoint at Pages would have restarted the WAL), and the WAL grows past Pages.
        var pages = new List<long>();
        while (Store.WriterCheckpoints == 0)
        {
            pages.Add(await WriteAsync());
            Assert.True(pages.Count < 500, "the writer never checkpointed at the bound");
        }
        Assert.True(_asked.IsSet, "the checkpointer was never asked for a pass");
        Assert.Equal(0, Store.CheckpointerPasses);
        Assert.Contains(pages, p => p > Pages);
        Assert.True(pages.Max() >= BoundPages, $"the writer checkpointed with at most {pages.Max()} pages in the WAL, before the bound");

        // The writer copied everything: its next transaction restarts the WAL, which stays within the bound plus one write.
        var growth = pages.Zip(pages.Skip(1), (a, b) => b - a).Where(d => d > 0).DefaultIfEmpty(0).Max();
        var after = new List<long> { await WriteAsync(), await WriteAsync() };
        Assert.True(after.Min() < pages.Max(), $"the WAL did not restart after the writer's checkpoint ({pages.Max()} -> {after.Min()} pages)");
        Assert.All(pages.Concat(after), p => Assert.True(p < BoundPages + growth, $"{p} pages in the WAL, past its bound of {BoundPages} plus one write"));
        Assert.Equal(_written, await CountAsync(Store));
    }

    [Fact]
    public async Task APassThatLeftABacklog_IsFollowedByTheNextPass_AndTheTransactionAfterItRestartsTheWal_AndNothingIsLost()
    {
        const int pages = 1_200;
        await OpenAsync(boundPages: 1_000_000, pages: pages);
        // The first write creates the tables' first pages; the growth that matters is that of the later ones.
        var wal = await WriteAsync();
        var growth = 0L;
        while (wal < pages / 2)
        {
            var next = await WriteAsync();
            growth = Math.Max(growth, next - wal);
            wal = next;
        }
        Assert.True(growth < pages / 4, $"one write adds {growth} WAL pages: too many for this test's threshold");

        // A reader's snapshot keeps the pass of the backlog from copying the commits after it, as a commit made while
        // that pass runs stays behind it: the WAL cannot restart after that pass.
        await PassOfTheBacklogBehindAReaderAsync(pages);
        Assert.True(Store.Wal is { } left && left.Pages - left.Copied is > 0 and < pages, "the pass of the backlog copied all or too little");

        // The next commit begins with pages not copied (no restart) and leaves fewer than the threshold behind, but more
        // than the writer copies itself: it asks for the next pass at once (not at the next threshold), which copies
        // the rest before the next transaction begins, and that transaction restarts the WAL.
        var before = await WriteAsync();
        Assert.True(Store.Wal is { } behind && behind.Pages - behind.Copied < pages, "the commit left the threshold behind");
        await Eventually.Until(() => Store.CheckpointerPasses == 2, "the pass that follows the pass of the backlog");
        var restarted = await WriteAsync();
        Assert.True(restarted < before, $"the transaction after the second pass did not restart the WAL ({before} -> {restarted} pages)");
        Assert.Equal(2, Store.CheckpointerPasses);
        Assert.Equal(0, Store.WriterCheckpoints);
        Assert.Equal(0, Store.WriterIdleCheckpoints);

        // Everything committed is there after the store is closed (its last checkpoint) and opened again.
        await Store.DisposeAsync();
        _store = null;
        await OpenAsync(boundPages: 1_000_000);
        Assert.Equal(_written, await CountAsync(Store));
    }

    [Fact]
    public async Task ASmallRemainderAfterAPass_IsCopiedByTheWriterWhenItIdles_AndItsNextTransactionRestartsTheWal()
    {
        const int pages = 1_200;
        const int remainder = pages / 2;
        await OpenAsync(boundPages: 1_000_000, pages: pages, remainderPages: remainder);
        var wal = await WriteAsync();
        var growth = 0L;
        while (wal < pages - 200)
        {
            var next = await WriteAsync();
            growth = Math.Max(growth, next - wal);
            wal = next;
        }
        Assert.True(growth < 200, $"one write adds {growth} WAL pages: too many for this test's remainder");

        // A reader's snapshot stands in for the commits made while a pass runs: the pass of the backlog copies the WAL
        // up to it and leaves the commits after it behind, fewer pages than the remainder.
        await PassOfTheBacklogBehindAReaderAsync(pages);
        Assert.True(Store.Wal is { } left && left.Pages - left.Copied is > 0 and < remainder, "the pass left nothing or more than the remainder");

        // The next commit leaves the writer with nothing waiting and fewer than the remainder behind: the writer copies
        // them itself, no second pass of the checkpointer, and its next transaction restarts the WAL.
        var before = await WriteAsync();
        await Eventually.Until(() => Store.WriterIdleCheckpoints == 1, "the writer's copy of the remainder in its idle moment");
        var restarted = await WriteAsync();
        Assert.True(restarted < before, $"the transaction after the writer's copy did not restart the WAL ({before} -> {restarted} pages)");
        Assert.Equal(1, Store.CheckpointerPasses);
        Assert.Equal(0, Store.WriterCheckpoints);
        Assert.Equal(_written, await CountAsync(Store));
    }

    [Fact]
    public async Task EveryFrameTheCommitsWrite_IsCountedAsCopiedOnce_WhenTheWriterReachesItsBoundDuringAPass()
    {
        await OpenAsync(BoundPages);
        await WriteAsync();
        await Eventually.Until(() => !Store.CheckpointerBusy, "the checkpointer idle after the first write");
        var (written, copied, behind) = Counts();

        // A pass of the checkpointer is held after it read the backfill mark and before its PRAGMA, while the writer
        // commits on past the WAL's bound. Had the writer copied the WAL meanwhile, the pass would count those frames
        // again from the mark it read (the pages counters read 3.3 a span where the commits write about 1.1).
        _copyRelease.Reset();
        var commits = 0;
        while (!_copyReached.IsSet || Store.Wal!.Value.Pages < BoundPages)
        {
            await WriteAsync();
            Assert.True(++commits < 500, "the WAL never reached its bound with the pass held");
        }
        // The writer is done with its last commit (at the bound it tried to copy the WAL) and no transaction began since,
        // so nothing restarted the WAL under the held pass.
        await Eventually.Until(() => Store.WalChecks == Store.CommittedTransactions, "the writer done with its last commit");
        _copyRelease.Set();

        // Until the WAL restarted (every frame then copied) and the checkpointer is idle again.
        var restartedFrom = Store.Wal!.Value.Generation;
        while (Store.Wal!.Value.Generation == restartedFrom)
        {
            await WriteAsync();
            Assert.True(++commits < 1_000, "the WAL never restarted after the pass was released");
        }
        await Eventually.Until(() => !Store.CheckpointerBusy, "the checkpointer idle again");

        // Each frame the commits wrote is either copied once or still in the WAL, not copied yet.
        var (writtenNow, copiedNow, behindNow) = Counts();
        Assert.Equal(writtenNow - written - (behindNow - behind), copiedNow - copied);
        Assert.True(writtenNow - written >= BoundPages, $"only {writtenNow - written} frames written");
        Assert.Equal(_written, await CountAsync(Store));
    }

    private (long Written, long Copied, long Behind) Counts() =>
        (Store.WalFramesWritten, Store.CheckpointFramesCopied, Store.Wal!.Value.Pages - Store.Wal!.Value.Copied);

    [Fact]
    public async Task CommitsWalFlushesAndCheckpoints_AppearOnMetricsUnderTheirCatalogNames()
    {
        var port = TestPorts.GetFree();
        using var provider = Sdk.CreateMeterProviderBuilder()
            .AddPerfOtelCollectorMetrics()
            .AddPerfOtelPrometheusHttpListener(o => o.UriPrefixes = [$"http://127.0.0.1:{port}/"])
            .Build();
        await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        await OpenAsync(boundPages: 1_000_000, new CollectorMetrics(services.GetRequiredService<IMeterFactory>()));
        while (Store.CheckpointerPasses == 0)
        {
            await WriteAsync();
            Assert.True(_written < 500 * InvocationsPerWrite, "no pass of the checkpointer");
        }

        using var scraper = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var text = await scraper.GetStringAsync($"http://127.0.0.1:{port}/metrics");

        Assert.Matches($"(?m)^{SelfMetricCatalog.StoreCommitDuration.PrometheusName}_count(\\{{[^}}]*\\}})? [1-9]", text);
        Assert.Matches($"(?m)^{SelfMetricCatalog.StoreWalFlushDuration.PrometheusName}_count(\\{{[^}}]*\\}})? [1-9]", text);
        Assert.Matches($"(?m)^{SelfMetricCatalog.StoreCheckpointDuration.PrometheusName}_count\\{{[^}}]*by=\"checkpointer\"[^}}]*\\}} [1-9]", text);
        Assert.Matches($"(?m)^{SelfMetricCatalog.StoreCheckpointPages.PrometheusName}\\{{[^}}]*by=\"checkpointer\"[^}}]*\\}} [1-9]", text);
        Assert.Matches($"(?m)^{SelfMetricCatalog.StoreWalFrames.PrometheusName}(\\{{[^}}]*\\}})? [1-9]", text);
        Assert.Matches($"(?m)^{SelfMetricCatalog.StoreWalPages.PrometheusName}(\\{{[^}}]*\\}})? [0-9]", text);
    }

    private static async Task<int> CountAsync(SqliteExecutionStore store)
    {
        var count = 0;
        await foreach (var _ in store.ReadInvocationsAsync(new InvocationQuery(), CancellationToken.None))
        {
            count++;
        }
        return count;
    }

    public async ValueTask DisposeAsync()
    {
        _release.Set();
        _copyRelease.Set();
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }
        _release.Dispose();
        _asked.Dispose();
        _copyRelease.Dispose();
        _copyReached.Dispose();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage.Sqlite;

namespace PerfOtel.Collector.Tests.Storage;

/// <summary>
/// The SQLite store runs the library in multi-thread mode: its connections have no mutex (SQLite's
/// <c>sqlite3_db_mutex</c> returns NULL for a connection in single- or multi-thread mode, the mutex for a serialized
/// one), and the writer with concurrent readers still stores and answers exactly.
/// </summary>
[Collection(HeavyStoreCollection.Name)]
public sealed class SqliteThreadingTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "perfotel-sqlite-" + Guid.NewGuid().ToString("N"));
    private SqliteExecutionStore _store = null!;

    // Like the collector, where the store is the first code in the process to open SQLite: this test process opens
    // connections of its own in many test classes, in an order xunit decides, so the store's set-up runs first here.
#pragma warning disable CA2255 // The test assembly is the process's entry point here, as Program is the collector's.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void ConfigureSqliteBeforeAnyTestOpensIt() => SqliteThreading.Configure();

    public async Task InitializeAsync()
    {
        _store = new SqliteExecutionStore(_directory, fullDurability: true);
        await _store.InitializeAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void TheWriterAndEveryNewConnection_haveNoMutex()
    {
        Assert.Equal(IntPtr.Zero, DbMutex(_store.WriteConnectionForTests!));
        Assert.True(SqliteThreading.MultiThread);

        // A reader as the store opens one (read-only, pooled).
        using var reader = new SqliteConnection($"Data Source={_store.DatabasePath};Mode=ReadOnly;Pooling=True");
        reader.Open();
        Assert.Equal(IntPtr.Zero, DbMutex(reader));

        // Memory statistics off (no allocator mutex): SQLite counts no bytes although connections hold memory.
        Assert.Equal(0, SQLitePCL.raw.sqlite3_memory_used());
    }

    [Fact]
    public void AConnectionOpenedWithFullMutex_hasOne_soTheProbeCanTellTheModesApart()
    {
        // SQLITE_OPEN_FULLMUTEX overrides the library's mode for one connection: the probe sees its mutex.
        const int fullMutex = 0x00010000;
        var rc = SQLitePCL.raw.sqlite3_open_v2(":memory:", out var handle,
            SQLitePCL.raw.SQLITE_OPEN_READWRITE | SQLitePCL.raw.SQLITE_OPEN_CREATE | fullMutex, null);
        using (handle)
        {
            Assert.Equal(SQLitePCL.raw.SQLITE_OK, rc);
            Assert.NotEqual(IntPtr.Zero, DbMutexOf(handle.DangerousGetHandle()));
        }
    }

    [Fact]
    public async Task ConcurrentReaders_besideTheWriter_seeOnlyWholeCommittedBatches()
    {
        const int writers = 4, batchesPerWriter = 25, spansPerBatch = 10;
        using var stop = new CancellationTokenSource();
        var readerErrors = 0;
        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var count = 0;
                await foreach (var _ in _store.ReadInvocationsAsync(new InvocationQuery(), CancellationToken.None))
                {
                    count++;
                }

                // Each batch holds spansPerBatch invocations and commits whole.
                if (count % spansPerBatch != 0)
                {
                    Interlocked.Increment(ref readerErrors);
                }
            }
        })).ToArray();

        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var b = 0; b < batchesPerWriter; b++)
            {
                var batch = TestRecords.Batch([.. Enumerable.Range(0, spansPerBatch)
                    .Select(_ => TestRecords.Invocation())]);
                await _store.WriteAsync(batch, CancellationToken.None);
            }
        })));
        await stop.CancelAsync();
        await Task.WhenAll(readers);

        Assert.Equal(0, readerErrors);
        var stored = 0;
        await foreach (var _ in _store.ReadInvocationsAsync(new InvocationQuery(), CancellationToken.None))
        {
            stored++;
        }

        Assert.Equal(writers * batchesPerWriter * spansPerBatch, stored);
    }

    private static IntPtr DbMutex(SqliteConnection connection) => DbMutexOf(connection.Handle!.DangerousGetHandle());

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr DbMutexFunction(IntPtr database);

    // SQLitePCLRaw does not wrap sqlite3_db_mutex: called from the same e_sqlite3 library the provider loaded.
    private static IntPtr DbMutexOf(IntPtr database)
    {
        var library = NativeLibrary.Load("e_sqlite3", typeof(SQLitePCL.raw).Assembly, null);
        var function = Marshal.GetDelegateForFunctionPointer<DbMutexFunction>(NativeLibrary.GetExport(library, "sqlite3_db_mutex"));
        return function(database);
    }
}

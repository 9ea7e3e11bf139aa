using System.Collections.Concurrent;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage.Sqlite;
using PerfOtel.Testing;
using SQLitePCL;

namespace PerfOtel.Collector.Tests.Storage;

/// <summary>
/// The statements the SQLite writer runs for a write (#21, writer50): seen through SQLite's own statement trace on the
/// writer's connection, so each test sees what the writer asked SQLite to do, not what it meant to.
/// </summary>
public sealed partial class SqliteExecutionStoreTests
{
    [Fact]
    public async Task ANewTraceIsNumberedByOneInsert_AStoredOneByTheInsertsConflictAndOneLookup()
    {
        var first = TestRecords.Invocation();
        var second = TestRecords.Invocation();
        var batch = TestRecords.Batch(first,
            TestRecords.ProviderCall(first.TraceId, first.SpanId, first.SpanId, new TokenCounts(1, 0, 0, 0, 0), 0.01),
            TestRecords.ToolCall(first.TraceId), second);

        var statements = TraceWriterStatements();
        await Store.WriteAsync(batch, CancellationToken.None);
        // Two new traces: one insert each (the trace's other records find its number in the writer's memory), no lookup.
        Assert.Equal((2, 0), TraceStatements(statements));

        statements.Clear();
        await Store.WriteAsync(batch, CancellationToken.None);
        // Sent again: each insert meets the stored key and changes nothing, and the number is looked up.
        Assert.Equal((2, 2), TraceStatements(statements));
        Assert.Equal([(first.TraceId, 1L), (second.TraceId, 2L)], await TraceNumbersAsync());
        Assert.Equal(2, (await ReadInvocations()).Count);

        // A new trace after them gets the next number: the inserts that met a stored key used none.
        var third = TestRecords.Invocation();
        await Store.WriteAsync(TestRecords.Batch(third), CancellationToken.None);
        Assert.Equal([(first.TraceId, 1L), (second.TraceId, 2L), (third.TraceId, 3L)], await TraceNumbersAsync());
    }

    [Fact]
    public async Task AWriteAloneInItsTransactionOpensNoSavepoint_AndItsRejectionLeavesNothingOfIt()
    {
        var statements = TraceWriterStatements();
        await Store.WriteAsync(TestRecords.Batch(TestRecords.Invocation()), CancellationToken.None);
        Assert.Contains(statements, sql => sql.StartsWith("INSERT INTO invocations", StringComparison.Ordinal));
        Assert.DoesNotContain(statements, sql => sql.StartsWith("SAVEPOINT", StringComparison.OrdinalIgnoreCase));

        // Alone, a write whose data is at fault (its first span is inserted, then a NOT NULL violation) is rolled back
        // with its transaction: it fails alone and leaves nothing, not even its traces' numbers.
        var shared = TestRecords.Invocation();
        var bad = TestRecords.Batch(shared, TestRecords.Invocation() with { AgentName = null! });
        await Assert.ThrowsAsync<SqliteWriteFailedException>(() => Store.WriteAsync(bad, CancellationToken.None));
        Assert.DoesNotContain(statements, sql => sql.StartsWith("SAVEPOINT", StringComparison.OrdinalIgnoreCase));
        Assert.Single(await ReadInvocations());
        Assert.Single(await TraceNumbersAsync());

        // Its span is new for the next write that stores it, and the writer goes on.
        var other = TestRecords.Invocation();
        var committed = await Store.WriteAsync(TestRecords.Batch(shared, other), CancellationToken.None);
        Assert.Equal(new[] { shared, other }, committed.Invocations);
        Assert.Equal(3, (await ReadInvocations()).Count);
        Assert.Equal(3, (await TraceNumbersAsync()).Count);
    }

    [Fact]
    public async Task AWriteAnsweredAtCommitIsAnsweredOnTheWritersThread_BeforeTheWriterGoesOn()
    {
        var store = (SqliteExecutionStore)Store;
        var written = 0;
        var observed = 0;
        while (observed < 5 && written < 100)
        {
            // What the caller sees when its answer runs: the writer has not yet looked at the WAL after this commit (it
            // does so once the answer's code waits again), so its WAL checks are one behind its commits. Answered through
            // the thread pool, the writer would mostly have gone on by then. An answer that ran inline, because the
            // write was done before the continuation was attached, says nothing about the writer's thread: it is not
            // counted, and another write is made.
            var attached = 0;
            var answer = store
                .WriteCommittedAsync(TestRecords.Batch(TestRecords.Invocation()), CancellationToken.None)
                .ContinueWith(
                    _ => (Volatile.Read(ref attached) == 1, store.CommittedTransactions - store.WalChecks),
                    CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            Volatile.Write(ref attached, 1);
            var (afterAttaching, behind) = await answer;
            written++;
            if (afterAttaching)
            {
                Assert.Equal(1, behind);
                observed++;
            }
            await Eventually.Until(() => store.WalChecks == store.CommittedTransactions, "the writer done with its commit");
        }
        Assert.Equal(5, observed);

        // A write answered once durable is still answered through the thread pool (its caller's code never holds the writer).
        var durable = await store.WriteAsync(TestRecords.Batch(TestRecords.Invocation()), CancellationToken.None);
        Assert.Single(durable.Invocations);
        Assert.Equal(written + 1, (await ReadInvocations()).Count);
    }

    /// <summary>The statements the writer's connection runs from now on, as SQLite traces them (parameters expanded).</summary>
    private ConcurrentQueue<string> TraceWriterStatements()
    {
        var statements = new ConcurrentQueue<string>();
        var handle = ((SqliteExecutionStore)Store).WriteConnectionForTests!.Handle!;
        raw.sqlite3_trace(handle, (_, sql) => statements.Enqueue(sql.TrimStart()), null);
        return statements;
    }

    /// <summary>Inserts into traces and lookups of a trace's number among the statements.</summary>
    private static (int Inserts, int Lookups) TraceStatements(IEnumerable<string> statements) =>
        (statements.Count(sql => sql.StartsWith("INSERT INTO traces", StringComparison.Ordinal)),
            statements.Count(sql => sql.StartsWith("SELECT trace_no FROM traces", StringComparison.Ordinal)));
}

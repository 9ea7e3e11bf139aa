using System.Net;
using PerfOtel.Collector.Tests.Otlp.Support;
using static PerfOtel.Collector.Tests.Ingest.WriterOrderSupport;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Ingest;

/// <summary>
/// With a store that flushes beside its writer (SQLite at durability <c>full</c>), the writer commits the next batch
/// while the last one is being flushed; a batch reaches the derivations and its sender gets 200 only once its flush is
/// done, in commit order. A failed flush gets its senders a 503, and their data, stored all the same, is derived once.
/// </summary>
public sealed class WriterCommitsWhileTheLastCommitIsFlushedTests
{
    [Fact]
    public async Task TheNextBatchCommitsWhileTheLastIsFlushed_AndNothingIsDerivedOrAnsweredBeforeItsFlush()
    {
        var derivation = new RecordingDerivation();
        await using var collector = new CollectorFactory(services: services => services.AddExtraDerivations(derivation));
        var firstFlush = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var flushes = 0;
        collector.Store.Flush = _ => Interlocked.Increment(ref flushes) == 1 ? firstFlush.Task : Task.CompletedTask;
        using var client = collector.CreateClient();

        var first = client.PostAsync("/v1/traces", Request(1, 3));
        await Eventually.Until(() => collector.Store.WriteCalls == 1, "the first batch to be committed");
        var second = client.PostAsync("/v1/traces", Request(4, 2));
        await Eventually.Until(() => collector.Store.WriteCalls == 2, "the second batch to be committed while the first is flushed");

        // The second batch's flush is done, but it comes after the first, whose flush is not.
        await Task.Delay(100);
        Assert.False(first.IsCompleted, "the first sender was answered before its batch was flushed");
        Assert.False(second.IsCompleted, "the second sender was answered before the batch committed before it was flushed");
        Assert.Empty(derivation.Batches);

        firstFlush.SetResult();
        foreach (var response in await Task.WhenAll(first, second).WaitAsync(Eventually.Patience))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }

        Assert.Equal([Ids(1, 3), Ids(4, 2)], derivation.Batches);
    }

    [Fact]
    public async Task AFailedFlushAnswers503_AndTheStoredDataIsDerivedOnceAcrossTheRetry()
    {
        var derivation = new RecordingDerivation();
        await using var collector = new CollectorFactory(services: services => services.AddExtraDerivations(derivation));
        var flushes = 0;
        collector.Store.Flush = _ => Interlocked.Increment(ref flushes) == 1
            ? Task.FromException(new IOException("fsync: Input/output error"))
            : Task.CompletedTask;
        using var client = collector.CreateClient();

        using (var failed = await client.PostAsync("/v1/traces", Request(1, 3)).WaitAsync(Eventually.Patience))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        }
        // Committed although not acknowledged: derived, as a restart reading the store would derive it.
        Assert.Equal([Ids(1, 3)], derivation.Batches);

        using (var retried = await client.PostAsync("/v1/traces", Request(1, 3)).WaitAsync(Eventually.Patience))
        {
            Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        }
        Assert.Equal([Ids(1, 3)], derivation.Batches);
        Assert.Equal(3, collector.Store.Invocations.Count);
    }
}

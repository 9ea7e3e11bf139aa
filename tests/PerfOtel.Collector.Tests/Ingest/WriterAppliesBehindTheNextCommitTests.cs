using System.Net;
using PerfOtel.Collector.Tests.Otlp.Support;
using static PerfOtel.Collector.Tests.Ingest.WriterOrderSupport;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Ingest;

/// <summary>
/// Alone on its store, the writer commits the next batch while the previous one is still being applied to the
/// derivations; the derivations still see every batch once, in commit order, and each sender is answered only after its
/// own batch was applied (read-your-writes).
/// </summary>
public sealed class WriterAppliesBehindTheNextCommitTests
{
    [Fact]
    public async Task TheNextCommitDoesNotWaitForTheDerivationsAndTheirOrderAndTheAnswersStay()
    {
        var derivation = new RecordingDerivation(holdFirst: true);
        await using var collector = new CollectorFactory(services: services => services.AddExtraDerivations(derivation));
        using var client = collector.CreateClient();

        var first = client.PostAsync("/v1/traces", Request(1, 3));
        await derivation.Entered.Task.WaitAsync(Eventually.Patience);

        // The first batch is committed and held inside the derivations: the second is committed all the same.
        var second = client.PostAsync("/v1/traces", Request(4, 2));
        await Eventually.Until(() => collector.Store.WriteCalls == 2, "the second batch to be committed while the first is being applied");

        // Neither sender is answered before its batch is applied, and the second's comes after the first's.
        await Task.Delay(100);
        Assert.False(first.IsCompleted, "the first sender was answered before its batch reached the derivations");
        Assert.False(second.IsCompleted, "the second sender was answered before its batch reached the derivations");

        derivation.Release.Set();
        foreach (var response in await Task.WhenAll(first, second).WaitAsync(Eventually.Patience))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            response.Dispose();
        }

        Assert.Equal([Ids(1, 3), Ids(4, 2)], derivation.Batches);
    }
}

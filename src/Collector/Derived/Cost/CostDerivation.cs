using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Cost;

/// <summary>Adds committed provider calls to the cost ledger and counters. O(1) per call; never throws.</summary>
internal sealed partial class CostDerivation(CostLedger ledger, CostCounters counters, ILogger<CostDerivation> logger)
    : IDerivation
{
    public string Name => "cost";

    public void Apply(IngestBatch batch)
    {
        try
        {
            foreach (var call in batch.ProviderCalls)
            {
                var key = ledger.Record(call);
                counters.Add(key, CostTotals.Weighted(call));
            }
        }
#pragma warning disable CA1031 // The batch is committed already; cost accounting must not fail its acknowledgement.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            LogObserverFailed(logger, exception);
        }
    }

    [LoggerMessage(EventId = 6001, Level = LogLevel.Error, Message = "Cost roll-ups could not account for committed provider calls; they may undercount until the next restart rebuilds them.")]
    private static partial void LogObserverFailed(ILogger logger, Exception exception);
}

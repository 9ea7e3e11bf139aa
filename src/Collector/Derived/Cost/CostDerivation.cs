using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Cost;

/// <summary>Adds committed provider calls to the cost ledger and counters. O(1) per call; a failure is logged by the pipeline, which applies every derivation in its own try.</summary>
internal sealed partial class CostDerivation(CostLedger ledger, CostCounters counters)
    : IDerivation
{
    public string Name => "cost";

    public void Apply(IngestBatch batch)
    {
        foreach (var call in batch.ProviderCalls)
        {
            var key = ledger.Record(call);
            counters.Add(key, CostTotals.Weighted(call));
        }
    }
}

using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Budgets;

/// <summary>Counts committed provider calls against the configured budgets. O(1) per call; a failure is logged by the pipeline, which applies every derivation in its own try.</summary>
internal sealed partial class BudgetDerivation(BudgetTracker tracker) : IDerivation
{
    public string Name => "budgets";

    public void Apply(IngestBatch batch)
    {
        if (tracker.Options.Budgets.Count == 0)
        {
            return;
        }
        foreach (var call in batch.ProviderCalls)
        {
            tracker.Record(call);
        }
    }
}

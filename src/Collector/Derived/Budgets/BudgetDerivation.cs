using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Budgets;

/// <summary>Counts committed provider calls against the configured budgets. O(1) per call; never throws.</summary>
internal sealed partial class BudgetDerivation(BudgetTracker tracker, ILogger<BudgetDerivation> logger) : IDerivation
{
    public string Name => "budgets";

    public void Apply(IngestBatch batch)
    {
        if (tracker.Options.Budgets.Count == 0)
        {
            return;
        }
        try
        {
            foreach (var call in batch.ProviderCalls)
            {
                tracker.Record(call);
            }
        }
#pragma warning disable CA1031 // The batch is committed already; budget accounting must not fail its acknowledgement.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            LogObserverFailed(logger, exception);
        }
    }

    [LoggerMessage(EventId = 6101, Level = LogLevel.Error, Message = "Budgets could not account for committed provider calls; spend may be undercounted until the next restart rebuilds it.")]
    private static partial void LogObserverFailed(ILogger logger, Exception exception);
}

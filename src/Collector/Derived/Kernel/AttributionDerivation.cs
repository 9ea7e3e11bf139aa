using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Kernel;

/// <summary>
/// Folds committed provider calls into <see cref="InvocationAttribution"/>. Registered before the model and experiment
/// observers (observers run in registration order), so that they see the calls of the same batch when they read the
/// facts of its invocations.
/// </summary>
internal sealed partial class AttributionDerivation(InvocationAttribution attribution, ILogger<AttributionDerivation> logger)
    : IDerivation
{
    public string Name => "attribution";

    public void Apply(IngestBatch batch)
    {
        try
        {
            foreach (var call in batch.ProviderCalls)
            {
                attribution.RecordCall(call);
            }
        }
#pragma warning disable CA1031 // The batch is committed already; attribution must not fail its acknowledgement.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            LogObserverFailed(logger, exception);
        }
    }

    [LoggerMessage(EventId = 6201, Level = LogLevel.Error, Message = "Provider calls could not be attributed to their invocations; model comparison and experiment cost may undercount.")]
    private static partial void LogObserverFailed(ILogger logger, Exception exception);
}

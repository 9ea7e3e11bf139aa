using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Models;

/// <summary>Feeds committed calls, invocations and accuracy samples into the model comparison. Never throws.</summary>
internal sealed partial class ModelDerivation(
    ModelComparison comparison, InvocationAttribution attribution, ILogger<ModelDerivation> logger) : IDerivation
{
    public string Name => "models";

    public void Apply(IngestBatch batch)
    {
        try
        {
            foreach (var call in batch.ProviderCalls)
            {
                comparison.RecordCall(call);
            }
            foreach (var invocation in batch.Invocations)
            {
                var facts = attribution.RecordInvocation(invocation);
                comparison.RecordInvocation(invocation, facts, facts.KnownCostUsd(invocation), accuracy: null);
            }
            foreach (var evaluation in batch.Evaluations)
            {
                if (AccuracySamples.Of(evaluation) is { } accuracy &&
                    attribution.Find(evaluation.Tenant, evaluation.TraceId, evaluation.SpanId) is { } facts)
                {
                    comparison.RecordAccuracy(evaluation.Tenant, facts, accuracy);
                }
            }
            foreach (var join in batch.JoinedFeedback)
            {
                ApplyFeedback(join);
            }
        }
#pragma warning disable CA1031 // The batch is committed already; the comparison must not fail its acknowledgement.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            LogObserverFailed(logger, exception);
        }
    }

    private void ApplyFeedback(FeedbackJoin join)
    {
        try
        {
            var invocation = join.Invocation;
            if (AccuracySamples.Of(join.Feedback) is { } accuracy &&
                attribution.Find(invocation.Tenant, invocation.TraceId, invocation.SpanId) is { } facts)
            {
                comparison.RecordAccuracy(invocation.Tenant, facts, accuracy);
            }
        }
#pragma warning disable CA1031 // See Apply.
        catch (Exception exception)
#pragma warning restore CA1031
        {
            LogObserverFailed(logger, exception);
        }
    }

    [LoggerMessage(EventId = 6301, Level = LogLevel.Error, Message = "The model comparison could not account for committed data; it may undercount until the next restart rebuilds it.")]
    private static partial void LogObserverFailed(ILogger logger, Exception exception);
}

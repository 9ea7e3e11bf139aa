using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Experiments;

/// <summary>Feeds committed experiment invocations and their accuracy samples into the registry. Never throws.</summary>
internal sealed partial class ExperimentDerivation(
    ExperimentRegistry registry, InvocationAttribution attribution) : IDerivation
{
    public string Name => "experiments";

    public void Apply(IngestBatch batch)
    {
        // An invocation's span is counted once, when it commits; its cost and serving model are decided from
        // every call attributed to it so far and moved when a later batch changes them (calls exported after
        // their invocation, or attributed to it later through spans in between), as the model comparison does.
        // Sized for the batch's invocations, about as many as it touches: not grown through four or five arrays a batch.
        var touched = new HashSet<(string Tenant, string TraceId, string SpanId)>(batch.Invocations.Count);
        foreach (var call in batch.ProviderCalls)
        {
            if (call.InvocationSpanId is { } invocationSpanId)
            {
                touched.Add((call.Tenant, call.TraceId, invocationSpanId));
            }
        }
        foreach (var invocation in batch.Invocations)
        {
            if (IsExperiment(invocation))
            {
                attribution.RecordInvocation(invocation);
                registry.CountInvocation(invocation, accuracy: null);
                touched.Add((invocation.Tenant, invocation.TraceId, invocation.SpanId));
            }
        }
        foreach (var (tenant, traceId, spanId) in touched)
        {
            var (counted, now) = attribution.ReshareExperiment(tenant, traceId, spanId);
            if (counted is not null)
            {
                registry.AddShare(tenant, counted, -1);
            }
            if (now is not null)
            {
                registry.AddShare(tenant, now, 1);
            }
        }
        foreach (var evaluation in batch.Evaluations)
        {
            if (AccuracySamples.Of(evaluation) is { } accuracy &&
                attribution.Find(evaluation.Tenant, evaluation.TraceId, evaluation.SpanId) is { Experiment: not null } facts)
            {
                registry.RecordAccuracy(evaluation.Tenant, facts.Experiment, facts.Variant, accuracy);
            }
        }
        foreach (var join in batch.JoinedFeedback)
        {
            ApplyFeedback(join);
        }
    }

    private void ApplyFeedback(FeedbackJoin join)
    {
        var invocation = join.Invocation;
        if (IsExperiment(invocation) && AccuracySamples.Of(join.Feedback) is { } accuracy)
        {
            registry.RecordAccuracy(invocation.Tenant, invocation.Experiment, invocation.Variant, accuracy);
        }
    }

    private static bool IsExperiment(AgentInvocation invocation) =>
        !string.IsNullOrEmpty(invocation.Experiment) && !string.IsNullOrEmpty(invocation.Variant);
}

using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Models;

/// <summary>Feeds committed calls, invocations and accuracy samples into the model comparison. Never throws.</summary>
internal sealed partial class ModelDerivation(
    ModelComparison comparison, InvocationAttribution attribution) : IDerivation
{
    public string Name => "models";

    public void Apply(IngestBatch batch)
    {
        // An invocation's share (the model of its last call, its cost, its accuracy samples) is decided from
        // everything seen of it so far and moved when a later batch changes it: calls exported after their
        // invocation, or attributed to it later, count the same as calls that came first.
        // Sized for the batch's invocations, about as many as it touches: not grown through four or five arrays a batch.
        var touched = new HashSet<(string Tenant, string TraceId, string SpanId)>(batch.Invocations.Count);
        foreach (var call in batch.ProviderCalls)
        {
            comparison.RecordCall(call);
            if (call.InvocationSpanId is { } invocationSpanId)
            {
                touched.Add((call.Tenant, call.TraceId, invocationSpanId));
            }
        }
        foreach (var invocation in batch.Invocations)
        {
            attribution.RecordInvocation(invocation);
            touched.Add((invocation.Tenant, invocation.TraceId, invocation.SpanId));
        }
        foreach (var evaluation in batch.Evaluations)
        {
            if (AccuracySamples.Of(evaluation) is { } accuracy &&
                attribution.AddAccuracy(evaluation.Tenant, evaluation.TraceId, evaluation.SpanId, accuracy))
            {
                touched.Add((evaluation.Tenant, evaluation.TraceId, evaluation.SpanId));
            }
        }
        foreach (var join in batch.JoinedFeedback)
        {
            var invocation = join.Invocation;
            if (AccuracySamples.Of(join.Feedback) is { } accuracy &&
                attribution.AddAccuracy(invocation.Tenant, invocation.TraceId, invocation.SpanId, accuracy))
            {
                touched.Add((invocation.Tenant, invocation.TraceId, invocation.SpanId));
            }
        }
        foreach (var (tenant, traceId, spanId) in touched)
        {
            var (counted, now) = attribution.ReshareModel(tenant, traceId, spanId);
            if (counted is not null)
            {
                comparison.AddInvocation(tenant, counted, -1);
            }
            if (now is not null)
            {
                comparison.AddInvocation(tenant, now, 1);
            }
        }
    }
}

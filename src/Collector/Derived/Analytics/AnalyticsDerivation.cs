using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Analytics;

/// <summary>Feeds committed data into the rolling windows. Runs in commit order beside the writer (see IDerivation.Apply): O(1) per record, a failure is logged by the pipeline, which applies every derivation in its own try.</summary>
internal sealed partial class AnalyticsDerivation(RollingWindows windows)
    : IDerivation
{
    public string Name => "analytics";

    public void Apply(IngestBatch batch)
    {
        foreach (var invocation in batch.Invocations)
        {
            windows.RecordInvocation(invocation);
        }
        foreach (var call in batch.ProviderCalls)
        {
            windows.RecordProviderCall(call);
        }
        foreach (var tool in batch.ToolCalls)
        {
            windows.RecordToolCall(tool);
        }
        if (batch.Evaluations.Count > 0)
        {
            RecordEvaluations(batch);
        }
        foreach (var join in batch.JoinedFeedback)
        {
            windows.RecordFeedback(join);
        }
    }

    private void RecordEvaluations(IngestBatch batch)
    {
        // An evaluation event without an agent name is attributed to the invocation span it sits on when that span
        // came in the same batch.
        Dictionary<(string, string, string), string>? agentsBySpan = null;
        foreach (var evaluation in batch.Evaluations)
        {
            string? agent = null;
            if (evaluation.AgentName is null)
            {
                agentsBySpan ??= batch.Invocations
                    .GroupBy(i => (i.Tenant, i.TraceId, i.SpanId))
                    .ToDictionary(g => g.Key, g => g.First().AgentName);
                agentsBySpan.TryGetValue((evaluation.Tenant, evaluation.TraceId, evaluation.SpanId), out agent);
            }
            windows.RecordEvaluation(evaluation, agent);
        }
    }
}

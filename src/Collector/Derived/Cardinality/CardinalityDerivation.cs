using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Cardinality;

/// <summary>
/// Registered before every other observer, so that values are admitted in commit order whichever part keys by them,
/// and so that each record folded into overflow is counted once (the parts that key by a value ask the guard again
/// and get the same answer). O(1) per record; a failure is logged by the pipeline, which applies every derivation in its own try.
/// </summary>
internal sealed partial class CardinalityDerivation(
    CardinalityGuard guard, CollectorMetrics metrics) : IDerivation
{
    public string Name => "cardinality";

    public void Apply(IngestBatch batch)
    {
        foreach (var invocation in batch.Invocations)
        {
            var tenant = CountTenant(invocation.Tenant);
            CountAgent(tenant, invocation.Tenant, invocation.AgentName);
            if (!string.IsNullOrEmpty(invocation.Experiment) && !string.IsNullOrEmpty(invocation.Variant) &&
                guard.ExperimentVariant(invocation.Tenant, invocation.Experiment, invocation.Variant).Experiment == CardinalityGuard.Overflow)
            {
                metrics.CardinalityOverflow(tenant, CardinalityDimensions.LabelOf(CardinalityDimension.ExperimentVariant));
            }
        }
        foreach (var call in batch.ProviderCalls)
        {
            var tenant = CountTenant(call.Tenant);
            CountAgent(tenant, call.Tenant, call.AgentName);
            if (guard.Model(call.Tenant, call.Provider, Cost.CostKeys.ModelOf(call)).Model == CardinalityGuard.Overflow)
            {
                metrics.CardinalityOverflow(tenant, CardinalityDimensions.LabelOf(CardinalityDimension.Model));
            }
        }
        foreach (var evaluation in batch.Evaluations)
        {
            var tenant = CountTenant(evaluation.Tenant);
            CountAgent(tenant, evaluation.Tenant, evaluation.AgentName);
            if (guard.Evaluation(evaluation.Tenant, evaluation.Name) == CardinalityGuard.Overflow)
            {
                metrics.CardinalityOverflow(tenant, CardinalityDimensions.LabelOf(CardinalityDimension.Evaluation));
            }
        }
    }

    private string CountTenant(string tenant)
    {
        var kept = guard.Tenant(tenant);
        if (kept == CardinalityGuard.Overflow && tenant != CardinalityGuard.Overflow)
        {
            metrics.CardinalityOverflow(kept, CardinalityDimensions.LabelOf(CardinalityDimension.Tenant));
        }
        return kept;
    }

    private void CountAgent(string keptTenant, string tenant, string? agent)
    {
        if (!string.IsNullOrEmpty(agent) && agent != CardinalityGuard.Overflow && guard.Agent(tenant, agent) == CardinalityGuard.Overflow)
        {
            metrics.CardinalityOverflow(keptTenant, CardinalityDimensions.LabelOf(CardinalityDimension.Agent));
        }
    }
}

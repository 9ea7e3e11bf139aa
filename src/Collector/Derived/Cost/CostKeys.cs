using PerfOtel.Collector.Derived.Cardinality;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Cost;

/// <summary>The labels of a provider call's cost: who spent (tenant, agent) on what (provider, model).</summary>
/// <param name="Tenant">Tenant.</param>
/// <param name="Agent">Agent of the enclosing invocation; null for calls made outside any agent invocation.</param>
/// <param name="Provider">gen_ai.provider.name.</param>
/// <param name="Model">The requested model, else the response model, else <see cref="CostKeys.UnknownModel"/>.</param>
public readonly record struct CostKey(string Tenant, string? Agent, string Provider, string Model);

/// <summary>How calls are named for roll-ups and comparison.</summary>
public static class CostKeys
{
    /// <summary>The model label of a call that names none.</summary>
    public const string UnknownModel = "(unknown)";

    /// <summary>Label value that pools series beyond a cardinality cap: the guard's overflow value.</summary>
    public const string Other = CardinalityGuard.Overflow;

    /// <summary>
    /// The model a call is counted under: the requested model, which is the name users configure and can switch
    /// (a response model often carries a dated version suffix that would split one model into several series).
    /// </summary>
    public static string ModelOf(ProviderCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        return !string.IsNullOrEmpty(call.RequestModel) ? call.RequestModel
            : !string.IsNullOrEmpty(call.ResponseModel) ? call.ResponseModel
            : UnknownModel;
    }

    /// <summary>The cost key of a call.</summary>
    public static CostKey Of(ProviderCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        return new CostKey(call.Tenant, string.IsNullOrEmpty(call.AgentName) ? null : call.AgentName, call.Provider, ModelOf(call));
    }
}

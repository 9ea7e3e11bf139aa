using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Receiving.Mapping;

/// <summary>Prices a provider call that arrived without <c>perfotel.cost.usd</c>.</summary>
internal interface IModelPricing
{
    /// <summary>False when the model has no price: the caller then records its tokens as unpriced, never as free.</summary>
    bool TryComputeCost(string? provider, string model, TokenCounts tokens, out double costUsd);
}

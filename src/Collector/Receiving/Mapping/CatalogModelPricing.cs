using PerfOtel.Instrumentation.Pricing;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Receiving.Mapping;

/// <summary>Prices provider calls with the shared catalog, the same one the instrumentation library uses.</summary>
internal sealed class CatalogModelPricing(PricingCatalog catalog) : IModelPricing
{
    public bool TryComputeCost(string? provider, string model, TokenCounts tokens, out double costUsd) =>
        catalog.TryComputeCost(provider, model,
            new TokenUsage(tokens.Input, tokens.Output, tokens.CacheRead, tokens.CacheCreation, tokens.Reasoning), out costUsd);
}

using PerfOtel.Collector.Model;

namespace PerfOtel.Collector.Otlp.Mapping;

/// <summary>
/// Pricing when no catalog is available: every model is unpriced, so its tokens are counted as unpriced rather
/// than costed at zero.
/// </summary>
internal sealed class UnpricedModelPricing : IModelPricing
{
    public bool TryComputeCost(string? provider, string model, TokenCounts tokens, out double costUsd)
    {
        costUsd = 0;
        return false;
    }
}

using PerfOtel.Collector.Derived.Experiments.Statistics;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Derived.Experiments;

/// <summary>Cumulative additive statistics of one variant. Not thread-safe: the registry locks.</summary>
internal sealed class VariantStats
{
    private long pricedInvocations;
    private OrderFreeSum costSum;
    private OrderFreeSum costSquares;

    public long Invocations { get; set; }
    public long Successes { get; set; }
    public LatencyHistogram Latency { get; } = new();
    public MeanSums LatencySums { get; set; }
    public long PricedInvocations => pricedInvocations;

    /// <summary>
    /// (n, Σx, Σx²) of the priced invocations' costs. Kept as order-free sums (<see cref="OrderFreeSum"/>), because an
    /// invocation's cost is withdrawn and added again when a call attributed to it is committed after it: the sums then
    /// depend only on the final costs, whatever order the calls, their invocation and the spans between them arrived in.
    /// </summary>
    public MeanSums CostSums => new(pricedInvocations, costSum.Value, costSquares.Value);

    public long UnpricedInvocations { get; set; }
    public MeanSums QualitySums { get; set; }
    public MeanSums AccuracySums { get; set; }

    /// <summary>Invocations of the variant per (provider, model) that served them (the model of their last provider call).</summary>
    public Dictionary<(string Provider, string Model), long> Models { get; } = [];

    /// <summary>Invocations of the variant per (agent, task type; <c>(none)</c> when absent): the work it did.</summary>
    public Dictionary<(string Agent, string TaskType), long> Work { get; } = [];

    /// <summary>Adds (<paramref name="sign"/> 1) or withdraws (-1) one invocation's cost: priced, or unpriced when null.</summary>
    public void AddCost(double? knownCostUsd, int sign)
    {
        if (knownCostUsd is { } cost && double.IsFinite(cost))
        {
            pricedInvocations += sign;
            costSum.Add(sign * cost);
            costSquares.Add(sign * cost * cost);
        }
        else
        {
            UnpricedInvocations += sign;
        }
    }

    /// <summary>Adds (1) or withdraws (-1) one invocation served by the model.</summary>
    public void AddModel(string provider, string model, int sign)
    {
        var key = (provider, model);
        var count = Models.GetValueOrDefault(key) + sign;
        if (count == 0)
        {
            Models.Remove(key);
        }
        else
        {
            Models[key] = count;
        }
    }
}

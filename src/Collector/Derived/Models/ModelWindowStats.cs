using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Exposure.Metrics;

namespace PerfOtel.Collector.Derived.Models;

/// <summary>Additive statistics of one model in one time bucket (or a whole window once merged).</summary>
public sealed class ModelWindowStats : IWindowStats<ModelWindowStats>
{
    /// <summary>Provider calls.</summary>
    public long Calls { get; set; }

    /// <summary>Calls that ended in an error.</summary>
    public long Errors { get; set; }

    /// <summary>Call latencies.</summary>
    public LatencyHistogram Latency { get; } = new();

    /// <summary>Calls with a price.</summary>
    public long PricedCalls { get; set; }

    /// <summary>Sum of the priced calls' costs.</summary>
    public double CostUsd { get; set; }

    /// <summary>Tokens of calls without a price.</summary>
    public long UnpricedTokens { get; set; }

    /// <summary>Input plus output tokens.</summary>
    public long Tokens { get; set; }

    /// <summary>Invocations the model served.</summary>
    public long Invocations { get; set; }

    /// <summary>... of which succeeded.</summary>
    public long Successes { get; set; }

    /// <summary>... whose cost is fully known.</summary>
    public long PricedInvocations { get; set; }

    /// <summary>Sum of the known invocation costs.</summary>
    public double InvocationCostUsd { get; set; }

    /// <summary>Accuracy samples of the invocations served.</summary>
    public long AccuracySamples { get; set; }

    /// <summary>Sum of those samples.</summary>
    public double AccuracySum { get; set; }

    /// <inheritdoc/>
    public void Merge(ModelWindowStats other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Calls += other.Calls;
        Errors += other.Errors;
        Latency.Merge(other.Latency);
        PricedCalls += other.PricedCalls;
        CostUsd += other.CostUsd;
        UnpricedTokens += other.UnpricedTokens;
        Tokens += other.Tokens;
        Invocations += other.Invocations;
        Successes += other.Successes;
        PricedInvocations += other.PricedInvocations;
        InvocationCostUsd += other.InvocationCostUsd;
        AccuracySamples += other.AccuracySamples;
        AccuracySum += other.AccuracySum;
    }

    /// <inheritdoc/>
    public void Clear()
    {
        Calls = Errors = PricedCalls = UnpricedTokens = Tokens = Invocations = Successes = PricedInvocations = AccuracySamples = 0;
        CostUsd = InvocationCostUsd = AccuracySum = 0;
        Latency.Clear();
    }
}

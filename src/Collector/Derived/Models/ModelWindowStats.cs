using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Telemetry;

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

    private OrderFreeSum costUsd;
    private OrderFreeSum invocationCostUsd;
    private OrderFreeSum accuracySum;

    /// <summary>Sum of the priced calls' costs.</summary>
    public double CostUsd => costUsd.Value;

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
    public double InvocationCostUsd => invocationCostUsd.Value;

    /// <summary>Accuracy samples of the invocations served.</summary>
    public long AccuracySamples { get; set; }

    /// <summary>Sum of those samples.</summary>
    public double AccuracySum => accuracySum.Value;

    /// <summary>Adds a priced call's cost (sums are order-free: <see cref="OrderFreeSum"/>).</summary>
    public void AddCost(double usd) => costUsd.Add(usd);

    /// <summary>Adds a known invocation cost.</summary>
    public void AddInvocationCost(double usd) => invocationCostUsd.Add(usd);

    /// <summary>Adds (or, negative, withdraws) an invocation's accuracy samples and their sum.</summary>
    public void AddAccuracySamples(long samples, double sum)
    {
        AccuracySamples += samples;
        accuracySum.Add(sum);
    }

    /// <summary>Adds one accuracy sample.</summary>
    public void AddAccuracy(double accuracy)
    {
        AccuracySamples++;
        accuracySum.Add(accuracy);
    }

    /// <inheritdoc/>
    public void Merge(ModelWindowStats other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Calls += other.Calls;
        Errors += other.Errors;
        Latency.Merge(other.Latency);
        PricedCalls += other.PricedCalls;
        costUsd.Add(other.costUsd);
        UnpricedTokens += other.UnpricedTokens;
        Tokens += other.Tokens;
        Invocations += other.Invocations;
        Successes += other.Successes;
        PricedInvocations += other.PricedInvocations;
        invocationCostUsd.Add(other.invocationCostUsd);
        AccuracySamples += other.AccuracySamples;
        accuracySum.Add(other.accuracySum);
    }

    /// <inheritdoc/>
    public void Clear()
    {
        Calls = Errors = PricedCalls = UnpricedTokens = Tokens = Invocations = Successes = PricedInvocations = AccuracySamples = 0;
        costUsd.Clear();
        invocationCostUsd.Clear();
        accuracySum.Clear();
        Latency.Clear();
    }
}

using PerfOtel.Collector.Derived.Cost;

namespace PerfOtel.Collector.Tests.Cost;

/// <summary>
/// The cost counters behind <c>perfotel_cost_usd_total</c> are a function of the calls counted, not of the order they
/// were committed in: a restart replays calls in start-time order, live commits follow the exports.
/// </summary>
public sealed class CostCountersTests
{
    [Fact]
    public void TheCostCounterIsTheSameInWhateverOrderCallsAreAdded()
    {
        // 0.1 + 0.2 + 0.3 and 0.3 + 0.2 + 0.1 differ in the last bit as plain doubles.
        double[] costs = [0.1, 0.2, 0.3, 1e-7, 12.345];
        var forward = Total(costs);
        var backward = Total(costs.Reverse());
        var shuffled = Total([0.2, 12.345, 0.1, 1e-7, 0.3]);
        Assert.Equal(forward, backward);
        Assert.Equal(forward, shuffled);
        Assert.Equal(12.9450001, forward, 1e-12);
    }

    private static double Total(IEnumerable<double> costs)
    {
        var counters = new CostCounters(TimeProvider.System);
        var key = new CostKey("default", "planner", "openai", "gpt-4o");
        foreach (var cost in costs)
        {
            counters.Add(key, new CostTotals { Calls = 1, PricedCalls = 1, CostUsd = cost });
        }
        return Assert.Single(counters.Snapshot()).Value.CostUsd;
    }
}

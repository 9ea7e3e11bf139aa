using PerfOtel.Collector.Derived.Kernel;

namespace PerfOtel.Collector.Tests.Cost;

public class InvocationAttributionTests
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 16, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void TheLastCallByStartTimeNamesTheModelAndEveryCallAddsToTheCost()
    {
        var attribution = new InvocationAttribution(capacity: 10);
        var invocation = CostRecords.Invocation(Noon);
        // Committed out of order: the answer (started later) arrives first.
        attribution.RecordCall(CostRecords.Call(Noon.AddSeconds(2), 0.02, "gpt-4o", invocationSpanId: invocation.SpanId));
        attribution.RecordCall(CostRecords.Call(Noon.AddSeconds(1), 0.001, "gpt-4o-mini", invocationSpanId: invocation.SpanId));

        var facts = attribution.RecordInvocation(invocation);

        Assert.Equal(("openai", "gpt-4o"), (facts.Provider, facts.Model));
        Assert.Equal(2, facts.Calls);
        Assert.Equal(0.021, facts.KnownCostUsd(invocation)!.Value, 12);
    }

    [Fact]
    public void AnUnpricedCallMakesTheInvocationCostUnknown_WithoutCallsTheSpanOwnCostCounts()
    {
        var attribution = new InvocationAttribution(capacity: 10);
        var priced = CostRecords.Invocation(Noon);
        attribution.RecordCall(CostRecords.Call(Noon, 0.02, invocationSpanId: priced.SpanId));
        attribution.RecordCall(CostRecords.Call(Noon, null, "my-finetune", invocationSpanId: priced.SpanId, unpricedTokens: 10));
        var selfReported = CostRecords.Invocation(Noon, costUsd: 0.3);

        Assert.Null(attribution.RecordInvocation(priced).KnownCostUsd(priced));
        Assert.Equal(0.3, attribution.RecordInvocation(selfReported).KnownCostUsd(selfReported));
    }

    [Fact]
    public void TheLeastRecentlyUsedInvocationIsEvictedAtCapacity()
    {
        var attribution = new InvocationAttribution(capacity: 2);
        var first = CostRecords.Invocation(Noon);
        var second = CostRecords.Invocation(Noon);
        var third = CostRecords.Invocation(Noon);
        attribution.RecordInvocation(first);
        attribution.RecordInvocation(second);
        attribution.RecordInvocation(first); // used again: now the second is the least recently used
        attribution.RecordInvocation(third);

        Assert.Equal(2, attribution.Count);
        Assert.NotNull(attribution.Find(first.Tenant, first.TraceId, first.SpanId));
        Assert.Null(attribution.Find(second.Tenant, second.TraceId, second.SpanId));
        Assert.NotNull(attribution.Find(third.Tenant, third.TraceId, third.SpanId));
    }
}

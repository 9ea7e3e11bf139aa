using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Tests.Storage;

namespace PerfOtel.Collector.Tests.DerivedKernel;

/// <summary>
/// The derivation leader's attribution of records other replicas stored (<see cref="SpanAttribution.PlanStored"/>,
/// docs/collector/scale-out.md#attribution-across-replicas): what a leader counts is decided in the store, so a leader
/// that takes over and reads the whole store counts the same: resolved calls on their agent, expired ones without an
/// agent even when their ancestor has arrived since, and calls still waiting not at all.
/// </summary>
public sealed class SharedAttributionTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 8, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Horizon = TimeSpan.FromMinutes(15);

    private readonly string trace = TestRecords.TraceId();
    private readonly Dictionary<string, ProviderCall> storedCalls = [];
    private readonly Dictionary<string, SpanLink> storedLinks = [];

    [Fact]
    public void A_leader_that_takes_over_counts_what_its_predecessor_counted()
    {
        var first = new SpanAttribution(Horizon);
        var counted = new List<string>();

        // Reading 1: three calls stored by a follower, each under an invoke_agent span nobody has sent yet.
        var (early, late, waiting) = (Call("x"), Call("y"), Call("z"));
        var reading = Store([Link(early.SpanId, "x", T0), Link(late.SpanId, "y", T0), Link(waiting.SpanId, "z", T0 + TimeSpan.FromMinutes(10))],
            early, late, waiting);
        counted.AddRange(Read(first, reading, T0));
        Assert.Empty(counted);
        Assert.Equal(3, first.PendingRecords);

        // Reading 2, five minutes later: planner's span arrives at another replica and resolves the first call.
        counted.AddRange(Read(first, Store([Agent("x", "planner", T0 + TimeSpan.FromMinutes(5))]), T0 + TimeSpan.FromMinutes(5)));
        Assert.Equal([$"{early.SpanId}:planner:x"], counted);
        Assert.Equal("planner", storedCalls[early.SpanId].AgentName);

        // Reading 3, past the horizon of the second call: counted without an agent, its expiry stored.
        counted.AddRange(Read(first, Store([]), T0 + TimeSpan.FromMinutes(16)));
        Assert.Contains($"{late.SpanId}:-:-", counted);
        Assert.True(storedLinks[late.SpanId].Expired);

        // Reading 4: coder's span arrives late; nothing is counted again and the stored call keeps no agent.
        var lateReading = Read(first, Store([Agent("y", "coder", T0 + TimeSpan.FromMinutes(17))]), T0 + TimeSpan.FromMinutes(17), out var plan);
        Assert.Empty(lateReading);
        Assert.Single(plan.Late);
        Assert.Null(storedCalls[late.SpanId].AgentName);
        Assert.Equal(1, first.PendingRecords);

        // Take-over: a new leader reads every link, then every record, then expires what waited a whole horizon.
        var second = new SpanAttribution(Horizon);
        var now = T0 + TimeSpan.FromMinutes(18);
        var rebuilt = new List<string>();
        var all = new IngestBatch();
        all.SpanLinks.AddRange(storedLinks.Values);
        rebuilt.AddRange(Read(second, all, now));
        var records = new IngestBatch();
        records.ProviderCalls.AddRange(storedCalls.Values);
        rebuilt.AddRange(Read(second, records, now));
        rebuilt.AddRange(Read(second, new IngestBatch(), now));

        Assert.Equal(counted.Order(StringComparer.Ordinal), rebuilt.Order(StringComparer.Ordinal));
        Assert.Equal(1, second.PendingRecords);

        // The call still waiting resolves on the new leader as it would have on the old one.
        var resolved = Read(second, Store([Agent("z", "coder", now)]), now);
        Assert.Equal([$"{waiting.SpanId}:coder:z"], resolved);
    }

    private ProviderCall Call(string invocationSpanId) =>
        TestRecords.ProviderCall(trace, invocationSpanId, null, new TokenCounts(100, 10, 0, 0, 0), 0.25) with { AgentName = null };

    private SpanLink Link(string spanId, string parent, DateTimeOffset seenAt) =>
        new() { Tenant = "default", TraceId = trace, SpanId = spanId, ParentSpanId = parent, SeenAt = seenAt };

    private SpanLink Agent(string spanId, string agent, DateTimeOffset seenAt) =>
        new() { Tenant = "default", TraceId = trace, SpanId = spanId, InvocationAgent = agent, SeenAt = seenAt };

    /// <summary>What a follower commits: stored as it came, read back by the leader.</summary>
    private IngestBatch Store(SpanLink[] links, params ProviderCall[] calls)
    {
        var batch = new IngestBatch();
        foreach (var link in links)
        {
            storedLinks.TryAdd(link.SpanId, link);
            batch.SpanLinks.Add(link);
        }
        foreach (var call in calls)
        {
            storedCalls[call.SpanId] = call;
            batch.ProviderCalls.Add(call);
        }
        return batch;
    }

    private List<string> Read(SpanAttribution leader, IngestBatch read, DateTimeOffset now) => Read(leader, read, now, out _);

    /// <summary>One reading of the leader: plan, write the decisions to the store, commit; what the derivations count.</summary>
    private List<string> Read(SpanAttribution leader, IngestBatch read, DateTimeOffset now, out AttributionPlan plan)
    {
        (plan, var attributed) = leader.PlanStored(read, now);
        Assert.Empty(plan.ToStore.ProviderCalls);
        Assert.Empty(plan.ToStore.SpanLinks);
        foreach (var update in plan.ToStore.Attributions)
        {
            storedCalls[update.SpanId] = storedCalls[update.SpanId] with { AgentName = update.AgentName, InvocationSpanId = update.InvocationSpanId };
        }
        foreach (var expired in plan.ToStore.ExpiredSpans)
        {
            storedLinks[expired.SpanId] = storedLinks[expired.SpanId] with { Expired = true };
        }
        return [.. leader.Commit(plan, attributed).ProviderCalls.Select(c => $"{c.SpanId}:{c.AgentName ?? "-"}:{c.InvocationSpanId ?? "-"}")];
    }
}

using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Ingest;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Tests.Storage;

namespace PerfOtel.Collector.Tests.DerivedKernel;

/// <summary>
/// The span links of <see cref="SpanAttribution"/> are bounded by count (<c>Ingest:AttributionMaxLinks</c>), not only by
/// time: under sustained ingest the links of two 15-minute horizons would otherwise grow with the span rate (every span
/// seen leaves one). What the bound changes is counted and decided the same way whatever the batching or a restart: the
/// oldest commits' links go first, never a held record's, and a call arriving later under an evicted span waits its
/// horizon and is counted without an agent.
/// </summary>
public sealed class AttributionBoundTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 2, 8, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Horizon = TimeSpan.FromMinutes(15);
    private const int Capacity = 1_000;

    private readonly List<SpanLink> stored = [];

    [Fact]
    public void Links_stay_within_the_capacity_under_sustained_ingest_and_every_eviction_is_counted()
    {
        var attribution = new SpanAttribution(Horizon, Capacity);
        const int Commits = 200;
        const int SpansPerCommit = 60;
        for (var i = 0; i < Commits; i++)
        {
            // One second apart: all within one horizon, so the time prune removes nothing and the bound must.
            Commit(attribution, Trace(SpansPerCommit), T0 + TimeSpan.FromSeconds(i));
            Assert.InRange(attribution.Links, 1, Capacity);
        }

        Assert.Equal(Commits * SpansPerCommit, attribution.Links + attribution.EvictedLinks);
        // Whole commits go, oldest first: what is left is the newest commits' links.
        Assert.Equal(Capacity / SpansPerCommit * SpansPerCommit, attribution.Links);
    }

    [Fact]
    public void A_call_under_an_evicted_span_waits_its_horizon_and_is_counted_without_an_agent()
    {
        var bounded = new SpanAttribution(Horizon, Capacity);
        var unbounded = new SpanAttribution(Horizon, 1_000_000);
        var trace = TestRecords.TraceId();
        var agent = Batch(Agent(trace, "inv", "planner"));
        Commit(bounded, agent, T0);
        Commit(unbounded, agent, T0);
        for (var i = 1; i <= 40; i++)
        {
            var filler = Trace(50);
            Commit(bounded, filler, T0 + TimeSpan.FromSeconds(i));
            Commit(unbounded, filler, T0 + TimeSpan.FromSeconds(i));
        }

        var call = Call(trace, "inv");
        var late = T0 + TimeSpan.FromMinutes(1);
        // Without the bound the invocation's link is still known: the call is counted at once, on its agent.
        Assert.Equal(["planner"], Commit(unbounded, CallBatch(call), late).ProviderCalls.Select(c => c.AgentName));
        // With it, the link went with the oldest commit (counted): the call is held like any call whose parent is unknown...
        Assert.True(bounded.EvictedLinks >= 1);
        Assert.Empty(Commit(bounded, CallBatch(call), late).ProviderCalls);
        Assert.Equal(1, bounded.PendingRecords);

        // ...and counted without an agent once its horizon passed, on the expiry counter.
        var (plan, counted) = CommitWithPlan(bounded, new IngestBatch(), late + Horizon);
        Assert.Equal(1, plan.ExpiredRecords);
        Assert.Equal([null], counted.ProviderCalls.Select(c => c.AgentName));
        Assert.Equal(0, bounded.PendingRecords);
    }

    [Fact]
    public void A_held_records_link_is_never_evicted_so_its_ancestor_still_resolves_it()
    {
        var attribution = new SpanAttribution(Horizon, Capacity);
        var trace = TestRecords.TraceId();
        // A call under a span "mid" that nobody sent yet: held.
        var call = Call(trace, null) with { ParentSpanId = "mid" };
        var first = new IngestBatch();
        first.ProviderCalls.Add(call);
        first.SpanLinks.Add(new SpanLink { Tenant = "default", TraceId = trace, SpanId = call.SpanId, ParentSpanId = "mid" });
        Assert.Empty(Commit(attribution, first, T0).ProviderCalls);

        for (var i = 1; i <= 40; i++)
        {
            Commit(attribution, Trace(50), T0 + TimeSpan.FromSeconds(i));
        }
        Assert.True(attribution.EvictedLinks > 0);
        Assert.Equal(1, attribution.PendingRecords);

        // The span in between and the invocation arrive: the held call is attributed, once.
        var ancestry = Batch(
            new SpanLink { Tenant = "default", TraceId = trace, SpanId = "mid", ParentSpanId = "inv" },
            Agent(trace, "inv", "coder"));
        var counted = Commit(attribution, ancestry, T0 + TimeSpan.FromSeconds(50));
        Assert.Equal([("coder", "inv")], counted.ProviderCalls.Select(c => (c.AgentName, c.InvocationSpanId)));
        Assert.Equal(0, attribution.PendingRecords);
        Assert.InRange(attribution.Links, 1, Capacity);
    }

    [Fact]
    public void A_restart_that_loads_the_stored_links_keeps_the_same_links_as_the_live_collector()
    {
        var live = new SpanAttribution(Horizon, Capacity);
        var traces = new List<(string Trace, string Invocation)>();
        for (var i = 0; i < 50; i++)
        {
            var trace = TestRecords.TraceId();
            traces.Add((trace, $"inv{i}"));
            var batch = Trace(30);
            batch.SpanLinks.Add(Agent(trace, $"inv{i}", "planner"));
            Commit(live, batch, T0 + TimeSpan.FromSeconds(i));
        }

        var restarted = new SpanAttribution(Horizon, Capacity);
        restarted.Load(stored);
        Assert.Equal(live.Links, restarted.Links);

        // A call under each invocation decides the same on both: on its agent where the link is kept, held where not.
        var now = T0 + TimeSpan.FromMinutes(2);
        foreach (var (trace, invocation) in traces)
        {
            var call = Call(trace, invocation);
            var fromLive = Commit(live, CallBatch(call), now).ProviderCalls.Select(c => c.AgentName).ToList();
            var fromRestarted = Commit(restarted, CallBatch(call), now).ProviderCalls.Select(c => c.AgentName).ToList();
            Assert.Equal(fromLive, fromRestarted);
        }
        Assert.Equal(live.PendingRecords, restarted.PendingRecords);
        Assert.InRange(live.PendingRecords, 1, traces.Count - 1);
    }

    [Fact]
    public void The_capacity_is_validated_and_a_too_small_setting_stops_start_up_naming_it()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SpanAttribution(Horizon, 0));
        Assert.Equal(SpanAttribution.DefaultLinkCapacity, new SpanAttribution(Horizon).LinkCapacity);
        Assert.Equal(SpanAttribution.DefaultLinkCapacity, new IngestOptions().AttributionMaxLinks);

        var result = new IngestOptionsValidator().Validate(null, new IngestOptions { AttributionMaxLinks = 999 });
        Assert.True(result.Failed);
        Assert.Contains("Ingest:AttributionMaxLinks must be at least 1000 (was 999)", result.FailureMessage, StringComparison.Ordinal);
        Assert.True(new IngestOptionsValidator().Validate(null, new IngestOptions { AttributionMaxLinks = 1000 }).Succeeded);
    }

    private IngestBatch Commit(SpanAttribution attribution, IngestBatch batch, DateTimeOffset now) =>
        CommitWithPlan(attribution, batch, now).Counted;

    /// <summary>What the ingest writer does with one batch: plan, store (kept here for a restart), commit.</summary>
    private (AttributionPlan Plan, IngestBatch Counted) CommitWithPlan(SpanAttribution attribution, IngestBatch batch, DateTimeOffset now)
    {
        var plan = attribution.Plan(batch, now);
        foreach (var link in plan.ToStore.SpanLinks)
        {
            if (!stored.Any(s => s.TraceId == link.TraceId && s.SpanId == link.SpanId))
            {
                stored.Add(link);
            }
        }
        return (plan, attribution.Commit(plan, plan.ToStore));
    }

    /// <summary>A batch of <paramref name="spans"/> links of one new trace (a root and its children).</summary>
    private static IngestBatch Trace(int spans)
    {
        var trace = TestRecords.TraceId();
        var root = TestRecords.SpanId();
        var batch = new IngestBatch();
        batch.SpanLinks.Add(new SpanLink { Tenant = "default", TraceId = trace, SpanId = root });
        for (var i = 1; i < spans; i++)
        {
            batch.SpanLinks.Add(new SpanLink { Tenant = "default", TraceId = trace, SpanId = TestRecords.SpanId(), ParentSpanId = root });
        }
        return batch;
    }

    private static IngestBatch Batch(params SpanLink[] links)
    {
        var batch = new IngestBatch();
        batch.SpanLinks.AddRange(links);
        return batch;
    }

    private static IngestBatch CallBatch(ProviderCall call)
    {
        var batch = new IngestBatch();
        batch.ProviderCalls.Add(call);
        batch.SpanLinks.Add(new SpanLink { Tenant = "default", TraceId = call.TraceId, SpanId = call.SpanId, ParentSpanId = call.ParentSpanId });
        return batch;
    }

    private static SpanLink Agent(string trace, string spanId, string agent) =>
        new() { Tenant = "default", TraceId = trace, SpanId = spanId, InvocationAgent = agent };

    /// <summary>A call exported apart from its invocation: its attribution is the attribution's to find.</summary>
    private static ProviderCall Call(string trace, string? parent) =>
        TestRecords.ProviderCall(trace, parent, null, new TokenCounts(100, 10, 0, 0, 0), 0.25) with { AgentName = null, InvocationSpanId = null };
}

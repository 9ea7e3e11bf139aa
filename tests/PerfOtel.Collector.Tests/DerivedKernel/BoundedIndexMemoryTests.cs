using System.Runtime.CompilerServices;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Tests.Cost;

namespace PerfOtel.Collector.Tests.DerivedKernel;

/// <summary>
/// What the bounded in-memory indexes keep per entry (#21): the invocation facts keep no record's own strings (ids as
/// numbers, one instance per tenant, agent, model, ... text), and the bounded dictionaries' tables end near their bound
/// rather than 40 % past it.
/// </summary>
public class BoundedIndexMemoryTests
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Held_invocation_facts_keep_none_of_the_records_strings_but_the_first_of_each_text()
    {
        var attribution = new InvocationAttribution(capacity: 100);
        var (first, _) = Record(attribution, "0af7651916cd43dd8448eb211c80319c", "00f067aa0ba902b7");
        var (second, strings) = Record(attribution, "4bf92f3577b34da6a3ce929d0e0e4736", "b7ad6b7169203331");

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        // The second invocation's ids, tenant and texts are all garbage: the index holds its ids as numbers and the first
        // invocation's instances of the equal texts.
        Assert.All(strings, s => Assert.False(s.Weak.IsAlive, $"the index still holds the record's {s.Name}"));
        var facts = attribution.Find("tenant-a", second.TraceId, second.SpanId)!;
        var firstFacts = attribution.Find("tenant-a", first.TraceId, first.SpanId)!;
        Assert.Equal(("openai", "gpt-4o", "planner", "triage", "exp", "b"), (facts.Provider, facts.Model, facts.AgentName, facts.TaskType, facts.Experiment, facts.Variant));
        Assert.Same(firstFacts.AgentName, facts.AgentName);
        Assert.Same(firstFacts.Model, facts.Model);
        Assert.Equal(1, facts.Calls);
        Assert.Equal(2, attribution.Count);
    }

    [Fact]
    public void Invocations_whose_ids_are_not_canonical_hex_are_told_apart_exactly()
    {
        var attribution = new InvocationAttribution(capacity: 10);
        attribution.RecordInvocation(CostRecords.Invocation(Noon, traceId: "ABC", spanId: "1", agent: "upper"));
        attribution.RecordInvocation(CostRecords.Invocation(Noon, traceId: "abc", spanId: "1", agent: "lower"));
        attribution.RecordInvocation(CostRecords.Invocation(Noon, traceId: "AB", spanId: "C1", agent: "split"));

        Assert.Equal("upper", attribution.Find("default", "ABC", "1")!.AgentName);
        Assert.Equal("lower", attribution.Find("default", "abc", "1")!.AgentName);
        Assert.Equal("split", attribution.Find("default", "AB", "C1")!.AgentName);
        Assert.Null(attribution.Find("other", "abc", "1"));
    }

    [Fact]
    public void Shared_strings_stay_bounded_and_keep_sharing_after_starting_again()
    {
        var shared = new SharedStrings();
        var first = shared.Share(new string('x', 3));
        for (var i = 0; i < 3 * SharedStrings.MaxDistinct; i++)
        {
            shared.Share("id-" + i);
            Assert.True(shared.Count <= SharedStrings.MaxDistinct);
        }
        var again = shared.Share(new string('x', 3));
        Assert.Same(again, shared.Share(new string('x', 3)));
        Assert.Equal(first, again);
        Assert.Null(shared.Share(null));
    }

    [Theory]
    [InlineData(250_000 + 250_000 / BoundedTable.Headroom)]
    [InlineData(100_000)]
    [InlineData(1_000)]
    public void A_bounded_table_grows_to_its_bound_leaving_little_behind_and_still_grows_past_it(int cap)
    {
        var sizes = new List<int>();
        for (var length = 0; length < cap; length = BoundedTable.NextSize(length, cap))
        {
            sizes.Add(length);
        }
        // Ends at the bound exactly, and what it outgrew on the way (garbage until a gen2 collection) is at most twice
        // the last doubled size: plain doubling would leave about a table's worth behind and end up to 40 % past it.
        Assert.Equal(cap, BoundedTable.NextSize(sizes[^1], cap));
        Assert.InRange(sizes.Sum(s => (long)s), 0, 2L * BoundedTable.DoublingUpTo);

        // Held past the bound (a commit's links before their eviction): an eighth more at a time, not double.
        Assert.Equal(cap + cap / 8, BoundedTable.NextSize(cap, cap));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (AgentInvocation Invocation, (string Name, WeakReference Weak)[] Strings) Record(InvocationAttribution attribution, string traceId, string spanId)
    {
        // Fresh instances, as a decoded request brings them.
        static string Fresh(string text) => new(text.AsSpan());
        var invocation = CostRecords.Invocation(Noon, tenant: Fresh("tenant-a"), agent: Fresh("planner"), traceId: Fresh(traceId),
            spanId: Fresh(spanId), experiment: Fresh("exp"), variant: Fresh("b")) with { TaskType = Fresh("triage") };
        var call = CostRecords.Call(Noon, 0.01, model: Fresh("gpt-4o"), provider: Fresh("openai"), tenant: invocation.Tenant,
            traceId: invocation.TraceId, invocationSpanId: invocation.SpanId);
        attribution.RecordCall(call);
        attribution.RecordInvocation(invocation);
        // Plain copies for the caller to look up with; the records' own strings go out of scope here.
        var copy = CostRecords.Invocation(Noon, traceId: traceId, spanId: spanId);
        return (copy, [
            ("tenant", new WeakReference(invocation.Tenant)), ("trace id", new WeakReference(invocation.TraceId)),
            ("span id", new WeakReference(invocation.SpanId)), ("agent", new WeakReference(invocation.AgentName)),
            ("task type", new WeakReference(invocation.TaskType!)), ("experiment", new WeakReference(invocation.Experiment!)),
            ("variant", new WeakReference(invocation.Variant!)), ("model", new WeakReference(call.RequestModel!)),
            ("provider", new WeakReference(call.Provider)),
        ]);
    }
}

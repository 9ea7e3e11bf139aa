using System.Runtime.CompilerServices;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Tests.Cost;
using Xunit.Abstractions;

namespace PerfOtel.Collector.Tests.DerivedKernel;

/// <summary>
/// The invocation facts' least-recently-used index with its recency order threaded through its own slots (#21, mem):
/// it keeps and evicts exactly what a dictionary with a linked list kept and evicted, and a new invocation costs its
/// facts and no object more.
/// </summary>
public class BoundedLruTests
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(1, 7)]
    [InlineData(37, 1)]
    [InlineData(37, 2)]
    [InlineData(1000, 3)]
    public void Holds_and_evicts_exactly_what_a_dictionary_with_a_linked_list_does(int capacity, int seed)
    {
        var random = new Random(seed);
        // More keys than the capacity, canonical and not (an uppercase id keeps its text), over two tenants: the chains
        // of the small tables collide, and every eviction and re-touch order is exercised.
        var keys = Enumerable.Range(0, 3 * capacity + 5).Select(i => (
            Tenant: i % 3 == 0 ? "tenant-b" : "tenant-a",
            TraceId: i % 7 == 0 ? "ABC" + i : (i / 2).ToString("x32", System.Globalization.CultureInfo.InvariantCulture),
            SpanId: (i % 2).ToString("x16", System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        var lru = new BoundedLru<string>(capacity);
        var reference = new Dictionary<(string, string, string), LinkedListNode<((string, string, string) Key, string Value)>>();
        var recency = new LinkedList<((string, string, string) Key, string Value)>();

        for (var step = 0; step < 20 * capacity + 200; step++)
        {
            var key = keys[random.Next(keys.Length)];
            var compact = CompactSpanKey.Of(key.Tenant, key.TraceId, key.SpanId);
            switch (random.Next(3))
            {
                case 0:
                    var expected = reference.TryGetValue(key, out var found) ? found.Value.Value : null;
                    Assert.Equal(expected, lru.Find(compact));
                    break;
                default:
                    var touched = lru.Touch(compact);
                    if (reference.TryGetValue(key, out var node))
                    {
                        Assert.Equal(node.Value.Value, touched);
                        recency.Remove(node);
                        recency.AddFirst(node);
                        break;
                    }
                    Assert.Null(touched);
                    var value = "v" + step;
                    lru.Add(compact, value);
                    if (reference.Count >= capacity)
                    {
                        reference.Remove(recency.Last!.Value.Key);
                        recency.RemoveLast();
                    }
                    reference[key] = recency.AddFirst((key, value));
                    break;
            }
            Assert.Equal(reference.Count, lru.Count);
        }

        foreach (var key in keys)
        {
            var expected = reference.TryGetValue(key, out var node) ? node.Value.Value : null;
            Assert.Equal(expected, lru.Find(CompactSpanKey.Of(key.Tenant, key.TraceId, key.SpanId)));
        }
        Assert.InRange(lru.SlotsAllocated, lru.Count, capacity);
    }

    [Fact]
    public void A_new_invocation_at_capacity_costs_its_facts_and_no_other_object()
    {
        const int capacity = 1_000;
        var attribution = new InvocationAttribution(capacity);
        var calls = Enumerable.Range(0, 3 * capacity).Select(i => CostRecords.Call(Noon, 0.01,
            traceId: i.ToString("x32", System.Globalization.CultureInfo.InvariantCulture),
            invocationSpanId: i.ToString("x16", System.Globalization.CultureInfo.InvariantCulture))).ToArray();
        foreach (var call in calls.AsSpan(0, 2 * capacity))
        {
            attribution.RecordCall(call); // full, and every table at its final size
        }

        // A call of a held invocation allocates what folding it in does; a call of a new one at capacity evicts the least
        // recently used invocation and adds one: the difference is what an entry costs beyond that.
        var held = calls.AsSpan(capacity, capacity).ToArray();
        var before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var call in held)
        {
            attribution.RecordCall(call);
        }
        var folding = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var call in calls.AsSpan(2 * capacity))
        {
            attribution.RecordCall(call);
        }
        var adding = GC.GetAllocatedBytesForCurrentThread() - before;
        before = GC.GetAllocatedBytesForCurrentThread();
        var facts = new InvocationFacts[capacity];
        for (var i = 0; i < capacity; i++)
        {
            facts[i] = new InvocationFacts();
        }
        var factsOnly = GC.GetAllocatedBytesForCurrentThread() - before - (facts.Length * IntPtr.Size) - 24;

        Assert.Equal(capacity, attribution.Count);
        // With a dictionary of linked-list nodes each new invocation also allocated a node (48 bytes) and an entry record
        // (64 bytes), and the second key's hex parse (with the shared tenant) 192 bytes.
        Assert.InRange((adding - folding) / (double)capacity, 0, (factsOnly / (double)capacity) + 8);
    }
}

/// <summary>Tests that measure the process's heap: run with nothing else running.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HeapMeasurementTests
{
    public const string Name = "heap measurement";
}

/// <summary>What a full index of invocation facts keeps, measured with nothing else running (#21, mem).</summary>
[Collection(HeapMeasurementTests.Name)]
public class InvocationFactsRetainedTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_full_index_of_100_000_invocations_keeps_under_270_bytes_each()
    {
        const int capacity = 100_000;
        // The heap is the process's: whatever earlier tests left running (a host's timers, a server's buffers) allocates
        // and frees beside the fill, which takes most of a second. So the index's share is what the heap drops by when
        // the index goes, two full collections apart, and the least of three fills: the noise only ever adds.
        var perInvocation = double.MaxValue;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var (withIndex, count) = FillAndMeasure(capacity);
            var withoutIndex = GC.GetTotalMemory(forceFullCollection: true);
            Assert.Equal(capacity, count);
            perInvocation = Math.Min(perInvocation, (withIndex - withoutIndex) / (double)capacity);
        }

        output.WriteLine($"{perInvocation:F0} bytes an invocation, {perInvocation * capacity / 1e6:F1} MB for {capacity}");
        // 553 bytes here (513 in the fill of docs/collector/ingest-performance.md, mem21) with a dictionary entry, a linked-list node
        // and an entry record per invocation; 445 with the slots holding an object of facts and its two share records; 317
        // with the facts and the shares packed in the slots (docs/collector/ingest-performance.md, "The invocation facts
        // packed, one hash core"); 253 with the shares no longer copying the invocation span's fields ("Counted shares
        // without their copies").
        Assert.InRange(perInvocation, 1, 270);
    }

    // The heap with a full index alive, and its count; the index is garbage once this returns.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (long Heap, int Count) FillAndMeasure(int capacity)
    {
        var attribution = new InvocationAttribution(capacity);
        for (var i = 0; i < capacity; i++)
        {
            // As a commit brings them: fresh strings per record, three calls, the invocation, then the model comparison's
            // and the experiments' shares decided.
            var traceId = i.ToString("x32", System.Globalization.CultureInfo.InvariantCulture);
            var spanId = i.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);
            for (var call = 0; call < 3; call++)
            {
                attribution.RecordCall(CostRecords.Call(Noon.AddSeconds(call), 0.01, model: new string("gpt-4o".AsSpan()),
                    provider: new string("openai".AsSpan()), tenant: new string("tenant-a".AsSpan()), traceId: traceId,
                    invocationSpanId: spanId));
            }
            var invocation = CostRecords.Invocation(Noon, tenant: new string("tenant-a".AsSpan()), traceId: traceId, spanId: spanId,
                experiment: new string("exp".AsSpan()), variant: new string("b".AsSpan())) with { TaskType = new string("triage".AsSpan()) };
            attribution.RecordInvocation(invocation);
            attribution.ReshareModel(invocation.Tenant, traceId, spanId);
            attribution.ReshareExperiment(invocation.Tenant, traceId, spanId);
        }

        var heap = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(attribution);
        return (heap, attribution.Count);
    }
}

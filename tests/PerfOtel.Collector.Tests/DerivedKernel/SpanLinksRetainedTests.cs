using System.Globalization;
using System.Runtime.CompilerServices;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Ingest;
using PerfOtel.Collector.Records;
using Xunit.Abstractions;

namespace PerfOtel.Collector.Tests.DerivedKernel;

/// <summary>What a full set of span links keeps, measured with nothing else running (#21, rss).</summary>
[Collection(HeapMeasurementTests.Name)]
public class SpanLinksRetainedTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 3, 17, 0, 0, TimeSpan.Zero);
    // One tenant string for every link, as the mapper's default tenant (a constant) is.
    private const string Tenant = "default";

    [Fact]
    public void The_default_250_000_links_keep_under_100_bytes_each()
    {
        const int capacity = SpanAttribution.DefaultLinkCapacity;
        // As InvocationFactsRetainedTests: what the heap drops by when the attribution goes, two full collections apart,
        // the least of three fills (whatever else the process runs only ever adds).
        var perLink = double.MaxValue;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var (withLinks, links) = FillAndMeasure(capacity);
            var withoutLinks = GC.GetTotalMemory(forceFullCollection: true);
            Assert.InRange(links, capacity - 1_000, capacity);
            perLink = Math.Min(perLink, (withLinks - withoutLinks) / (double)links);
        }

        output.WriteLine($"{perLink:F0} bytes a link, {perLink * capacity / 1e6:F1} MB for {capacity}");
        // A dictionary entry of key and link (96 bytes), its bucket and the commit's list of keys (40) held about 140
        // bytes a link; the slots threaded into their commit's group hold about 85.
        Assert.InRange(perLink, 1, 100);
    }

    // The heap with the attribution alive past its bound (the oldest commits evicted), and its links; garbage on return.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (long Heap, int Links) FillAndMeasure(int capacity)
    {
        var attribution = new SpanAttribution(TimeSpan.FromMinutes(15), capacity);
        var traceNumber = 0L;
        // Commits of 1 000 links (200 traces of an invocation, three chats and a tool), one second apart, to 1.2 times the
        // bound: the eviction runs and the table is at its steady state.
        for (var commit = 0; commit < capacity * 6 / 5 / 1_000; commit++)
        {
            var batch = new IngestBatch();
            for (var trace = 0; trace < 200; trace++, traceNumber++)
            {
                // Fresh strings per link, as the mapper makes them.
                var traceId = traceNumber.ToString("x32", CultureInfo.InvariantCulture);
                var root = (traceNumber * 8).ToString("x16", CultureInfo.InvariantCulture);
                batch.SpanLinks.Add(new SpanLink { Tenant = Tenant, TraceId = traceId, SpanId = root, InvocationAgent = new string("planner".AsSpan()) });
                for (var child = 1; child < 5; child++)
                {
                    batch.SpanLinks.Add(new SpanLink
                    {
                        Tenant = Tenant, TraceId = new string(traceId.AsSpan()),
                        SpanId = (traceNumber * 8 + child).ToString("x16", CultureInfo.InvariantCulture), ParentSpanId = new string(root.AsSpan()),
                    });
                }
            }
            var plan = attribution.Plan(batch, T0.AddSeconds(commit));
            attribution.Commit(plan, plan.ToStore);
        }

        var heap = GC.GetTotalMemory(forceFullCollection: true);
        var links = attribution.Links;
        GC.KeepAlive(attribution);
        return (heap, links);
    }
}

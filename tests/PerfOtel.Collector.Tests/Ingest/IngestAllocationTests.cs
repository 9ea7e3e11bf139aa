using System.Globalization;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Derived.Models;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Storage;
using PerfOtel.Collector.Tests.Storage;
using PerfOtel.Collector.Tests.Cost;
using AnalyticsSupport = PerfOtel.Collector.Tests.Analytics.Analytics;

namespace PerfOtel.Collector.Tests.Ingest;

/// <summary>
/// What the per-call and per-commit work of ingest allocates once warm (#21, "Ingest allocates a third less a span" in
/// docs/collector/ingest-performance.md). At full rate the collector allocated about 2.2 KB a span; a fifth of it was
/// cost figures as objects, a tenth closures and delegates of the rolling and model windows, and the span-link packs'
/// string tables were large-object-heap arrays that set off most gen2 collections. Each figure here is this thread's
/// own allocation (<see cref="GC.GetAllocatedBytesForCurrentThread"/>), counted, not timed.
/// </summary>
public sealed class IngestAllocationTests
{
    private static readonly DateTimeOffset Start = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ACommitsSpanLinkPack_AllocatesThePackAlone_once_its_thread_has_packed_before()
    {
        // A full-rate commit's links: 2 100 spans of 420 traces, an invocation and four children each.
        var links = SpanLinkPackTests.AgentTraces(2_100, _ => "planner", Start);
        var first = SpanLinkPack.Encode(links);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var pack = SpanLinkPack.Encode(links);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(first, pack);
        Assert.Equal(links, SpanLinkPack.Decode(pack, Start));
        // The pack's array (its bytes and a header) and a few small objects; a table and writer of its own took about 300 KB
        // more a commit.
        Assert.True(allocated <= pack.Length + 128, $"packing 2 100 links allocated {allocated} bytes for a {pack.Length}-byte pack");
    }

    [Fact]
    public void PackingOnAThread_AfterAHugeCommit_StillReadsBackExactly()
    {
        // The thread's table and writer are let go once they grew past an ordinary commit's: the next pack is the same.
        var huge = Links(20_000, "huge");
        var small = Links(50, "small");
        Assert.Equal(huge, SpanLinkPack.Decode(SpanLinkPack.Encode(huge), Start));
        Assert.Equal(small, SpanLinkPack.Decode(SpanLinkPack.Encode(small), Start));
        Assert.Equal(huge, SpanLinkPack.Decode(SpanLinkPack.Encode(huge), Start));
    }

    [Fact]
    public void AProviderCall_IsCountedIntoTheLedgerTheWindowsAndTheModelComparison_WithoutAllocating()
    {
        var clock = new ManualClock(Start);
        var ledger = new CostLedger(clock, Options.Create(new CostOptions()));
        var windows = AnalyticsSupport.Windows(clock);
        var models = new ModelComparison(Options.Create(new ModelComparisonOptions()), clock);
        var calls = Enumerable.Range(0, 1_000)
            .Select(i => CostRecords.Call(Start.AddMilliseconds(i), costUsd: 0.001, errorType: i % 10 == 0 ? "timeout" : null))
            .ToList();
        // Each series, ring and bucket exists after the first call.
        Count(calls[0]);

        var before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var call in calls.Skip(1))
        {
            Count(call);
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // 999 calls: the cost figures were 5 objects a call and each window's update a closure and a delegate, about
        // 600 bytes a call.
        Assert.True(allocated < 1_000, $"999 calls allocated {allocated} bytes");
        Assert.Equal(1_000, ledger.Rows("default", CalendarPeriod.Hourly).Single().Totals.Calls);
        Assert.Equal(1_000, models.Models("default", models.Options.Windows[0]).Single().Calls);

        void Count(ProviderCall call)
        {
            ledger.Record(call);
            windows.RecordProviderCall(call);
            models.RecordCall(call);
        }
    }

    private static List<SpanLink> Links(int count, string prefix) => Enumerable.Range(0, count).Select(i => new SpanLink
    {
        Tenant = prefix,
        TraceId = (i / 3).ToString("x32", CultureInfo.InvariantCulture),
        SpanId = i.ToString("x16", CultureInfo.InvariantCulture),
        ParentSpanId = i % 3 == 0 ? null : "p" + i.ToString(CultureInfo.InvariantCulture),
        InvocationAgent = i % 3 == 0 ? prefix + "-agent" : null,
        SeenAt = Start,
    }).ToList();
}

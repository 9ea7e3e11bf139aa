using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Tests.Storage;

namespace PerfOtel.Collector.Tests.DerivedKernel;

/// <summary>
/// The attribution holds its span links by <see cref="CompactSpanKey"/> (ids as ulongs) to keep hundreds of thousands
/// of them small. A key must still mean exactly the three strings it was made from: equal keys for equal strings,
/// different keys for any difference (case included), and the same text back, whatever form a producer or a stored row
/// gives its ids.
/// </summary>
public sealed class CompactSpanKeyTests
{
    public static TheoryData<string, string> Ids => new()
    {
        { "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331" },
        { "00000000000000000000000000000000", "0000000000000000" },
        { "ffffffffffffffffffffffffffffffff", "ffffffffffffffff" },
        { "0AF7651916CD43DD8448EB211C80319C", "B7AD6B7169203331" },
        { "0af7651916cd43dd8448eb211c80319c", "B7AD6B7169203331" },
        { "trace-1", "inv" },
        { "", "" },
        { "1:2", "3:4" },
        { "0af7651916cd43dd", "b7ad6b7169203331" },
        { "0af7651916cd43dd8448eb211c80319c", "b7ad6b71692033" },
        { "0af7651916cd43dd8448eb211c80319g", "b7ad6b7169203331" },
    };

    [Fact]
    public void Keys_of_canonical_ids_allocate_nothing()
    {
        const string traceId = "0af7651916cd43dd8448eb211c80319c";
        const string spanId = "00f067aa0ba902b7";
        var key = CompactSpanKey.Of("default", traceId, spanId);
        _ = key.WithSpan(SpanIdValue.Of(spanId));

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            key = CompactSpanKey.Of("default", traceId, spanId);
            key = key.WithSpan(SpanIdValue.Of(spanId));
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // The runtime's hex parse into a span allocated 96 bytes per id: 288 per round here.
        Assert.Equal(0, allocated);
        Assert.Equal((traceId, spanId), (key.TraceId, key.SpanId));
    }

    [Theory]
    [InlineData("0af7651916cd43dd8448eb211c80319c", "00f067aa0ba902b7", true)]
    [InlineData("ffffffffffffffffffffffffffffffff", "0000000000000000", true)]
    [InlineData("0AF7651916CD43DD8448EB211C80319C", "00f067aa0ba902b7", false)]
    [InlineData("0af7651916cd43dd8448eb211c80319g", "00f067aa0ba902b7", false)]
    [InlineData("0af7651916cd43dd8448eb211c80319c", "00f067aa0ba902b/", false)]
    [InlineData("0af7651916cd43dd8448eb211c80319c", "00f067aa0ba902b:", false)]
    [InlineData("0af7651916cd43dd8448eb211c80319c", "00f067aa0ba902`7", false)]
    public void Only_lowercase_hex_ids_are_held_as_numbers_and_every_id_comes_back_as_sent(string traceId, string spanId, bool numbers)
    {
        var key = CompactSpanKey.Of("t", traceId, spanId);
        Assert.Equal((traceId, spanId), (key.TraceId, key.SpanId));
        Assert.Equal(numbers, CompactSpanKey.TryParseHex(spanId, out var value) && CompactSpanKey.TryParseHex(traceId.AsSpan(0, 16), out _)
            && CompactSpanKey.TryParseHex(traceId.AsSpan(16), out _));
        if (numbers)
        {
            Assert.Equal(Convert.ToUInt64(spanId, 16), value);
        }
        // The same ids in upper case are other keys, as the strings are, and come back in upper case.
        var upper = CompactSpanKey.Of("t", traceId.ToUpperInvariant(), spanId.ToUpperInvariant());
        Assert.Equal((traceId.ToUpperInvariant(), spanId.ToUpperInvariant()), (upper.TraceId, upper.SpanId));
        Assert.Equal(traceId == traceId.ToUpperInvariant() && spanId == spanId.ToUpperInvariant(), key == upper);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void A_key_gives_back_the_exact_ids_it_was_made_of(string traceId, string spanId)
    {
        var key = CompactSpanKey.Of("tenant-a", traceId, spanId);

        Assert.Equal(new SpanKey("tenant-a", traceId, spanId), key.ToSpanKey());
        Assert.Equal(key, CompactSpanKey.Of(new string("tenant-a".AsSpan()), new string(traceId.AsSpan()), new string(spanId.AsSpan())));
        Assert.Equal(key.GetHashCode(), CompactSpanKey.Of("tenant-a", traceId, spanId).GetHashCode());
        Assert.Equal(spanId, SpanIdValue.Of(spanId).ToString());
        Assert.Equal(key, CompactSpanKey.Of("tenant-a", traceId, "0000000000000001").WithSpan(SpanIdValue.Of(spanId)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(32)]
    public void Keys_that_differ_in_any_half_of_the_trace_id_or_in_the_span_id_hash_apart(int varyAt)
    {
        // A span id is unique within its trace only: traces that differ in the trace id's first half only (the
        // ingest-load driver's copies of one request, until it scrambled both halves) repeat the span id and the trace id's low half. Their keys must
        // spread over the tables of the span links and the invocation facts, or every lookup walks a chain of all the
        // traces sharing them.
        const string trace = "0af7651916cd43dd8448eb211c80319c";
        const string span = "b7ad6b7169203331";
        const int keys = 4096;
        var hashes = new HashSet<int>();
        for (var i = 0; i < keys; i++)
        {
            var ids = (trace + span).ToCharArray();
            i.ToString("x4", System.Globalization.CultureInfo.InvariantCulture).CopyTo(0, ids, varyAt, 4);
            var text = new string(ids);
            hashes.Add(CompactSpanKey.Of("default", text[..32], text[32..]).GetHashCode());
        }

        // 32-bit hashes of 4096 distinct keys: a collision or two at most by chance; one hash per key shape before.
        Assert.True(hashes.Count >= keys - 8, $"{hashes.Count} distinct hashes of {keys} keys");
    }

    [Fact]
    public void Keys_differ_exactly_when_their_strings_do()
    {
        var trace = TestRecords.TraceId();
        var span = TestRecords.SpanId();
        var keys = new[]
        {
            CompactSpanKey.Of("a", trace, span),
            CompactSpanKey.Of("b", trace, span),
            CompactSpanKey.Of("a", trace.ToUpperInvariant(), span),
            CompactSpanKey.Of("a", trace, span.ToUpperInvariant()),
            CompactSpanKey.Of("a", TestRecords.TraceId(), span),
            CompactSpanKey.Of("a", trace, TestRecords.SpanId()),
            // Odd ids whose concatenations agree must not meet.
            CompactSpanKey.Of("a", "ab", "cdef"),
            CompactSpanKey.Of("a", "abc", "def"),
            CompactSpanKey.Of("a", "1:ab", "c"),
            CompactSpanKey.Of("a", "1", ":abc"),
        };

        Assert.Equal(keys.Length, keys.Distinct().Count());
        Assert.Equal(keys.Length, keys.Select(k => k.ToSpanKey()).Distinct().Count());
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void A_call_exported_apart_is_attributed_to_its_invocation_span_id_as_sent(string traceId, string invocationSpanId)
    {
        var attribution = new SpanAttribution(TimeSpan.FromMinutes(15), 1_000);
        var now = new DateTimeOffset(2026, 12, 3, 2, 0, 0, TimeSpan.Zero);
        // The call arrives first, under a tool span under the invocation: held until its ancestry is complete.
        var call = TestRecords.ProviderCall(traceId, "Tool-1", null, new TokenCounts(100, 10, 0, 0, 0), 0.25)
            with { AgentName = null, InvocationSpanId = null };
        var first = new IngestBatch();
        first.ProviderCalls.Add(call);
        first.SpanLinks.Add(new SpanLink { Tenant = call.Tenant, TraceId = traceId, SpanId = call.SpanId, ParentSpanId = "Tool-1" });
        Assert.Empty(Commit(attribution, first, now).ProviderCalls);

        var second = new IngestBatch();
        second.SpanLinks.Add(new SpanLink { Tenant = call.Tenant, TraceId = traceId, SpanId = "Tool-1", ParentSpanId = invocationSpanId });
        second.SpanLinks.Add(new SpanLink { Tenant = call.Tenant, TraceId = traceId, SpanId = invocationSpanId, InvocationAgent = new string("planner".AsSpan()) });
        var counted = Assert.Single(Commit(attribution, second, now.AddSeconds(1)).ProviderCalls);

        Assert.Equal(invocationSpanId, counted.InvocationSpanId);
        Assert.Equal("planner", counted.AgentName);
    }

    private static IngestBatch Commit(SpanAttribution attribution, IngestBatch batch, DateTimeOffset now)
    {
        var plan = attribution.Plan(batch, now);
        return attribution.Commit(plan, plan.ToStore);
    }
}

using System.Text;
using System.Text.RegularExpressions;
using OpenTelemetry.Proto.Collector.Trace.V1;
using PerfOtel.Benchmarks.Ingest;

namespace PerfOtel.Collector.Tests.Otlp;

/// <summary>
/// The load driver's trace ids (#21, docs/collector/ingest-performance.md, "End-to-end ingest (over the wire)"): with
/// random ids every one of a trace id's 16 bytes varies from trace to trace, as the random ids of OpenTelemetry SDKs do,
/// so that nothing the collector keys or hashes on a part of the id sees the templates' repeats; a trace's spans keep
/// one id, and sequential ids keep their counter at the head.
/// </summary>
public sealed partial class LoadDriverTraceIdsTests
{
    private const ulong BaseNanos = 1_700_000_000_000_000_000;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RandomIds_VaryInBothHalves_AcrossRequestsOfOneTemplate(bool json)
    {
        var template = RequestTemplate.Create(3, 500, json, BaseNanos);
        var first = TraceIds(template, json, firstTrace: 1, randomIds: true);
        var second = TraceIds(template, json, firstTrace: 1 + (ulong)template.Traces, randomIds: true);

        Assert.Equal(template.Traces, first.Distinct().Count());
        Assert.Equal(template.Traces, second.Distinct().Count());
        // The same template sent twice: no high half and no low half repeats between or within the two requests.
        var all = first.Distinct().Concat(second.Distinct()).ToList();
        Assert.Equal(all.Count, all.Select(id => id[..16]).Distinct().Count());
        Assert.Equal(all.Count, all.Select(id => id[16..]).Distinct().Count());
    }

    [Fact]
    public void SequentialIds_PutTheCounterAtTheHead()
    {
        var template = RequestTemplate.Create(0, 500, json: false, BaseNanos);
        var ids = TraceIds(template, json: false, firstTrace: 41, randomIds: false).Distinct().ToList();

        Assert.Equal(template.Traces, ids.Count);
        Assert.Equal(Enumerable.Range(41, ids.Count).Select(n => ((ulong)n).ToString("x16")), ids.Select(id => id[..16]));
    }

    // The hex trace id of every span of the request, in the order they are encoded.
    private static List<string> TraceIds(RequestTemplate template, bool json, ulong firstTrace, bool randomIds)
    {
        var bytes = new byte[template.Length];
        template.WriteTo(bytes, firstTrace, shiftNanos: 0, randomIds);
        if (json)
        {
            return [.. JsonTraceId().Matches(Encoding.UTF8.GetString(bytes)).Select(m => m.Groups[1].Value.ToLowerInvariant())];
        }

        var request = ExportTraceServiceRequest.Parser.ParseFrom(bytes);
        return [.. request.ResourceSpans.SelectMany(r => r.ScopeSpans).SelectMany(s => s.Spans)
            .Select(span => Convert.ToHexStringLower(span.TraceId.Span))];
    }

    [GeneratedRegex("\"traceId\"\\s*:\\s*\"([0-9a-fA-F]{32})\"")]
    private static partial Regex JsonTraceId();
}

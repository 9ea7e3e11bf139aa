using System.Text.Json;
using System.Text.Json.Serialization;
using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Trace.V1;
using PerfOtel.Collector.Receiving.Mapping;
using Xunit;

namespace PerfOtel.Collector.Tests.Otlp.Support;

/// <summary>
/// Maps a request through both decoders, Google.Protobuf's objects and the wire reader over its serialized bytes (#21),
/// and asserts that the two results are the same: records, span links, counts and the partial-success message.
/// </summary>
internal static class BothDecoders
{
    private static readonly JsonSerializerOptions Options = new()
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = true,
    };

    /// <summary>The wire reader's result, after asserting that Google.Protobuf's path gives the same.</summary>
    public static MappingResult Map(SpanMapper mapper, ExportTraceServiceRequest request, string? forcedTenant = null)
    {
        var expected = mapper.Map(request, forcedTenant);
        var actual = mapper.Map(OtlpTraceWireReader.Read(request.ToByteArray()), forcedTenant);
        AssertSame(expected, actual);
        return actual;
    }

    /// <summary>Google.Protobuf's parse of <paramref name="bytes"/> against the wire reader's, mapped alike.</summary>
    public static MappingResult Map(SpanMapper mapper, byte[] bytes, string? forcedTenant = null)
    {
        var expected = mapper.Map(ExportTraceServiceRequest.Parser.ParseFrom(bytes), forcedTenant);
        var actual = mapper.Map(OtlpTraceWireReader.Read(bytes), forcedTenant);
        AssertSame(expected, actual);
        return actual;
    }

    public static void AssertSame(MappingResult expected, MappingResult actual)
    {
        Assert.Equal(expected.Received, actual.Received);
        Assert.Equal(expected.Rejected, actual.Rejected);
        Assert.Equal(expected.ErrorMessage, actual.ErrorMessage);
        Assert.Equal(Json(expected), Json(actual));
    }

    private static string Json(MappingResult result) => JsonSerializer.Serialize(new
    {
        result.Batch.Invocations,
        result.Batch.ProviderCalls,
        result.Batch.ToolCalls,
        result.Batch.Evaluations,
        result.Batch.SpanLinks,
        result.Batch.Count,
    }, Options);
}

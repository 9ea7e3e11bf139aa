using System.Text.Json;

namespace PerfOtel.Collector.Tests.EndToEnd;

/// <summary>Reads fields of the NDJSON export lines.</summary>
internal static class ExportFormat
{
    public static string SpanId(JsonElement line) =>
        line.GetProperty("spanId").GetString() ?? throw new InvalidOperationException("export line without spanId");
}

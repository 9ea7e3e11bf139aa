using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace PerfOtel.Collector.Tests.EndToEnd;

/// <summary>
/// Builds OTLP/JSON trace requests by hand (hex ids, int64 as strings), the way any non-.NET client would send them,
/// so that process-level tests need nothing but HttpClient.
/// </summary>
internal static class OtlpJsonSpans
{
    public static string NewTraceId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public static string NewSpanId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    /// <summary>One request with <paramref name="count"/> invoke_agent spans; returns the body and the span ids.</summary>
    public static (string Json, List<string> SpanIds) InvokeAgentBatch(int count, string agent = "crash-agent", string tenant = "default")
    {
        var ids = new List<string>(count);
        var sb = new StringBuilder();
        sb.Append("{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"e2e\"}}]},");
        sb.Append("\"scopeSpans\":[{\"scope\":{\"name\":\"PerfOtel.Agents\"},\"spans\":[");
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000L;
        for (var i = 0; i < count; i++)
        {
            var spanId = NewSpanId();
            ids.Add(spanId);
            if (i > 0)
            {
                sb.Append(',');
            }
            sb.Append(CultureInfo.InvariantCulture,
                $"{{\"traceId\":\"{NewTraceId()}\",\"spanId\":\"{spanId}\",\"name\":\"invoke_agent {agent}\",\"kind\":1,");
            sb.Append(CultureInfo.InvariantCulture,
                $"\"startTimeUnixNano\":\"{now - 2_000_000_000L}\",\"endTimeUnixNano\":\"{now}\",\"attributes\":[");
            sb.Append("{\"key\":\"gen_ai.operation.name\",\"value\":{\"stringValue\":\"invoke_agent\"}},");
            sb.Append(CultureInfo.InvariantCulture, $"{{\"key\":\"gen_ai.agent.name\",\"value\":{{\"stringValue\":\"{agent}\"}}}},");
            sb.Append(CultureInfo.InvariantCulture, $"{{\"key\":\"perfotel.tenant\",\"value\":{{\"stringValue\":\"{tenant}\"}}}},");
            sb.Append("{\"key\":\"perfotel.outcome\",\"value\":{\"stringValue\":\"success\"}}");
            sb.Append("],\"status\":{\"code\":1}}");
        }
        sb.Append("]}]}]}");
        return (sb.ToString(), ids);
    }
}

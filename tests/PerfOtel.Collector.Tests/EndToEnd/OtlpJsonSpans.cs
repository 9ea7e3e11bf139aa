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

    /// <summary>An invocation to send: agent, outcome, stated confidence, an accuracy evaluation and a quality score (both optional).</summary>
    public sealed record Invocation(string Agent, string Outcome, double Confidence, double? Accuracy, double DurationSeconds,
        double? Quality = null);

    /// <summary>One request carrying the given invocations as invoke_agent spans with evaluation events.</summary>
    public static string InvocationBatch(IEnumerable<Invocation> invocations, string tenant = "default")
    {
        var sb = new StringBuilder("{\"resourceSpans\":[{\"resource\":{},\"scopeSpans\":[{\"spans\":[");
        var end = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000L;
        var first = true;
        foreach (var inv in invocations)
        {
            if (!first)
            {
                sb.Append(',');
            }
            first = false;
            var start = end - (long)(inv.DurationSeconds * 1e9);
            sb.Append(CultureInfo.InvariantCulture,
                $"{{\"traceId\":\"{NewTraceId()}\",\"spanId\":\"{NewSpanId()}\",\"name\":\"invoke_agent {inv.Agent}\",\"kind\":1,");
            sb.Append(CultureInfo.InvariantCulture, $"\"startTimeUnixNano\":\"{start}\",\"endTimeUnixNano\":\"{end}\",\"attributes\":[");
            sb.Append("{\"key\":\"gen_ai.operation.name\",\"value\":{\"stringValue\":\"invoke_agent\"}},");
            sb.Append(CultureInfo.InvariantCulture, $"{{\"key\":\"gen_ai.agent.name\",\"value\":{{\"stringValue\":\"{inv.Agent}\"}}}},");
            sb.Append(CultureInfo.InvariantCulture, $"{{\"key\":\"perfotel.tenant\",\"value\":{{\"stringValue\":\"{tenant}\"}}}},");
            if (inv.Quality is { } quality)
            {
                sb.Append(CultureInfo.InvariantCulture, $"{{\"key\":\"perfotel.quality\",\"value\":{{\"doubleValue\":{quality.ToString("R", CultureInfo.InvariantCulture)}}}}},");
            }
            sb.Append(CultureInfo.InvariantCulture, $"{{\"key\":\"perfotel.confidence\",\"value\":{{\"doubleValue\":{inv.Confidence.ToString("R", CultureInfo.InvariantCulture)}}}}},");
            sb.Append(CultureInfo.InvariantCulture, $"{{\"key\":\"perfotel.outcome\",\"value\":{{\"stringValue\":\"{inv.Outcome}\"}}}}]");
            if (inv.Accuracy is { } accuracy)
            {
                sb.Append(CultureInfo.InvariantCulture,
                    $",\"events\":[{{\"timeUnixNano\":\"{end}\",\"name\":\"gen_ai.evaluation.result\",\"attributes\":[");
                sb.Append("{\"key\":\"gen_ai.evaluation.name\",\"value\":{\"stringValue\":\"accuracy\"}},");
                sb.Append(CultureInfo.InvariantCulture,
                    $"{{\"key\":\"gen_ai.evaluation.score.value\",\"value\":{{\"doubleValue\":{accuracy.ToString("R", CultureInfo.InvariantCulture)}}}}}]}}]");
            }
            sb.Append('}');
        }
        sb.Append("]}]}]}");
        return sb.ToString();
    }

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

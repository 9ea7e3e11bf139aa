using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Tests.Cardinality;

/// <summary>One agent invocation to send, with at most one chat call and one evaluation event.</summary>
internal sealed record SentInvocation(
    string Tenant,
    string Agent,
    DateTimeOffset Start,
    string? Model = null,
    double CostUsd = 0,
    string? EvaluationName = null,
    string? Experiment = null,
    string? Variant = null);

/// <summary>OTLP/JSON requests built by hand, as any client would send them, and a reader for /metrics samples.</summary>
internal static class CardinalityTraffic
{
    public const string Provider = "openai";

    public static async Task SendAsync(HttpClient client, IEnumerable<SentInvocation> invocations)
    {
        using var content = new StringContent(Request(invocations), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await client.PostAsync(new Uri("/v1/traces", UriKind.Relative), content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"OTLP answered {(int)response.StatusCode}: {body}");
        Assert.DoesNotContain("rejected", body, StringComparison.OrdinalIgnoreCase);
    }

    private static string Request(IEnumerable<SentInvocation> invocations)
    {
        var json = new StringBuilder("{\"resourceSpans\":[");
        var first = true;
        foreach (var invocation in invocations)
        {
            json.Append(first ? "" : ",");
            first = false;
            var traceId = Hex(16);
            var spanId = Hex(8);
            var start = invocation.Start.ToUnixTimeMilliseconds() * 1_000_000L;
            json.Append("{\"resource\":{\"attributes\":[").Append(Attribute(PerfOtelAttributes.Tenant, invocation.Tenant))
                .Append("]},\"scopeSpans\":[{\"spans\":[");
            var attributes = new List<string>
            {
                Attribute(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent),
                Attribute(GenAiAttributes.AgentName, invocation.Agent),
                Attribute(PerfOtelAttributes.Tenant, invocation.Tenant),
                Attribute(PerfOtelAttributes.Outcome, Outcomes.Success),
            };
            if (invocation.Experiment is not null)
            {
                attributes.Add(Attribute(PerfOtelAttributes.Experiment, invocation.Experiment));
                attributes.Add(Attribute(PerfOtelAttributes.Variant, invocation.Variant!));
            }
            json.Append(Span(traceId, spanId, null, $"invoke_agent {invocation.Agent}", start, start + 2_000_000_000L, attributes));
            if (invocation.EvaluationName is not null)
            {
                json.Length--;
                json.Append(CultureInfo.InvariantCulture,
                    $",\"events\":[{{\"timeUnixNano\":\"{start + 1_000_000_000L}\",\"name\":\"{GenAiEvents.EvaluationResult}\",\"attributes\":[")
                    .Append(Attribute(GenAiAttributes.EvaluationName, invocation.EvaluationName)).Append(',')
                    .Append(CultureInfo.InvariantCulture, $"{{\"key\":\"{GenAiAttributes.EvaluationScoreValue}\",\"value\":{{\"doubleValue\":0.5}}}}]}}]}}");
            }
            if (invocation.Model is not null)
            {
                json.Append(',').Append(Span(traceId, Hex(8), spanId, $"chat {invocation.Model}", start + 100_000_000L, start + 1_000_000_000L,
                [
                    Attribute(GenAiAttributes.OperationName, GenAiOperations.Chat),
                    Attribute(GenAiAttributes.ProviderName, Provider),
                    Attribute(GenAiAttributes.RequestModel, invocation.Model),
                    $"{{\"key\":\"{GenAiAttributes.UsageInputTokens}\",\"value\":{{\"intValue\":\"100\"}}}}",
                    $"{{\"key\":\"{GenAiAttributes.UsageOutputTokens}\",\"value\":{{\"intValue\":\"10\"}}}}",
                    string.Create(CultureInfo.InvariantCulture, $"{{\"key\":\"{PerfOtelAttributes.CostUsd}\",\"value\":{{\"doubleValue\":{invocation.CostUsd:R}}}}}"),
                ]));
            }
            json.Append("]}]}");
        }
        return json.Append("]}").ToString();
    }

    private static string Span(string traceId, string spanId, string? parentSpanId, string name, long start, long end, IEnumerable<string> attributes) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{{\"traceId\":\"{traceId}\",\"spanId\":\"{spanId}\",{(parentSpanId is null ? "" : $"\"parentSpanId\":\"{parentSpanId}\",")}\"name\":\"{name}\",\"kind\":1,") +
        string.Create(CultureInfo.InvariantCulture,
            $"\"startTimeUnixNano\":\"{start}\",\"endTimeUnixNano\":\"{end}\",\"attributes\":[{string.Join(',', attributes)}]}}");

    private static string Attribute(string key, string value) => $"{{\"key\":\"{key}\",\"value\":{{\"stringValue\":\"{value}\"}}}}";

    private static string Hex(int bytes) => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(bytes));
}

/// <summary>One sample of a Prometheus text exposition.</summary>
internal sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string Label(string name) => Labels.GetValueOrDefault(name, "");

    /// <summary>Every sample of the exposition (label values here never contain quotes, commas or escapes).</summary>
    public static List<Sample> Parse(string exposition)
    {
        var samples = new List<Sample>();
        foreach (var line in exposition.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }
            var open = line.IndexOf('{', StringComparison.Ordinal);
            var close = line.LastIndexOf('}');
            var name = open < 0 ? line[..line.IndexOf(' ', StringComparison.Ordinal)] : line[..open];
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (open >= 0)
            {
                foreach (var pair in line[(open + 1)..close].Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    var equals = pair.IndexOf('=', StringComparison.Ordinal);
                    labels[pair[..equals]] = pair[(equals + 2)..^1];
                }
            }
            var rest = line[((open < 0 ? name.Length : close + 1))..].Trim().Split(' ');
            samples.Add(new Sample(name, labels, double.Parse(rest[0], CultureInfo.InvariantCulture)));
        }
        return samples;
    }
}

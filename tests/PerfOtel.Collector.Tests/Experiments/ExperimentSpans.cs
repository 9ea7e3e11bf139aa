using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using PerfOtel.Testing;
using static PerfOtel.Collector.Tests.EndToEnd.OtlpJsonSpans;

namespace PerfOtel.Collector.Tests.Experiments;

/// <summary>One invocation of an experiment's variant, as an OTLP/JSON invoke_agent span.</summary>
internal sealed record ExperimentInvocation(string Variant, bool Success, double DurationSeconds, double? Quality = null);

/// <summary>Sends experiment invocations to a collector process over OTLP/HTTP JSON and reads its experiment routes.</summary>
internal static class ExperimentSpans
{
    public static async Task SendAsync(CollectorProcess collector, string tenant, string experiment, IEnumerable<ExperimentInvocation> invocations)
    {
        using var http = new HttpClient { BaseAddress = collector.BaseAddress };
        foreach (var chunk in invocations.Chunk(100))
        {
            using var content = new StringContent(Batch(tenant, experiment, chunk), Encoding.UTF8, "application/json");
            using var response = await http.PostAsync(new Uri("v1/traces", UriKind.Relative), content);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    public static async Task<JsonElement> GetAsync(CollectorProcess collector, string relative)
    {
        using var http = new HttpClient { BaseAddress = collector.BaseAddress };
        using var response = await http.GetAsync(new Uri(relative, UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>The analysis of one variant's metric in a REST experiment response.</summary>
    public static JsonElement Metric(JsonElement experiment, string variant, string metric) =>
        experiment.GetProperty("analysis").GetProperty("variants").EnumerateArray()
            .Single(v => v.GetProperty("variant").GetString() == variant)
            .GetProperty("metrics").EnumerateArray().Single(m => m.GetProperty("metric").GetString() == metric);

    private static string Attribute(string key, string value) =>
        "{\"key\":\"" + key + "\",\"value\":{\"stringValue\":\"" + value + "\"}}";

    private static string Batch(string tenant, string experiment, IEnumerable<ExperimentInvocation> invocations)
    {
        var c = CultureInfo.InvariantCulture;
        var end = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000L;
        var spans = invocations.Select(i =>
        {
            var start = end - (long)Math.Round(i.DurationSeconds * 1e9);
            var quality = i.Quality is { } q ? string.Create(c, $",{{\"key\":\"perfotel.quality\",\"value\":{{\"doubleValue\":{q:R}}}}}") : "";
            var outcome = i.Success ? "success" : "failure";
            return "{\"traceId\":\"" + NewTraceId() + "\",\"spanId\":\"" + NewSpanId() + "\",\"name\":\"invoke_agent support\",\"kind\":1," +
                "\"startTimeUnixNano\":\"" + start.ToString(c) + "\",\"endTimeUnixNano\":\"" + end.ToString(c) + "\",\"attributes\":[" +
                Attribute("gen_ai.operation.name", "invoke_agent") + "," + Attribute("gen_ai.agent.name", "support") + "," +
                Attribute("perfotel.tenant", tenant) + "," + Attribute("perfotel.outcome", outcome) + "," +
                Attribute("perfotel.experiment", experiment) + "," + Attribute("perfotel.variant", i.Variant) + quality + "]}";
        });
        return "{\"resourceSpans\":[{\"resource\":{},\"scopeSpans\":[{\"spans\":[" + string.Join(',', spans) + "]}]}]}";
    }
}

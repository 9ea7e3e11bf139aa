using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using PerfOtel.Testing;
using static PerfOtel.Collector.Tests.EndToEnd.OtlpJsonSpans;

namespace PerfOtel.Collector.Tests.EndToEnd;

/// <summary>
/// Issue 6 (and #17 item 6): the report's recommendations name a cheaper model for the same work. Two models serve the same agent with
/// the same success rate; the collector prices their calls from the shared catalog and GET /api/v1/report recommends
/// the cheaper one.
/// </summary>
[Collection(ProcessTests.Name)]
public sealed class ReportRecommendationTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("perfotel-report-").FullName;

    [Fact]
    public async Task Report_RecommendsTheCheaperModelOfEqualQuality()
    {
        await using var collector = await CollectorProcess.StartAsync(directory);
        using var http = new HttpClient { BaseAddress = collector.BaseAddress };
        // 400 invocations of agent writer per model, 380 of them successful (95 %), each with one chat call of 2 000 input
        // and 500 output tokens: gpt-4o costs several times what gpt-4o-mini does at catalog prices. 400 each makes the
        // 95 % interval of the difference [-0.031, 0.031], within the 0.05 margin (40 each would not: [-0.11, 0.11]).
        foreach (var model in new[] { "gpt-4o", "gpt-4o-mini" })
        {
            var body = Batch(Enumerable.Range(0, 400).Select(i => (model, success: i < 380)));
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await http.PostAsync("v1/traces", content);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using var report = JsonDocument.Parse(await http.GetStringAsync("api/v1/report?window=1h"));
        var recommendations = report.RootElement.GetProperty("recommendations").EnumerateArray().Select(r => r.GetString()!).ToList();
        Assert.Contains(recommendations, r => r.StartsWith("For agent writer on task type (none), openai/gpt-4o-mini costs", StringComparison.Ordinal)
            && r.Contains("for openai/gpt-4o ", StringComparison.Ordinal) && r.Contains("over 400 invocations", StringComparison.Ordinal));

        var markdown = await http.GetStringAsync("api/v1/report?window=1h&format=markdown");
        Assert.Contains("openai/gpt-4o-mini costs", markdown, StringComparison.Ordinal);
    }

    private static string Batch(IEnumerable<(string Model, bool Success)> invocations)
    {
        var sb = new StringBuilder("{\"resourceSpans\":[{\"resource\":{},\"scopeSpans\":[{\"spans\":[");
        var end = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000L;
        var first = true;
        foreach (var (model, success) in invocations)
        {
            var trace = NewTraceId();
            var parent = NewSpanId();
            sb.Append(first ? "" : ",");
            first = false;
            var outcome = success ? "success" : "failure";
            sb.Append(CultureInfo.InvariantCulture, $$$"""
                {"traceId":"{{{trace}}}","spanId":"{{{NewSpanId()}}}","parentSpanId":"{{{parent}}}","name":"chat {{{model}}}","kind":3,
                "startTimeUnixNano":"{{{end - 900_000_000}}}","endTimeUnixNano":"{{{end - 100_000_000}}}","attributes":[
                {"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},
                {"key":"gen_ai.provider.name","value":{"stringValue":"openai"}},
                {"key":"gen_ai.request.model","value":{"stringValue":"{{{model}}}"}},
                {"key":"gen_ai.usage.input_tokens","value":{"intValue":"2000"}},
                {"key":"gen_ai.usage.output_tokens","value":{"intValue":"500"}}]},
                {"traceId":"{{{trace}}}","spanId":"{{{parent}}}","name":"invoke_agent writer","kind":1,
                "startTimeUnixNano":"{{{end - 1_000_000_000}}}","endTimeUnixNano":"{{{end}}}","attributes":[
                {"key":"gen_ai.operation.name","value":{"stringValue":"invoke_agent"}},
                {"key":"gen_ai.agent.name","value":{"stringValue":"writer"}},
                {"key":"perfotel.outcome","value":{"stringValue":"{{{outcome}}}"}}]}
                """);
        }
        sb.Append("]}]}]}");
        return sb.ToString();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

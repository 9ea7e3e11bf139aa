using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Google.Protobuf;
using OpenTelemetry.Proto.Trace.V1;
using PerfOtel.Collector.Tests.Api;
using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;

namespace PerfOtel.Collector.Tests.UI;

/// <summary>
/// The pages keep what they computed for the tenant (its tables, its charts, the tenant-wide passes) until the data
/// changes: through the collector's real Program, new spans over OTLP change the next page, which still equals the
/// REST API, and the same data gives the same page.
/// </summary>
public sealed partial class UiFreshnessTests : IDisposable
{
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("perfotel-ui-fresh-").FullName;
    private int nextTrace = 0x5000;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(dataDirectory, recursive: true);
    }

    [Fact]
    public async Task New_data_changes_the_next_overview_and_agent_page_which_still_equal_the_rest_api()
    {
        // The collector as shipped, on a SQLite store (the agent page lists the agent's runs from the store).
        await using var collector = new SqliteCollectorFactory(dataDirectory);
        using var client = collector.CreateClient();
        await SendAsync(client, Runs("fresh-a", 10, failed: false, confidence: 0.85));
        await SendAsync(client, Runs("fresh-b", 10, failed: false, confidence: 0.85));

        var overview = await GetAsync(client, "/ui/");
        Assert.Equal(10, RowValue(overview, "fresh-a", "invocations"));
        Assert.DoesNotContain("data-row=\"fresh-a/success_rate\"", overview, StringComparison.Ordinal);
        var agent = await GetAsync(client, "/ui/agents/fresh-a");
        Assert.Equal(10, FigureValue(agent, "calibrationSamples"));
        Assert.Contains("0.1-0.2: 0,", agent, StringComparison.Ordinal);
        // No new data: the same page (but for the time in its footer).
        Assert.Equal(WithoutFooter(overview), WithoutFooter(await GetAsync(client, "/ui/")));
        Assert.Equal(WithoutFooter(agent), WithoutFooter(await GetAsync(client, "/ui/agents/fresh-a")));

        // fresh-a now fails ten times at a low confidence.
        await SendAsync(client, Runs("fresh-a", 10, failed: true, confidence: 0.15));

        var after = await GetAsync(client, "/ui/");
        Assert.Equal(20, RowValue(after, "fresh-a", "invocations"));
        Assert.Equal(10, RowValue(after, "fresh-b", "invocations"));
        var list = await GetJsonAsync(client, "/api/v1/metrics/agents");
        var rest = list.GetProperty("agents").EnumerateArray().Single(a => a.GetProperty("agent").GetString() == "fresh-a");
        Assert.Equal(0.5, rest.GetProperty("successRate").GetDouble());
        Assert.Equal(rest.GetProperty("successRate").GetDouble(), RowValue(after, "fresh-a", "successRate"));
        Assert.Equal(rest.GetProperty("healthScore").GetDouble(), RowValue(after, "fresh-a", "healthScore"));
        var health = await GetJsonAsync(client, "/api/v1/health");
        Assert.True(health.GetProperty("criticalAlerts").GetInt32() > 0);
        Assert.Equal(health.GetProperty("criticalAlerts").GetInt32(), FigureValue(after, "criticalAlerts"));
        Assert.Contains("data-row=\"fresh-a/success_rate\"", after, StringComparison.Ordinal);

        var agentAfter = await GetAsync(client, "/ui/agents/fresh-a");
        Assert.Equal(20, FigureValue(agentAfter, "calibrationSamples"));
        Assert.Equal(20, FigureValue(agentAfter, "invocations"));
        // The bin counts chart is drawn anew: ten samples in the 0.1-0.2 bin now.
        Assert.Contains("0.1-0.2: 10,", agentAfter, StringComparison.Ordinal);
        var metrics = await GetJsonAsync(client, "/api/v1/metrics/agents/fresh-a");
        var longest = metrics.GetProperty("windows").EnumerateArray().Last();
        Assert.Equal(longest.GetProperty("successRate").GetDouble(), FigureValue(agentAfter, "successRate"));
        Assert.Equal(longest.GetProperty("calibration").GetProperty("samples").GetInt64(), FigureValue(agentAfter, "calibrationSamples"));
    }

    private ExportTraceServiceRequestAlias Runs(string agent, int count, bool failed, double confidence)
    {
        var now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        var spans = new List<Span>();
        for (var i = 0; i < count; i++)
        {
            var n = nextTrace++;
            var start = now - (ulong)(count - i + 5) * 1_000_000_000UL;
            var invocation = Span($"invoke_agent {agent}", TraceId(n), SpanId(n * 16), attributes:
            [
                (GenAiAttributes.OperationName, GenAiOperations.InvokeAgent),
                (GenAiAttributes.AgentName, agent),
                (PerfOtelAttributes.Outcome, failed ? Outcomes.Failure : Outcomes.Success),
                (PerfOtelAttributes.Confidence, confidence),
            ]);
            invocation.StartTimeUnixNano = start;
            invocation.EndTimeUnixNano = start + 800_000_000UL;
            spans.Add(invocation);
        }
        return new ExportTraceServiceRequestAlias(Traces(spans));
    }

    private static async Task SendAsync(HttpClient client, ExportTraceServiceRequestAlias request)
    {
        using var response = await client.PostAsync(new Uri("/v1/traces", UriKind.Relative), Protobuf(request.Message));
        Assert.True(response.IsSuccessStatusCode, $"POST /v1/traces: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static async Task<string> GetAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {body}");
        return body;
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient client, string path) =>
        JsonDocument.Parse(await GetAsync(client, path)).RootElement.Clone();

    /// <summary>The exact value (data-value) of a number cell in a table row.</summary>
    private static double RowValue(string html, string row, string metric)
    {
        var match = Regex.Match(html, $"<tr data-row=\"{Regex.Escape(row)}\">(.*?)</tr>", RegexOptions.Singleline);
        Assert.True(match.Success, $"no row {row}");
        return Value(match.Groups[1].Value, metric);
    }

    /// <summary>The exact value of the page's first figure or cell for <paramref name="metric"/>.</summary>
    private static double FigureValue(string html, string metric) => Value(html, metric);

    private static double Value(string html, string metric)
    {
        var match = Regex.Match(html, $"data-metric=\"{Regex.Escape(metric)}\" data-value=\"([^\"]*)\"");
        Assert.True(match.Success, $"no {metric}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    private static string WithoutFooter(string html) => FooterPattern().Replace(html, "<footer/>");

    [GeneratedRegex("<footer>.*?</footer>", RegexOptions.Singleline)]
    private static partial Regex FooterPattern();

    /// <summary>The OTLP request (named here so the helper's signature stays short).</summary>
    private sealed record ExportTraceServiceRequestAlias(IMessage Message);
}

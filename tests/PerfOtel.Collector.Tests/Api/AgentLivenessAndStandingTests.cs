using System.Net;
using System.Text.Json;
using PerfOtel.Collector.Derived.Runs;
using PerfOtel.Collector.Derived.Thresholds;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Tests.Analytics;
using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Analytics.Records;

namespace PerfOtel.Collector.Tests.Api;

/// <summary>Agent reports' liveness (agentType, firstSeen, lastSeen, status, the last-seen gauge) and peer standing.</summary>
public sealed class AgentLivenessAndStandingTests : IDisposable
{
    private readonly AnalyticsApiFactory factory = new();
    private readonly HttpClient client;

    public AgentLivenessAndStandingTests() => client = factory.CreateClient();

    public void Dispose()
    {
        client.Dispose();
        factory.Dispose();
    }

    [Fact]
    public async Task Liveness_FollowsTheLatestRecord_ActiveThenIdleThenSilent()
    {
        // Clock at 12:30. planner: runs at 12:01 and 12:20 (2 s), a call at 12:25; the later run arrives first.
        var late = Invocation("planner", Noon.AddMinutes(20), duration: 2) with { AgentType = "react" };
        var early = Invocation("planner", Noon.AddMinutes(1)) with { AgentType = "plan-execute" };
        var batch = Batch(late);
        batch.ProviderCalls.Add(Call(late, 10, 5, 0.01) with { StartTime = Noon.AddMinutes(25) });
        factory.Observer.Apply(batch);
        factory.Observer.Apply(Batch(early));

        var report = await WindowReportAsync("planner");
        Assert.Equal("react", report.GetProperty("agentType").GetString());
        Assert.Equal(Noon.AddMinutes(1), report.GetProperty("firstSeen").GetDateTimeOffset());
        Assert.Equal(Noon.AddMinutes(25), report.GetProperty("lastSeen").GetDateTimeOffset());
        Assert.Equal("active", report.GetProperty("status").GetString());
        // The analytics exposition is re-derived in the background (Analytics:ExpositionRefreshInterval, 1 s): poll
        // /metrics as a scraper would until the gauge shows up.
        var sample = await LastSeenSampleAsync();
        Assert.Equal((double)Noon.AddMinutes(25).ToUnixTimeSeconds(), sample.Value);
        Assert.Equal(new Dictionary<string, string> { ["tenant"] = "default", ["agent"] = "planner" }, sample.Labels);

        // 15 minutes without a record: idle (Thresholds:AgentIdleAfterSeconds 900); an hour: silent (3600).
        factory.Clock.Set(Noon.AddMinutes(25 + 15) - TimeSpan.FromSeconds(1));
        Assert.Equal("active", (await WindowReportAsync("planner")).GetProperty("status").GetString());
        factory.Clock.Set(Noon.AddMinutes(25 + 15));
        Assert.Equal("idle", (await WindowReportAsync("planner")).GetProperty("status").GetString());
        factory.Clock.Set(Noon.AddMinutes(25 + 60));
        Assert.Equal("silent", (await WindowReportAsync("planner")).GetProperty("status").GetString());
        var list = await GetJsonAsync("/api/v1/metrics/agents?window=24h");
        Assert.Equal("silent", Assert.Single(list.GetProperty("agents").EnumerateArray()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Standing_RatesEachMetricAgainstTheBands_AndRanksAmongTheTenantsAgents()
    {
        // fast: 1 s, 500 tokens, 1 step per run. mid: 8 s, 1 500 tokens, 3 steps (a call and 2 tools). slow: 30 s,
        // 5 000 tokens, 10 steps (a call and 9 tools). Bands 5/10/20 s, 1 000/2 000/4 000 tokens, 3/5/8 steps.
        var batch = new IngestBatch();
        foreach (var (agent, seconds, tokens, tools) in new[] { ("fast", 1.0, 500L, 0), ("mid", 8.0, 1500L, 2), ("slow", 30.0, 5000L, 9) })
        {
            for (var run = 0; run < 2; run++)
            {
                var invocation = Invocation(agent, Noon.AddMinutes(10 + run), duration: seconds);
                batch.Invocations.Add(invocation);
                batch.ProviderCalls.Add(Call(invocation, tokens, 0, 0.01));
                for (var t = 0; t < tools; t++)
                {
                    batch.ToolCalls.Add(new ToolCall
                    {
                        Tenant = "default", TraceId = invocation.TraceId, SpanId = $"{run}{t}{agent}".PadLeft(16, '0')[..16],
                        ParentSpanId = invocation.SpanId, InvocationSpanId = invocation.SpanId, AgentName = agent,
                        ToolName = "search", StartTime = invocation.StartTime, DurationSeconds = 0.1,
                    });
                }
            }
        }
        factory.Observer.Apply(batch);

        var mid = (await WindowReportAsync("mid")).GetProperty("standing");
        AssertMetric(mid, "response_time", 8, "good", rank: 2, peers: 3, percentile: 50);
        AssertMetric(mid, "tokens_per_run", 1500, "good", rank: 2, peers: 3, percentile: 50);
        AssertMetric(mid, "steps_per_run", 3, "excellent", rank: 2, peers: 3, percentile: 50);
        Assert.Equal(["steps_per_run"], Names(mid, "strengths"));
        Assert.Empty(Names(mid, "weaknesses"));

        var fast = (await WindowReportAsync("fast")).GetProperty("standing");
        AssertMetric(fast, "response_time", 1, "excellent", rank: 1, peers: 3, percentile: 100);
        Assert.Equal(["response_time", "tokens_per_run", "steps_per_run"], Names(fast, "strengths"));

        var report = await GetJsonAsync("/api/v1/report");
        var slow = report.GetProperty("agents").EnumerateArray().Single(a => a.GetProperty("agent").GetString() == "slow")
            .GetProperty("standing");
        AssertMetric(slow, "steps_per_run", 10, "poor", rank: 3, peers: 3, percentile: 0);
        Assert.Equal(["response_time", "tokens_per_run", "steps_per_run"], Names(slow, "weaknesses"));
        Assert.Empty(Names(slow, "strengths"));
    }

    [Fact]
    public void Thresholds_RunWarningLivenessAndBandSettings_AreValidatedNamingTheSetting()
    {
        var options = new ThresholdOptions { AgentIdleAfterSeconds = 600, AgentSilentAfterSeconds = 300, MinRunConfidence = 2 };
        options.Tenants["acme"] = new TenantThresholdOverrides { TokensPerRunGood = 500, SlowRunFactor = 0 };

        var problems = options.Problems().ToList();

        Assert.Contains(problems, p => p.StartsWith("Thresholds:AgentSilentAfterSeconds must be greater than AgentIdleAfterSeconds", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Thresholds:MinRunConfidence must be in [0, 1]", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Thresholds:Tenants:acme:TokensPerRunExcellent, TokensPerRunGood and TokensPerRunAcceptable must be positive and ascending", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Thresholds:Tenants:acme:SlowRunFactor must be a positive number", StringComparison.Ordinal));
        Assert.Empty(new ThresholdOptions().Problems());
    }

    [Fact]
    public void Warnings_SlowExecutionIsAgainstTheAgentsOwnP95_TimesTheFactor()
    {
        var run = new StoredInvocation(Invocation("planner", Noon, duration: 6), default, null, 0, null);
        var thresholds = new ThresholdSet { SlowRunFactor = 1.5 };

        Assert.Empty(RunWarnings.Of(run, default, thresholds, agentP95Seconds: 4));
        var slow = Assert.Single(RunWarnings.Of(run, default, thresholds, agentP95Seconds: 3.9));
        Assert.Equal(RunWarnings.SlowExecution, slow.Name);
        Assert.Equal(3.9 * 1.5, slow.Threshold!.Value, 12);
        Assert.Empty(RunWarnings.Of(run, default, thresholds, agentP95Seconds: null));
    }

    [Theory]
    [InlineData("429", ErrorClasses.ProviderThrottled)]
    [InlineData("RateLimitError", ErrorClasses.ProviderThrottled)]
    [InlineData("System.TimeoutException", ErrorClasses.ProviderTimeout)]
    [InlineData("504", ErrorClasses.ProviderTimeout)]
    [InlineData("503", ErrorClasses.ProviderUnavailable)]
    [InlineData("overloaded_error", ErrorClasses.ProviderUnavailable)]
    [InlineData("System.Net.Http.HttpRequestException", ErrorClasses.ProviderUnavailable)]
    [InlineData("400", ErrorClasses.ProviderBadRequest)]
    [InlineData("context_length_exceeded", ErrorClasses.ProviderBadRequest)]
    [InlineData("15000", ErrorClasses.Other)]
    [InlineData("_OTHER", ErrorClasses.Other)]
    public void ErrorClasses_OfAFailedProviderCall(string errorType, string expected) =>
        Assert.Equal(expected, ErrorClasses.OfProviderCall(errorType));

    [Theory]
    [InlineData("ValidationError", ErrorClasses.ValidationError)]
    [InlineData("JsonException", ErrorClasses.ValidationError)]
    [InlineData("content_filter", ErrorClasses.GenerationError)]
    [InlineData("max_tokens", ErrorClasses.GenerationError)]
    [InlineData("rate_limit_exceeded", ErrorClasses.ProviderThrottled)]
    [InlineData("InvalidOperationException", ErrorClasses.Other)]
    [InlineData(null, ErrorClasses.Other)]
    public void ErrorClasses_OfAnInvocationsOwnFailure(string? errorType, string expected) =>
        Assert.Equal(expected, ErrorClasses.OfInvocation(errorType));

    private static void AssertMetric(JsonElement standing, string metric, double value, string category, int rank, int peers,
        double percentile)
    {
        var m = standing.GetProperty("metrics").EnumerateArray().Single(e => e.GetProperty("metric").GetString() == metric);
        Assert.Equal(value, m.GetProperty("value").GetDouble(), 9);
        Assert.Equal(category, m.GetProperty("category").GetString());
        Assert.Equal(rank, m.GetProperty("rank").GetInt32());
        Assert.Equal(peers, m.GetProperty("peers").GetInt32());
        Assert.Equal(percentile, m.GetProperty("percentile").GetDouble(), 9);
    }

    private static List<string?> Names(JsonElement standing, string property) =>
        standing.GetProperty(property).EnumerateArray().Select(e => e.GetString()).ToList();

    private static IEnumerable<ExpositionText.Sample> Scrape(string text) => ExpositionText.Samples(text);

    private async Task<ExpositionText.Sample> LastSeenSampleAsync()
    {
        for (var attempt = 0; ; attempt++)
        {
            var samples = Scrape(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)))
                .Where(s => s.Name == "perfotel_agent_last_seen_timestamp_seconds").ToList();
            if (samples.Count > 0 || attempt == 100)
            {
                return Assert.Single(samples);
            }
            await Task.Delay(100);
        }
    }

    private async Task<JsonElement> WindowReportAsync(string agent) =>
        (await GetJsonAsync($"/api/v1/metrics/agents/{agent}?window=24h")).GetProperty("windows")[0];

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }
}

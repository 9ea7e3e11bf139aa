using PerfOtel.Collector.Derived;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using PerfOtel.Collector.Tests.Analytics;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Testing;
using static PerfOtel.Collector.Tests.Analytics.Records;
using PerfOtel.Collector.Derived.Analytics;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Tests.Api;

/// <summary>The collector with a manual clock and an in-memory store; analytics fed through its ingest observer.</summary>
public sealed class AnalyticsApiFactory(IDictionary<string, string?>? settings = null) : WebApplicationFactory<Program>
{
    public ManualTimeProvider Clock { get; } = new(Noon.AddMinutes(30));

    public IDerivation Observer => Services.GetRequiredService<AnalyticsDerivation>();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<TimeProvider>(Clock);
            services.AddSingleton<IExecutionStore, Cost.InMemoryExecutionStore>();
        });
    }
}

public class AnalyticsApiTests : IDisposable
{
    private readonly AnalyticsApiFactory factory = new();
    private readonly HttpClient client;

    public AnalyticsApiTests()
    {
        client = factory.CreateClient();
        // "honest": 30 calibrated samples (0.8 with 4 of 5, 0.2 with 1 of 5), 2 s each, tasks "plan" and "code".
        var batch = new IngestBatch();
        for (var copy = 0; copy < 3; copy++)
        {
            for (var i = 0; i < 5; i++)
            {
                batch.Invocations.Add(Invocation("honest", Noon.AddMinutes(10), i < 4 ? Outcomes.Success : Outcomes.Failure,
                    duration: 2, confidence: 0.8, taskType: "plan"));
                batch.Invocations.Add(Invocation("honest", Noon.AddMinutes(10), i < 1 ? Outcomes.Success : Outcomes.Failure,
                    duration: 2, confidence: 0.2, taskType: "code"));
            }
        }
        // "steady": 20 successes, 1 s each, accuracy 0.9 from evaluations.
        for (var i = 0; i < 20; i++)
        {
            var invocation = Invocation("steady", Noon.AddMinutes(20));
            batch.Invocations.Add(invocation);
            batch.Evaluations.Add(Evaluation(invocation, "accuracy", 0.9));
        }
        factory.Observer.Apply(batch);
    }

    public void Dispose()
    {
        client.Dispose();
        factory.Dispose();
        GC.SuppressFinalize(this);
    }

    private async Task<JsonElement> GetJson(string path, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    [Fact]
    public async Task Agent_metrics_carry_every_derived_value_per_window()
    {
        var json = await GetJson("/api/v1/metrics/agents/honest");
        Assert.Equal("default", json.GetProperty("tenant").GetString());
        var windows = json.GetProperty("windows");
        Assert.Equal(["1h", "24h", "7d"], windows.EnumerateArray().Select(w => w.GetProperty("window").GetString()));
        var hour = windows[0];
        Assert.Equal(30, hour.GetProperty("invocations").GetInt64());
        Assert.Equal(0.5, hour.GetProperty("successRate").GetDouble(), 12);
        var calibration = hour.GetProperty("calibration");
        Assert.False(calibration.GetProperty("withheld").GetBoolean());
        Assert.Equal(0, calibration.GetProperty("expectedCalibrationError").GetDouble(), 12);
        Assert.Equal(0.16, calibration.GetProperty("brierScore").GetDouble(), 12);
        Assert.Equal(10, calibration.GetProperty("bins").GetArrayLength());
        Assert.Equal(15, calibration.GetProperty("bins")[8].GetProperty("samples").GetInt64());
        Assert.Equal(0.8, calibration.GetProperty("bins")[8].GetProperty("successRate").GetDouble(), 12);
        foreach (var property in new[] { "healthScore", "healthBand", "reliabilityScore", "efficiencyScore",
                     "specializationScore", "latencyP50Seconds", "latencyP95Seconds", "latencyP99Seconds", "anomaly", "trends" })
        {
            Assert.True(hour.TryGetProperty(property, out _), property);
        }
        // code and plan tie at 15 invocations: the ordinal first, code (3/15), is the main type against plan (12/15).
        Assert.Equal("code", hour.GetProperty("mainTaskType").GetString());
        Assert.Equal(-0.6, hour.GetProperty("specializationScore").GetDouble(), 12);
        Assert.Equal(JsonValueKind.Null, hour.GetProperty("accuracy").ValueKind);

        var only = await GetJson("/api/v1/metrics/agents/honest?window=24h");
        Assert.Equal("24h", Assert.Single(only.GetProperty("windows").EnumerateArray()).GetProperty("window").GetString());
    }

    [Fact]
    public async Task Unknown_agents_are_404_with_a_message()
    {
        var json = await GetJson("/api/v1/metrics/agents/nobody", HttpStatusCode.NotFound);
        Assert.Contains("nobody", json.GetProperty("error").GetString(), StringComparison.Ordinal);
        await GetJson("/api/v1/agents/nobody/prediction", HttpStatusCode.NotFound);
        await GetJson("/api/v1/metrics/agents/honest?tenant=acme", HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("/api/v1/metrics/system?window=2h", "window must be one of 1h, 24h, 7d, was '2h'.")]
    [InlineData("/api/v1/metrics/agents?window=", "window must be one of 1h, 24h, 7d, was ''.")]
    [InlineData("/api/v1/metrics/agents/honest?window=30d", "window must be one of 1h, 24h, 7d, was '30d'.")]
    [InlineData("/api/v1/alerts?tenant=", "tenant must be 1 to 256 characters when given.")]
    [InlineData("/api/v1/report?format=xml", "format must be json or markdown, was 'xml'.")]
    [InlineData("/api/v1/agents/honest/prediction?taskType=", "taskType must be 1 to 256 characters when given.")]
    [InlineData("/api/v1/health?window=1d", "window must be one of 1h, 24h, 7d, was '1d'.")]
    [InlineData("/api/v1/alerts?level=info", "level must be critical or warning, was 'info'.")]
    [InlineData("/api/v1/alerts?limit=0", "limit must be an integer from 1 to 1000, was '0'.")]
    [InlineData("/api/v1/alerts?limit=ten", "limit must be an integer from 1 to 1000, was 'ten'.")]
    [InlineData("/api/v1/alerts?since=yesterday", "since must be an ISO 8601 date and time (e.g. 2026-11-20T00:00:00Z), was 'yesterday'.")]
    [InlineData("/api/v1/alerts?agent=", "agent must be 1 to 256 characters when given.")]
    [InlineData("/api/v1/alerts?metric=succes_rate", "metric must be one of success_rate, error_rate, latency_p95, cost_per_invocation, accuracy, quality, tokens_per_invocation, anomaly_score, was 'succes_rate'.")]
    public async Task Bad_parameters_are_400_with_a_message(string path, string message)
    {
        var json = await GetJson(path, HttpStatusCode.BadRequest);
        Assert.Equal(message, json.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Health_system_and_agent_list_summarize_the_tenant()
    {
        var health = await GetJson("/api/v1/health");
        // honest succeeds in 15 of 30 invocations: below the 80 % critical threshold.
        Assert.Equal("critical", health.GetProperty("status").GetString());
        Assert.Equal(1, health.GetProperty("criticalAlerts").GetInt32());
        Assert.Equal(2, health.GetProperty("agents").GetInt32());
        Assert.Equal(50, health.GetProperty("invocations").GetInt64());

        var system = await GetJson("/api/v1/metrics/system?window=24h");
        Assert.Equal("24h", system.GetProperty("window").GetString());
        // 15 + 20 successes of 50.
        Assert.Equal(0.7, system.GetProperty("metrics").GetProperty("successRate").GetDouble(), 12);

        var agents = await GetJson("/api/v1/metrics/agents");
        Assert.Equal(["honest", "steady"], agents.GetProperty("agents").EnumerateArray().Select(a => a.GetProperty("agent").GetString()));
        Assert.Equal(0.9, agents.GetProperty("agents")[1].GetProperty("accuracy").GetDouble(), 12);
    }

    [Fact]
    public async Task Alerts_filter_by_level_agent_and_metric_with_stable_ids_and_start_times()
    {
        var all = (await GetJson("/api/v1/alerts")).GetProperty("alerts").EnumerateArray().ToList();
        Assert.NotEmpty(all);
        Assert.All(all, a => Assert.Equal(16, a.GetProperty("id").GetString()!.Length));
        Assert.All(all, a => Assert.Equal(JsonValueKind.Null, a.GetProperty("resolvedAt").ValueKind));

        var critical = await GetJson("/api/v1/alerts?level=critical&agent=honest&metric=success_rate");
        var alert = Assert.Single(critical.GetProperty("alerts").EnumerateArray());
        Assert.Equal("critical", alert.GetProperty("level").GetString());
        // The same breach keeps its id and start time from one request to the next (and the clock has not moved).
        var again = Assert.Single((await GetJson("/api/v1/alerts?level=critical&agent=honest&metric=success_rate")).GetProperty("alerts").EnumerateArray());
        Assert.Equal(alert.GetProperty("id").GetString(), again.GetProperty("id").GetString());
        Assert.Equal(alert.GetProperty("activeSince").GetDateTimeOffset(), again.GetProperty("activeSince").GetDateTimeOffset());
        Assert.Empty((await GetJson("/api/v1/alerts?agent=steady&level=critical")).GetProperty("alerts").EnumerateArray());
        // This host's store keeps no history: said so, not faked.
        Assert.False(critical.GetProperty("historyKept").GetBoolean());
        Assert.Empty(critical.GetProperty("resolved").EnumerateArray());
    }

    [Fact]
    public async Task Alerts_list_breaches_with_level_value_threshold_and_recommendation()
    {
        var json = await GetJson("/api/v1/alerts");
        var alerts = json.GetProperty("alerts").EnumerateArray().ToList();
        var success = Assert.Single(alerts, a => a.GetProperty("metric").GetString() == "success_rate");
        Assert.Equal("honest", success.GetProperty("agent").GetString());
        Assert.Equal("critical", success.GetProperty("level").GetString());
        Assert.Equal(0.5, success.GetProperty("value").GetDouble(), 12);
        Assert.Equal(0.8, success.GetProperty("threshold").GetDouble(), 12);
        Assert.False(string.IsNullOrWhiteSpace(success.GetProperty("recommendation").GetString()));
        var errors = Assert.Single(alerts, a => a.GetProperty("metric").GetString() == "error_rate");
        Assert.Equal("warning", errors.GetProperty("level").GetString());
        Assert.DoesNotContain(alerts, a => a.GetProperty("agent").GetString() == "steady");
    }

    [Fact]
    public async Task Prediction_is_the_beta_posterior_per_task_type()
    {
        // plan: 12 of 15 -> Beta(13, 4), mean 13/17.
        var plan = await GetJson("/api/v1/agents/honest/prediction?taskType=plan");
        Assert.Equal(13.0 / 17, plan.GetProperty("mean").GetDouble(), 12);
        Assert.Equal(13, plan.GetProperty("alpha").GetDouble());
        Assert.Equal(4, plan.GetProperty("beta").GetDouble());
        Assert.Equal("7d", plan.GetProperty("window").GetString());
        Assert.True(plan.GetProperty("lower90").GetDouble() < 13.0 / 17 && 13.0 / 17 < plan.GetProperty("upper90").GetDouble());

        var all = await GetJson("/api/v1/agents/honest/prediction");
        Assert.Equal(16.0 / 32, all.GetProperty("mean").GetDouble(), 12);

        var unseen = await GetJson("/api/v1/agents/honest/prediction?taskType=translate");
        Assert.Equal(0.5, unseen.GetProperty("mean").GetDouble(), 12);
        Assert.Equal(0.05, unseen.GetProperty("lower90").GetDouble(), 9);
    }

    [Fact]
    public async Task Report_is_json_by_default_and_markdown_when_asked()
    {
        var json = await GetJson("/api/v1/report");
        Assert.Equal(2, json.GetProperty("agents").GetArrayLength());
        Assert.NotEmpty(json.GetProperty("recommendations").EnumerateArray());
        Assert.Equal(0.8, json.GetProperty("thresholds").GetProperty("minSuccessRate").GetDouble());

        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/report");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/markdown"));
        using var response = await client.SendAsync(request);
        Assert.Equal("text/markdown", response.Content.Headers.ContentType!.MediaType);
        var markdown = await response.Content.ReadAsStringAsync();
        Assert.Equal(markdown, await client.GetStringAsync(new Uri("/api/v1/report?format=markdown", UriKind.Relative)));
        Snapshot.Verify(markdown, "report");
    }
}

public class AnalyticsConfigurationTests
{
    [Fact]
    public async Task Tenant_overrides_replace_only_the_settings_they_name()
    {
        using var factory = new AnalyticsApiFactory(new Dictionary<string, string?>
        {
            ["Thresholds:Tenants:acme:MinSuccessRate"] = "0.95",
        });
        using var client = factory.CreateClient();
        var batch = new IngestBatch();
        foreach (var tenant in new[] { "default", "acme" })
        {
            for (var i = 0; i < 10; i++)
            {
                batch.Invocations.Add(Invocation("agent", Noon, i < 9 ? Outcomes.Success : Outcomes.Partial, tenant: tenant));
            }
        }
        factory.Observer.Apply(batch);

        var acme = JsonDocument.Parse(await client.GetStringAsync(new Uri("/api/v1/alerts?tenant=acme", UriKind.Relative))).RootElement;
        var breach = Assert.Single(acme.GetProperty("alerts").EnumerateArray());
        Assert.Equal(0.95, breach.GetProperty("threshold").GetDouble());
        var standard = JsonDocument.Parse(await client.GetStringAsync(new Uri("/api/v1/alerts", UriKind.Relative))).RootElement;
        Assert.Empty(standard.GetProperty("alerts").EnumerateArray());
        var report = JsonDocument.Parse(await client.GetStringAsync(new Uri("/api/v1/report?tenant=acme", UriKind.Relative))).RootElement;
        Assert.Equal(0.15, report.GetProperty("thresholds").GetProperty("maxErrorRate").GetDouble());
    }

    [Theory]
    [InlineData("Thresholds:MaxErrorRate", "1.5", "Thresholds:MaxErrorRate must be in [0, 1], was 1.5.")]
    [InlineData("Thresholds:Tenants:acme:MaxLatencyP95Seconds", "0", "Thresholds:Tenants:acme:MaxLatencyP95Seconds must be a positive number of seconds, was 0.")]
    [InlineData("Analytics:CalibrationMinimumSamples", "0", "Analytics:CalibrationMinimumSamples must be at least 1, was 0.")]
    public void Invalid_settings_stop_the_start_naming_the_setting(string key, string value, string message)
    {
        using var factory = new AnalyticsApiFactory(new Dictionary<string, string?> { [key] = value });
        var exception = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains(message, exception.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Retention_shorter_than_the_windows_hold_stops_the_start_naming_both_settings()
    {
        // The default 7d window and its previous week need 14 days of stored history to be the same after a restart.
        using var tooShort = new AnalyticsApiFactory(new Dictionary<string, string?> { ["Storage:RetentionDays"] = "13" });
        var exception = Assert.ThrowsAny<Exception>(() => tooShort.CreateClient());
        Assert.Contains("Storage:RetentionDays is 13 but the analytics windows hold 14 days", exception.ToString(), StringComparison.Ordinal);
        Assert.Contains("Analytics:Windows, 7d", exception.ToString(), StringComparison.Ordinal);

        using var enough = new AnalyticsApiFactory(new Dictionary<string, string?> { ["Storage:RetentionDays"] = "14" });
        enough.CreateClient().Dispose();
        // Shorter windows need less: two days cover a 24h window and its previous day.
        using var shorter = new AnalyticsApiFactory(new Dictionary<string, string?>
        {
            ["Storage:RetentionDays"] = "2",
            ["Analytics:Windows:0:Name"] = "24h",
            ["Analytics:Windows:0:Duration"] = "1.00:00:00",
            ["Analytics:Windows:0:BucketWidth"] = "00:15:00",
        });
        shorter.CreateClient().Dispose();
    }

    [Fact]
    public void Windows_are_configurable_and_validated()
    {
        using var bad = new AnalyticsApiFactory(new Dictionary<string, string?>
        {
            ["Analytics:Windows:0:Name"] = "5m",
            ["Analytics:Windows:0:Duration"] = "00:05:00",
            ["Analytics:Windows:0:BucketWidth"] = "00:02:00",
        });
        var exception = Assert.ThrowsAny<Exception>(() => bad.CreateClient());
        Assert.Contains("Analytics:Windows:0:Duration must be a whole multiple of BucketWidth", exception.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Configured_windows_replace_the_defaults()
    {
        using var factory = new AnalyticsApiFactory(new Dictionary<string, string?>
        {
            ["Analytics:Windows:0:Name"] = "5m",
            ["Analytics:Windows:0:Duration"] = "00:05:00",
            ["Analytics:Windows:0:BucketWidth"] = "00:01:00",
        });
        using var client = factory.CreateClient();
        using var response = await client.GetAsync(new Uri("/api/v1/metrics/system?window=1h", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("window must be one of 5m", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

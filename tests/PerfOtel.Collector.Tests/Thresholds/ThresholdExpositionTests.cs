using System.Text.Json;
using PerfOtel.Collector.Tests.Api;
using PerfOtel.Collector.Tests.Cardinality;
using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Analytics.Records;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Tests.Thresholds;

/// <summary>
/// One configuration: the thresholds a tenant or an agent is given reach /metrics as perfotel_threshold (what the
/// Prometheus rules compare against), the REST alerts and the health score's latency limit alike.
/// </summary>
public sealed class ThresholdExpositionTests : IDisposable
{
    private readonly AnalyticsApiFactory factory = new(new Dictionary<string, string?>
    {
        ["Thresholds:MinSuccessRate"] = "0.75",
        ["Thresholds:Tenants:acme:MinSuccessRate"] = "0.95",
        ["Thresholds:Tenants:acme:MaxLatencyP95Seconds"] = "2",
        ["Thresholds:Tenants:acme:Agents:batch:MinSuccessRate"] = "0.85",
        ["Thresholds:Tenants:beta:MaxErrorRate"] = "0.05",
        ["Thresholds:AgentSilentAfterSeconds"] = "5400",
        ["Thresholds:Tenants:acme:AgentSilentAfterSeconds"] = "7200",
        ["Thresholds:Tenants:acme:Agents:batch:AgentSilentAfterSeconds"] = "1800",
        ["Analytics:AnomalyThreshold"] = "4",
    });

    public void Dispose()
    {
        factory.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task Metrics_carry_the_section_wide_tenant_and_agent_thresholds()
    {
        using var client = factory.CreateClient();
        var samples = Sample.Parse(await client.GetStringAsync(new Uri("/metrics", UriKind.Relative)))
            .Where(s => s.Name == "perfotel_threshold").ToList();

        double Value(string tenant, string agent, string metric, string level) => Assert.Single(samples,
            s => s.Label("tenant") == tenant && s.Label("agent") == agent && s.Label("metric") == metric && s.Label("level") == level).Value;

        Assert.Equal(0.75, Value("", "", "success_rate", "critical"));
        Assert.Equal(0.95, Value("acme", "", "success_rate", "critical"));
        Assert.Equal(0.85, Value("acme", "batch", "success_rate", "critical"));
        // Settings a scope does not override are those of the enclosing scope.
        Assert.Equal(5, Value("", "", "latency_p95", "warning"));
        Assert.Equal(2, Value("acme", "", "latency_p95", "warning"));
        Assert.Equal(2, Value("acme", "batch", "latency_p95", "warning"));
        Assert.Equal(3, Value("acme", "batch", "hourly_cost_spike", "warning"));
        Assert.Equal(4, Value("", "", "anomaly_score", "warning"));
        Assert.Equal(0.8, Value("acme", "", "budget_utilization", "warning"));
        Assert.Equal(1, Value("acme", "", "budget_utilization", "critical"));
        // Liveness (PerfOtelAgentSilent), in seconds: section-wide, a tenant's and an agent's override, and a tenant
        // that overrides something else inherits the section's.
        Assert.Equal(5400, Value("", "", "silent", "warning"));
        Assert.Equal(7200, Value("acme", "", "silent", "warning"));
        Assert.Equal(1800, Value("acme", "batch", "silent", "warning"));
        Assert.Equal(5400, Value("beta", "", "silent", "warning"));
        // Section-wide, two tenants, one agent: each with the full set of rows.
        Assert.Equal(4 * PerfOtel.Collector.Derived.Thresholds.ThresholdSeries.All.Count, samples.Count);
        // Unconfigured tenants get no series of their own: PromQL falls back to the section-wide one.
        Assert.DoesNotContain(samples, s => s.Label("tenant") == "default");
    }

    [Fact]
    public async Task Rest_alerts_and_health_follow_the_agents_threshold_over_the_tenants()
    {
        // 90 % success for two agents of acme and for the default tenant and beta: acme pages at 95 %, its agent batch at
        // 85 %; beta warns on its 10 % error rate (limit 5 %); the default tenant is within every threshold.
        var batch = new IngestBatch();
        foreach (var (tenant, agent) in new[] { ("acme", "triage"), ("acme", "batch"), ("default", "triage"), ("beta", "triage") })
        {
            for (var i = 0; i < 10; i++)
            {
                batch.Invocations.Add(Invocation(agent, Noon.AddMinutes(10), i < 9 ? Outcomes.Success : Outcomes.Failure, tenant: tenant));
            }
        }
        factory.Observer.Apply(batch);
        using var client = factory.CreateClient();

        async Task<List<(string Agent, string Metric, double Threshold)>> Alerts(string tenant)
        {
            var body = JsonDocument.Parse(await client.GetStringAsync(new Uri($"/api/v1/alerts?tenant={tenant}", UriKind.Relative))).RootElement;
            return body.GetProperty("alerts").EnumerateArray()
                .Select(b => (b.GetProperty("agent").GetString()!, b.GetProperty("metric").GetString()!, b.GetProperty("threshold").GetDouble()))
                .ToList();
        }

        Assert.Equal([("triage", "success_rate", 0.95)], await Alerts("acme"));
        Assert.Empty(await Alerts("default"));
        Assert.Equal([("triage", "error_rate", 0.05)], await Alerts("beta"));

        async Task<string> Status(string tenant) =>
            JsonDocument.Parse(await client.GetStringAsync(new Uri($"/api/v1/health?tenant={tenant}", UriKind.Relative)))
                .RootElement.GetProperty("status").GetString()!;
        Assert.Equal("critical", await Status("acme"));
        Assert.Equal("degraded", await Status("beta"));
        Assert.Equal("ok", await Status("default"));
        Assert.Equal("no_data", await Status("nobody"));
    }
}

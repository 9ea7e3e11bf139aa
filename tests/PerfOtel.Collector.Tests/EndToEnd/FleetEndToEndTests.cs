using System.Globalization;
using System.Text.Json;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.EndToEnd;

/// <summary>
/// The whole path a user runs: the agent fleet process, instrumented with PerfOtel and exporting with the real
/// OpenTelemetry OTLP exporter (HttpProtobuf), into a collector process on its SQLite store, out through the REST API
/// and /metrics.
/// </summary>
[Collection(ProcessTests.Name)]
public sealed class FleetEndToEndTests : IDisposable
{
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("perfotel-fleet-e2e-").FullName;

    [Fact]
    public async Task Fleet_ThroughOtlp_ReachesStoreAnalyticsAndMetrics_OverconfidentAgentShowsHigherEce()
    {
        await using var collector = await CollectorProcess.StartAsync(dataDirectory, new Dictionary<string, string>(FleetProcess.ExperimentSettings("default")));
        var (invocations, output) = await FleetProcess.RunAsync(
            ["--endpoint", collector.BaseAddress.ToString(), "--duration", "20", "--rate", "25", "--seed", "11", "--feedback", "0.5"],
            TimeSpan.FromMinutes(3));
        Assert.True(invocations >= 300, output);

        using var http = new HttpClient { BaseAddress = collector.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

        // Every invocation the fleet made was acknowledged and stored (the fleet flushes its exporter before exiting).
        var exported = (await http.GetStringAsync("api/v1/executions/export?since=2000-01-01T00:00:00Z"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(invocations, exported.Length);

        // Analytics: counts agree with the store; feedback produced accuracy; calibration tells the agents apart.
        using var agents = JsonDocument.Parse(await http.GetStringAsync("api/v1/metrics/agents?window=1h"));
        var byAgent = agents.RootElement.GetProperty("agents").EnumerateArray()
            .ToDictionary(a => a.GetProperty("agent").GetString()!);
        Assert.Equal(invocations, byAgent.Values.Sum(a => a.GetProperty("invocations").GetInt32()));
        Assert.True(byAgent["support-triage"].GetProperty("accuracy").ValueKind == JsonValueKind.Number, "feedback gave no accuracy");

        var calibrated = await EceAsync(http, "support-triage");
        var overconfident = await EceAsync(http, "sales-forecaster");
        Assert.True(overconfident > calibrated + 0.05,
            $"overconfident agent ECE {overconfident.ToString(CultureInfo.InvariantCulture)} should exceed calibrated {calibrated.ToString(CultureInfo.InvariantCulture)}");

        // The fleet's experiment: research-assistant's tasks split between its model and gpt-4o-mini, assigned by task id;
        // every one of its invocations is in one variant, and the cheaper variant is cheaper per invocation.
        using var experiment = JsonDocument.Parse(await http.GetStringAsync($"api/v1/experiments/{FleetProcess.Experiment}"));
        Assert.True(experiment.RootElement.GetProperty("defined").GetBoolean());
        var analysis = experiment.RootElement.GetProperty("analysis");
        var variants = analysis.GetProperty("variants").EnumerateArray().ToDictionary(v => v.GetProperty("variant").GetString()!);
        Assert.Equal(["cheaper", "control"], variants.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(byAgent["research-assistant"].GetProperty("invocations").GetInt64(), variants.Values.Sum(v => v.GetProperty("invocations").GetInt64()));
        Assert.All(variants.Values, v => Assert.True(v.GetProperty("invocations").GetInt64() > 20, v.GetRawText()));
        double Cost(string variant) => variants[variant].GetProperty("metrics").EnumerateArray()
            .Single(m => m.GetProperty("metric").GetString() == "cost").GetProperty("estimate").GetProperty("estimate").GetDouble();
        Assert.True(Cost("cheaper") < Cost("control") / 3, $"cheaper {Cost("cheaper")} against control {Cost("control")}");
        Assert.Contains(analysis.GetProperty("verdict").GetString(), new[] { "running", "winner", "no_difference", "guardrail_violated", "srm" });

        // The same values on /metrics under the names the rules and dashboards use.
        var metrics = await Exposition.ScrapeUntilAsync(http, text => Exposition.WindowInvocations(text) == invocations,
            "every invocation in the analytics");
        Assert.Equal(overconfident, Exposition.AgentGauge(metrics, "perfotel_agent_calibration_error", "sales-forecaster"), 9);
        Assert.Equal(calibrated, Exposition.AgentGauge(metrics, "perfotel_agent_calibration_error", "support-triage"), 9);
        Assert.Contains("perfotel_agent_health_score{", metrics, StringComparison.Ordinal);
        Assert.Contains("perfotel_collector_", metrics, StringComparison.Ordinal);
        // Provider calls were priced from the shared catalog, and the unpriced model's tokens are surfaced.
        Assert.Contains("perfotel_cost_usd_total{", metrics, StringComparison.Ordinal);
        Assert.Contains("perfotel_cost_unpriced_tokens_total{", metrics, StringComparison.Ordinal);
    }

    private static async Task<double> EceAsync(HttpClient http, string agent)
    {
        using var doc = JsonDocument.Parse(await http.GetStringAsync($"api/v1/metrics/agents/{agent}"));
        var window = doc.RootElement.GetProperty("windows").EnumerateArray().First(w => w.GetProperty("window").GetString() == "1h");
        var calibration = window.GetProperty("calibration");
        Assert.False(calibration.GetProperty("withheld").GetBoolean(), $"{agent}: calibration withheld");
        return calibration.GetProperty("expectedCalibrationError").GetDouble();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

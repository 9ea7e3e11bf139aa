using System.Globalization;
using System.Net;
using System.Text;
using PerfOtel.Testing;
using static PerfOtel.Collector.Tests.EndToEnd.OtlpJsonSpans;

namespace PerfOtel.Collector.Tests.EndToEnd;

/// <summary>
/// Principle 4: two collector replicas, each fed half of the data, scraped by a real Prometheus running the shipped
/// recording rules, give the same accuracy, quality, ECE, Brier score, overconfidence and success ratio as one collector fed
/// all of it.
/// </summary>
[Collection(ProcessTests.Name)]
public sealed class ReplicaMergeTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("perfotel-replicas-").FullName;

    [Fact]
    public async Task DocumentedPromQlOverTwoReplicas_EqualsTheGaugesOfOneCollector()
    {
        var random = new Random(20261122);
        var invocations = Enumerable.Range(0, 240).Select(i =>
        {
            var agent = i % 2 == 0 ? "alpha" : "beta";
            // alpha states its real chance of success; beta claims 0.9 and succeeds about 60 % of the time.
            var confidence = agent == "alpha" ? Math.Round(0.2 + (random.NextDouble() * 0.75), 3) : Math.Round(0.85 + (random.NextDouble() * 0.1), 3);
            var successChance = agent == "alpha" ? confidence : 0.6;
            var outcome = random.NextDouble() < successChance ? "success" : (random.NextDouble() < 0.2 ? "partial" : "failure");
            double? accuracy = i % 3 == 0 ? Math.Round(random.NextDouble(), 3) : null;
            double? quality = i % 4 == 1 ? null : Math.Round(random.NextDouble(), 3);
            return new Invocation(agent, outcome, confidence, accuracy, 0.2 + random.NextDouble(), quality);
        }).ToList();

        await using var whole = await CollectorProcess.StartAsync(Path.Combine(directory, "whole"));
        await using var replicaA = await CollectorProcess.StartAsync(Path.Combine(directory, "a"));
        await using var replicaB = await CollectorProcess.StartAsync(Path.Combine(directory, "b"));
        await SendAsync(whole, invocations);
        await SendAsync(replicaA, invocations.Where((_, i) => i % 3 != 0));
        await SendAsync(replicaB, invocations.Where((_, i) => i % 3 == 0));

        var rules = RepoPaths.Combine("alerting", "prometheus-rules", "perfotel-recording.rules.yaml");
        await using var prometheus = await PrometheusServer.StartAsync(
            new Dictionary<string, string[]> { ["perfotel-collector"] = [Target(replicaA), Target(replicaB)] },
            ruleFiles: [rules]);

        using var http = new HttpClient { BaseAddress = whole.BaseAddress };
        var single = await Exposition.ScrapeUntilAsync(http, text => Exposition.WindowInvocations(text) == invocations.Count,
            "every invocation in the analytics");

        var pairs = new (string Recorded, string Gauge)[]
        {
            ("tenant_agent_window:perfotel_agent_calibration_error:merged", "perfotel_agent_calibration_error"),
            ("tenant_agent_window:perfotel_agent_brier_score:merged", "perfotel_agent_brier_score"),
            ("tenant_agent_window:perfotel_agent_overconfidence:merged", "perfotel_agent_overconfidence"),
            ("tenant_agent_window:perfotel_agent_accuracy:merged", "perfotel_agent_accuracy"),
            ("tenant_agent_window:perfotel_agent_quality:merged", "perfotel_agent_quality"),
            ("tenant_agent_window:perfotel_agent_success:ratio", "perfotel_agent_success_ratio"),
            ("tenant_agent_window:perfotel_agent_error:ratio", "perfotel_agent_error_ratio"),
        };
        // Both replicas must be in before anything is compared: a rule evaluated after only one scrape would merge half
        // the data. The invocation total over both replicas equals the whole only once both were scraped.
        await prometheus.WaitForAsync(
            "sum(tenant_agent_window:perfotel_agent_window_invocations:sum{window=\"1h\"})",
            r => r.Count == 1 && r[0].Value == invocations.Count, TimeSpan.FromSeconds(60));

        foreach (var (recorded, gauge) in pairs)
        {
            foreach (var agent in new[] { "alpha", "beta" })
            {
                var expected = Exposition.AgentGauge(single, gauge, agent);
                // Rule groups evaluate independently, so allow a few evaluations for every record to catch up.
                var results = await prometheus.WaitForAsync($"{recorded}{{window=\"1h\",agent=\"{agent}\"}}",
                    r => r.Count == 1 && Math.Abs(r[0].Value - expected) < 1e-9, TimeSpan.FromSeconds(20));
                Assert.Equal(expected, results[0].Value, 9);
            }
        }
        Assert.True(Exposition.AgentGauge(single, "perfotel_agent_calibration_error", "beta") > Exposition.AgentGauge(single, "perfotel_agent_calibration_error", "alpha"));
    }

    private static string Target(CollectorProcess c) => $"127.0.0.1:{c.Port}";

    private static async Task SendAsync(CollectorProcess collector, IEnumerable<Invocation> invocations)
    {
        using var http = new HttpClient { BaseAddress = collector.BaseAddress };
        foreach (var chunk in invocations.Chunk(50))
        {
            using var content = new StringContent(InvocationBatch(chunk), Encoding.UTF8, "application/json");
            using var response = await http.PostAsync("v1/traces", content);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
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

using System.Text.Json;
using PerfOtel.Collector.Tests.EndToEnd;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Experiments;

/// <summary>
/// Principle 4 for experiments: two collector replicas, each fed part of an experiment's invocations, scraped by a real
/// Prometheus running perfotel-experiments.rules.yaml, give the estimates, intervals, lifts and SRM chi-square of the
/// REST analysis of one collector fed all of them; the p95 latency recorded from their summed histogram buckets equals the
/// one recorded from that collector's.
/// </summary>
[Collection(ProcessTests.Name)]
public sealed class ExperimentReplicaTests : IDisposable
{
    private static readonly string[] Metrics = ["success", "quality", "latency"];

    private readonly string directory = Directory.CreateTempSubdirectory("perfotel-experiment-replicas-").FullName;

    [Fact]
    public async Task RecordedSeriesOverTwoReplicas_EqualTheRestAnalysisOfOneCollector()
    {
        var settings = new Dictionary<string, string>
        {
            ["Experiments:Definitions:acme:model-swap:Variants:control"] = "1",
            ["Experiments:Definitions:acme:model-swap:Variants:cheaper"] = "1",
            ["Experiments:Definitions:acme:model-swap:Control"] = "control",
            ["Experiments:Definitions:acme:model-swap:Guardrails:latency"] = "0.1",
        };
        var random = new Random(20261202);
        var invocations = Enumerable.Range(0, 300).Select(i =>
        {
            var cheaper = i % 5 < 2; // 120 cheaper, 180 control: an SRM against 50/50
            return new ExperimentInvocation(cheaper ? "cheaper" : "control",
                random.NextDouble() < (cheaper ? 0.8 : 0.7),
                Math.Round((cheaper ? 0.5 : 0.8) + random.NextDouble(), 3),
                Quality: i % 3 == 0 ? null : Math.Round(random.NextDouble(), 3));
        }).ToList();

        await using var whole = await CollectorProcess.StartAsync(Path.Combine(directory, "whole"), settings);
        await using var replicaA = await CollectorProcess.StartAsync(Path.Combine(directory, "a"), settings);
        await using var replicaB = await CollectorProcess.StartAsync(Path.Combine(directory, "b"), settings);
        await ExperimentSpans.SendAsync(whole, "acme", "model-swap", invocations);
        await ExperimentSpans.SendAsync(replicaA, "acme", "model-swap", invocations.Where((_, i) => i % 4 != 0));
        await ExperimentSpans.SendAsync(replicaB, "acme", "model-swap", invocations.Where((_, i) => i % 4 == 0));

        await using var prometheus = await PrometheusServer.StartAsync(
            new Dictionary<string, string[]> { ["perfotel-collector"] = [$"127.0.0.1:{replicaA.Port}", $"127.0.0.1:{replicaB.Port}"] },
            ruleFiles: [RepoPaths.Combine("alerting", "prometheus-rules", "perfotel-experiments.rules.yaml")]);
        // Both replicas must be in before anything is compared.
        await prometheus.WaitForAsync("sum(tenant_experiment_variant:perfotel_experiment_invocations:sum)",
            r => r.Count == 1 && r[0].Value == invocations.Count, TimeSpan.FromSeconds(60));

        var experiment = await ExperimentSpans.GetAsync(whole, "api/v1/experiments/model-swap?tenant=acme");
        var compared = 0;
        foreach (var variant in new[] { "control", "cheaper" })
        {
            foreach (var metric in Metrics)
            {
                var analysis = ExperimentSpans.Metric(experiment, variant, metric);
                var checks = new List<(string Record, double Expected)>
                {
                    ("estimate", Value(analysis, "estimate", "estimate")),
                    ("lower", Value(analysis, "estimate", "lower")),
                    ("upper", Value(analysis, "estimate", "upper")),
                };
                if (variant != "control")
                {
                    checks.Add(("lift_lower", Value(analysis, "lift", "lower")));
                    checks.Add(("lift_upper", Value(analysis, "lift", "upper")));
                }
                foreach (var (record, expected) in checks)
                {
                    var query = $"tenant_experiment_variant_metric:perfotel_experiment_metric:{record}{{tenant=\"acme\",experiment=\"model-swap\",variant=\"{variant}\",metric=\"{metric}\"}}";
                    var results = await prometheus.WaitForAsync(query, r => r.Count == 1 && Close(r[0].Value, expected), TimeSpan.FromSeconds(20));
                    Assert.Equal(expected, results[0].Value, 9);
                    compared++;
                }
            }
        }
        Assert.Equal(3 * 3 + (3 * 5), compared);

        // SRM: 180/120 against 50/50, chi-square 2 * 30² / 150 = 12 > 10.83: a mismatch, in the REST verdict and the rules.
        var sampleRatio = experiment.GetProperty("analysis").GetProperty("sampleRatio");
        Assert.Equal(12, sampleRatio.GetProperty("chiSquare").GetDouble(), 9);
        Assert.Equal("srm", experiment.GetProperty("analysis").GetProperty("verdict").GetString());
        var chiSquare = await prometheus.WaitForAsync("tenant_experiment:perfotel_experiment_srm:chi_square",
            r => r.Count == 1 && Close(r[0].Value, 12), TimeSpan.FromSeconds(20));
        Assert.Equal(12, chiSquare[0].Value, 9);
        await prometheus.WaitForAsync("tenant_experiment:perfotel_experiment_srm:mismatch", r => r.Count == 1 && r[0].Value == 1,
            TimeSpan.FromSeconds(20));

        // The p95 latency: the rule's histogram_quantile over the replicas' summed buckets equals the same rule over one
        // collector fed everything (scraped by its own Prometheus), and lies within a factor sqrt(1.1) of the REST p95,
        // which reports the geometric middle of the very bucket histogram_quantile interpolates in.
        await using var single = await PrometheusServer.StartAsync(
            new Dictionary<string, string[]> { ["perfotel-collector"] = [$"127.0.0.1:{whole.Port}"] },
            ruleFiles: [RepoPaths.Combine("alerting", "prometheus-rules", "perfotel-experiments.rules.yaml")]);
        var p95Compared = 0;
        foreach (var variant in new[] { "control", "cheaper" })
        {
            var query = $"tenant_experiment_variant:perfotel_experiment_duration_seconds:p95{{tenant=\"acme\",experiment=\"model-swap\",variant=\"{variant}\"}}";
            var one = await single.WaitForAsync(query, r => r.Count == 1 && double.IsFinite(r[0].Value), TimeSpan.FromSeconds(60));
            var summed = await prometheus.WaitForAsync(query, r => r.Count == 1 && Close(r[0].Value, one[0].Value), TimeSpan.FromSeconds(20));
            Assert.Equal(one[0].Value, summed[0].Value, 9);
            var rest = experiment.GetProperty("analysis").GetProperty("variants").EnumerateArray()
                .Single(v => v.GetProperty("variant").GetString() == variant).GetProperty("latencyP95").GetProperty("estimate").GetDouble();
            Assert.InRange(summed[0].Value / rest, 1 / Math.Sqrt(1.1) - 1e-9, Math.Sqrt(1.1) + 1e-9);
            p95Compared++;
        }
        Assert.Equal(2, p95Compared);
    }

    private static double Value(JsonElement analysis, string interval, string bound) =>
        analysis.GetProperty(interval).GetProperty(bound).GetDouble();

    private static bool Close(double actual, double expected) => Math.Abs(actual - expected) <= 1e-9 * Math.Max(1, Math.Abs(expected));

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

using PerfOtel.Collector.Tests.EndToEnd;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Experiments;

/// <summary>
/// <c>GET /api/v1/experiments[/{name}]</c> of the collector process on a real PostgreSQL 15: a defined experiment's
/// analysis with the hand-worked figures, the same after a restart that rebuilds it from the database, 404 for an
/// unknown experiment.
/// </summary>
[Collection(ProcessTests.Name)]
public sealed class ExperimentPostgresTests : IDisposable
{
    private readonly string dataDirectory = Directory.CreateTempSubdirectory("perfotel-pg-experiments-").FullName;

    [Fact]
    public async Task TheExperimentRoutesServeTheAnalysisOnPostgres_AndTheSameAfterARestart()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var settings = new Dictionary<string, string>
        {
            ["Storage:Provider"] = "postgres",
            ["Storage:ConnectionString"] = postgres.ConnectionString,
            ["Experiments:Definitions:acme:model-swap:Variants:control"] = "1",
            ["Experiments:Definitions:acme:model-swap:Variants:cheaper"] = "1",
            ["Experiments:Definitions:acme:model-swap:Control"] = "control",
            ["Experiments:Definitions:acme:model-swap:MinSamplesPerVariant"] = "10",
            ["Experiments:Definitions:acme:model-swap:Guardrails:latency"] = "0.1",
        };
        await using var collector = await CollectorProcess.StartAsync(dataDirectory, settings);
        // control: 7 of 10 succeed, 1 s each; cheaper: 9 of 10, 2 s each, quality 0.8 on every invocation.
        var invocations = Enumerable.Range(0, 10).SelectMany(i => new[]
        {
            new ExperimentInvocation("control", i < 7, 1.0),
            new ExperimentInvocation("cheaper", i < 9, 2.0, Quality: 0.8),
        }).ToList();
        await ExperimentSpans.SendAsync(collector, "acme", "model-swap", invocations);
        // An experiment only seen in data, for another tenant: not in acme's list.
        await ExperimentSpans.SendAsync(collector, "globex", "other", [new ExperimentInvocation("a", true, 1.0)]);

        var live = await ExperimentSpans.GetAsync(collector, "api/v1/experiments/model-swap?tenant=acme");
        AssertTheWorkedAnalysis(live);
        var list = await ExperimentSpans.GetAsync(collector, "api/v1/experiments?tenant=acme");
        Assert.Equal("acme", list.GetProperty("tenant").GetString());
        Assert.Equal(["model-swap"], list.GetProperty("experiments").EnumerateArray().Select(e => e.GetProperty("experiment").GetString()));

        using (var http = new HttpClient { BaseAddress = collector.BaseAddress })
        {
            using var missing = await http.GetAsync(new Uri("api/v1/experiments/nope?tenant=acme", UriKind.Relative));
            Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Contains("no experiment 'nope' for tenant 'acme'", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The Markdown report lists the experiment with its verdict and, per variant, the intervals (p95 included).
        using (var http = new HttpClient { BaseAddress = collector.BaseAddress })
        {
            var markdown = await http.GetStringAsync(new Uri("api/v1/report?window=1h&format=markdown&tenant=acme", UriKind.Relative));
            Assert.Contains("## Experiments", markdown, StringComparison.Ordinal);
            Assert.Contains("### model-swap: guardrail_violated", markdown, StringComparison.Ordinal);
            Assert.Contains("| variant | invocations | intended | success rate [95 % CI] | p95 latency [95 % CI] | cost / invocation [95 % CI] |", markdown, StringComparison.Ordinal);
            Assert.Contains("| cheaper | 10 | 50.0 % | 90.0 % [59.6 %, 98.2 %] | ", markdown, StringComparison.Ordinal);
            Assert.Matches(@"\| control \| 10 \| 50\.0 % \| 70\.0 % \[\d+\.\d %, \d+\.\d %\] \| [\d.]+ s \[[\d.]+ s, [\d.]+ s\] \| - \|", markdown);
        }

        collector.Process.KillHard();
        await collector.RestartAsync();

        var replayed = await ExperimentSpans.GetAsync(collector, "api/v1/experiments/model-swap?tenant=acme");
        AssertTheWorkedAnalysis(replayed);
        Assert.Equal(live.GetRawText(), replayed.GetRawText());
    }

    private static void AssertTheWorkedAnalysis(System.Text.Json.JsonElement experiment)
    {
        Assert.Equal("model-swap", experiment.GetProperty("experiment").GetString());
        Assert.True(experiment.GetProperty("defined").GetBoolean());
        Assert.False(experiment.TryGetProperty("leader", out _));
        Assert.False(experiment.TryGetProperty("state", out _));
        var analysis = experiment.GetProperty("analysis");
        Assert.Equal("control", analysis.GetProperty("control").GetString());
        Assert.Equal(10, analysis.GetProperty("minSamplesPerVariant").GetInt32());
        // SRM: 10/10 against 50/50, chi-square 0.
        Assert.Equal(0, analysis.GetProperty("sampleRatio").GetProperty("chiSquare").GetDouble());
        // Latency lift: every cheaper invocation takes 2 s, every control one 1 s: +100 % with no variance at all, far
        // beyond the tolerated 10 %.
        Assert.Equal("guardrail_violated", analysis.GetProperty("verdict").GetString());
        Assert.StartsWith("variant 'cheaper' changes latency by +100.0%", analysis.GetProperty("reason").GetString(), StringComparison.Ordinal);

        // Wilson, 9 of 10 (z = 1.959964): centre (0.9 + 0.192074) / 1.384146 = 0.788987, half-width
        // 1.959964 * sqrt(0.009 + 0.00096037) / 1.384146 = 0.141330: [0.596, 0.982].
        var success = ExperimentSpans.Metric(experiment, "cheaper", "success");
        Assert.Equal(10, success.GetProperty("samples").GetInt64());
        Assert.Equal(0.9, success.GetProperty("estimate").GetProperty("estimate").GetDouble(), 12);
        Assert.Equal(0.596, success.GetProperty("estimate").GetProperty("lower").GetDouble(), 3);
        Assert.Equal(0.982, success.GetProperty("estimate").GetProperty("upper").GetDouble(), 3);
        Assert.Equal(0.2, success.GetProperty("difference").GetProperty("estimate").GetDouble(), 12);
        Assert.Equal(9.0 / 7 - 1, success.GetProperty("lift").GetProperty("estimate").GetDouble(), 12);
        var quality = ExperimentSpans.Metric(experiment, "cheaper", "quality");
        Assert.Equal(10, quality.GetProperty("samples").GetInt64());
        Assert.Equal(0.8, quality.GetProperty("estimate").GetProperty("estimate").GetDouble(), 12);
        Assert.Equal(0, ExperimentSpans.Metric(experiment, "control", "quality").GetProperty("samples").GetInt64());
        // The p95 of ten 2 s invocations, and its interval, are 2 s (within the histogram's 4.9 %).
        var p95 = experiment.GetProperty("analysis").GetProperty("variants").EnumerateArray()
            .Single(v => v.GetProperty("variant").GetString() == "cheaper").GetProperty("latencyP95");
        Assert.InRange(p95.GetProperty("estimate").GetDouble(), 2 / 1.0489, 2 * 1.0489);
        Assert.Equal(p95.GetProperty("estimate").GetDouble(), p95.GetProperty("lower").GetDouble());
        Assert.Equal(p95.GetProperty("estimate").GetDouble(), p95.GetProperty("upper").GetDouble());
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

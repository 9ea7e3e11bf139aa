using System.Globalization;
using System.Text.Json;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.OtlpMetrics;

/// <summary>
/// End to end: a Node.js agent records the GenAI client metrics with @opentelemetry/sdk-metrics and pushes them through
/// the real OTLP metrics exporter (gRPC, the default, and HTTP/protobuf; cumulative and delta temporality) to the
/// collector; a real Prometheus scrapes the collector, and the PromQL of the providers and cost dashboards' GenAI panels,
/// read from the dashboard files, returns the hand-computed values.
/// </summary>
public sealed class NodeMetricsPrometheusTests
{
    private const string Tenant = "acme";
    private const int Repeat = 2; // phase 2 records the call set twice more: every series ends at 3x its phase-1 value

    [Theory]
    [InlineData("grpc", "cumulative")]
    [InlineData("proto", "cumulative")]
    [InlineData("proto", "delta")]
    public async Task DashboardGenAiPanels_OverMetricsPushedByTheNodeExporter_ShowTheRecordedValues(string protocol, string temporality)
    {
        await using var collector = new CollectorFactory(kestrel: true, grpc: true);
        var target = collector.ListenAddress.Authority;
        await using var prometheus = await PrometheusServer.StartAsync(new Dictionary<string, string[]> { ["perfotel-collector"] = [target] });
        var directory = Directory.CreateTempSubdirectory("perfotel-node-metrics-");
        try
        {
            var url = protocol == "grpc" ? collector.GrpcAddress.ToString().TrimEnd('/') : new Uri(collector.ListenAddress, "v1/metrics").ToString();
            await using var node = StartNode(protocol, url, temporality, directory.FullName);

            // Phase 1: every series appears in Prometheus with its first value (one call set).
            await WaitForFileAsync(node, Path.Combine(directory.FullName, "phase1.done"));
            await prometheus.WaitForScalarAsync($"sum(gen_ai_client_operation_duration_seconds_count{{perfotel_tenant=\"{Tenant}\"}})", v => v == 5,
                TimeSpan.FromSeconds(90));

            // Phase 2: two more call sets; Prometheus sees every series at three times its first value.
            await File.WriteAllTextAsync(Path.Combine(directory.FullName, "phase2.go"), "go");
            await WaitForFileAsync(node, Path.Combine(directory.FullName, "phase2.done"));
            await prometheus.WaitForScalarAsync($"sum(gen_ai_client_operation_duration_seconds_count{{perfotel_tenant=\"{Tenant}\"}})", v => v == 15,
                TimeSpan.FromSeconds(90));
            Assert.True(await node.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the Node exporter did not finish:\n" + node.Output);
            Assert.True(node.ExitCode == 0, $"the Node {protocol} exporter failed:\n{node.Output}");

            await AssertDashboardPanelsAsync(prometheus, DateTimeOffset.UtcNow);

            // The totals themselves, exact: three call sets of 3000 + 750 tokens on gpt-4o-mini and 500 + 100 on claude.
            var tokens = await prometheus.QueryAsync($"sum by (gen_ai_request_model, gen_ai_token_type) (gen_ai_client_token_usage_sum{{perfotel_tenant=\"{Tenant}\"}})");
            Assert.Equal(9000, Value(tokens, ("gen_ai_request_model", "gpt-4o-mini"), ("gen_ai_token_type", "input")));
            Assert.Equal(2250, Value(tokens, ("gen_ai_request_model", "gpt-4o-mini"), ("gen_ai_token_type", "output")));
            Assert.Equal(1500, Value(tokens, ("gen_ai_request_model", "claude-3-5-haiku"), ("gen_ai_token_type", "input")));
            Assert.Equal(300, Value(tokens, ("gen_ai_request_model", "claude-3-5-haiku"), ("gen_ai_token_type", "output")));

            // The producer's identity: job and instance, renamed exported_* by Prometheus without honor_labels.
            var producers = await prometheus.QueryAsync($"count by (exported_job, tenant) (gen_ai_client_token_usage_count{{perfotel_tenant=\"{Tenant}\"}})");
            var producer = Assert.Single(producers);
            Assert.Equal("support-bot", producer.Labels["exported_job"]);
            Assert.Equal(Tenant, producer.Labels["tenant"]);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task AssertDashboardPanelsAsync(PrometheusServer prometheus, DateTimeOffset at)
    {
        // Every query is evaluated at one instant: rate() extrapolates to the end of its window, alike for series
        // scraped together, so ratios between the rates of one evaluation are exact, not between two evaluations.
        // Latency percentiles: openai's three calls (1.2, 0.7, 0.9 s) all fall in (0.64, 1.28]; anthropic's in
        // (0.16, 0.32] and (1.28, 2.56]. histogram_quantile interpolates linearly within the bucket; rates scale every
        // bucket alike, so the quantiles are those of one call set.
        var latency = Panel("perfotel-providers.json", "Model call latency percentiles by provider");
        Assert.Equal(3, latency.Length);
        var expected = new Dictionary<string, (double OpenAi, double Anthropic)>
        {
            ["0.5"] = (0.64 + (0.64 * 1.5 / 3), 0.16 + (0.16 * 1 / 1)),
            ["0.95"] = (0.64 + (0.64 * 2.85 / 3), 1.28 + (1.28 * 0.9)),
            ["0.99"] = (0.64 + (0.64 * 2.97 / 3), 1.28 + (1.28 * 0.98)),
        };
        foreach (var query in latency)
        {
            var quantile = query["histogram_quantile(".Length..query.IndexOf(',', StringComparison.Ordinal)];
            var result = await prometheus.QueryAtAsync(query, at);
            Assert.Equal(expected[quantile].OpenAi, Value(result, ("gen_ai_provider_name", "openai")), 9);
            Assert.Equal(expected[quantile].Anthropic, Value(result, ("gen_ai_provider_name", "anthropic")), 9);
        }

        // Calls by provider and model: 3 to gpt-4o-mini for 2 to claude.
        var calls = await prometheus.QueryAtAsync(Single("perfotel-providers.json", "Model calls by provider and model"), at);
        var gptCalls = Value(calls, ("gen_ai_provider_name", "openai"), ("gen_ai_request_model", "gpt-4o-mini"));
        Assert.True(gptCalls > 0, "no call rate");
        Assert.Equal(2.0 / 3, Value(calls, ("gen_ai_provider_name", "anthropic"), ("gen_ai_request_model", "claude-3-5-haiku")) / gptCalls, 9);

        // Error rate by provider: one of anthropic's two calls failed; openai has no error series, so no ratio.
        var errorRate = await prometheus.QueryAtAsync(Single("perfotel-providers.json", "Error rate by provider"), at);
        Assert.Equal(0.5, Value(errorRate, ("gen_ai_provider_name", "anthropic")), 9);
        Assert.DoesNotContain(errorRate, r => r.Labels.GetValueOrDefault("gen_ai_provider_name") == "openai");

        var errors = await prometheus.QueryAtAsync(Single("perfotel-providers.json", "Errors by provider and error type"), at);
        var timeouts = Assert.Single(errors);
        Assert.Equal("timeout", timeouts.Labels["error_type"]);
        Assert.Equal(1.0 / 3, timeouts.Value / gptCalls, 9);

        // Tokens per second by model and type: 3000 : 750 : 500 : 100 per call set.
        var tokens = await prometheus.QueryAtAsync(Single("perfotel-cost.json", "Tokens per second by model and type"), at);
        var gptInput = Value(tokens, ("gen_ai_request_model", "gpt-4o-mini"), ("gen_ai_token_type", "input"));
        Assert.True(gptInput > 0, "no token rate");
        Assert.Equal(0.25, Value(tokens, ("gen_ai_request_model", "gpt-4o-mini"), ("gen_ai_token_type", "output")) / gptInput, 9);
        Assert.Equal(500.0 / 3000, Value(tokens, ("gen_ai_request_model", "claude-3-5-haiku"), ("gen_ai_token_type", "input")) / gptInput, 9);
        Assert.Equal(100.0 / 3000, Value(tokens, ("gen_ai_request_model", "claude-3-5-haiku"), ("gen_ai_token_type", "output")) / gptInput, 9);
    }

    /// <summary>The panel's queries as Grafana runs them for tenant acme, all agents, a 10-minute rate interval.</summary>
    private static string[] Panel(string dashboard, string title)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(RepoPaths.Combine("dashboards", "grafana", dashboard)));
        var panel = Panels(document.RootElement).Single(p => p.TryGetProperty("title", out var t) && t.GetString() == title);
        return panel.GetProperty("targets").EnumerateArray()
            .Select(t => t.GetProperty("expr").GetString()!
                .Replace("$tenant", Tenant, StringComparison.Ordinal)
                .Replace("$agent", ".*", StringComparison.Ordinal)
                .Replace("$__rate_interval", "10m", StringComparison.Ordinal))
            .ToArray();
    }

    private static string Single(string dashboard, string title) => Assert.Single(Panel(dashboard, title));

    private static IEnumerable<JsonElement> Panels(JsonElement parent)
    {
        if (!parent.TryGetProperty("panels", out var panels))
        {
            yield break;
        }

        foreach (var panel in panels.EnumerateArray())
        {
            yield return panel;
            foreach (var nested in Panels(panel))
            {
                yield return nested;
            }
        }
    }

    private static double Value(IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)> result, params (string Label, string Value)[] match)
    {
        var found = result.Where(r => match.All(m => r.Labels.GetValueOrDefault(m.Label) == m.Value)).ToList();
        Assert.True(found.Count == 1, $"expected one series with {string.Join(',', match)}, got {found.Count} of: "
            + string.Join("; ", result.Select(r => string.Join(',', r.Labels.Select(l => $"{l.Key}={l.Value}")) + " " + r.Value)));
        return found[0].Value;
    }

    private static ExternalProcess StartNode(string protocol, string url, string temporality, string directory)
    {
        var fixture = RepoPaths.Combine("tests", "node-exporters");
        Assert.True(Directory.Exists(Path.Combine(fixture, "node_modules", "@opentelemetry", "exporter-metrics-otlp-proto")),
            $"{fixture}/node_modules is missing or outdated: run scripts/install-test-deps.sh (it runs npm ci there)");
        var node = ExternalProcess.FindOnPath("node", "nodejs") ?? throw new InvalidOperationException("node is not installed: run scripts/install-test-deps.sh");
        return ExternalProcess.Start(node,
            ["emit-genai-metrics.js", protocol, url, Tenant, temporality, directory, Repeat.ToString(CultureInfo.InvariantCulture)],
            workingDirectory: fixture);
    }

    private static async Task WaitForFileAsync(ExternalProcess node, string file)
    {
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (!File.Exists(file))
        {
            Assert.False(node.HasExited && !File.Exists(file), $"the Node exporter exited before writing {Path.GetFileName(file)}:\n{node.Output}");
            Assert.True(DateTime.UtcNow < until, $"{Path.GetFileName(file)} not written within 120 s:\n{node.Output}");
            await Task.Delay(100);
        }
    }
}

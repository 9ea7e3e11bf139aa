using System.Text.Json;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.OtlpMetrics;

/// <summary>
/// The call set every GenAI metrics producer fixture records (the Node.js exporters in
/// tests/node-exporters/emit-genai-metrics.js and the .NET instrumentation in <see cref="DotNetMetricsExporterTests"/>),
/// and what the providers and cost dashboards' GenAI panels, read from the dashboard files, must show for it once a
/// real Prometheus scraped the collector before and after the later call sets.
/// </summary>
internal static class GenAiDashboardPanels
{
    /// <summary>One call set: provider, model, input and output tokens, seconds, error.type (no tokens when it failed).</summary>
    public static readonly (string Provider, string Model, long Input, long Output, double Seconds, string? ErrorType)[] CallSet =
    [
        ("openai", "gpt-4o-mini", 1200, 300, 1.2, null),
        ("openai", "gpt-4o-mini", 800, 200, 0.7, null),
        ("openai", "gpt-4o-mini", 1000, 250, 0.9, null),
        ("anthropic", "claude-3-5-haiku", 500, 100, 0.3, null),
        ("anthropic", "claude-3-5-haiku", 0, 0, 2.5, "timeout"),
    ];

    /// <summary>
    /// The dashboards' panels and the exact token totals for <paramref name="callSets"/> call sets of one tenant. Every
    /// query is evaluated at one instant: rate() extrapolates to the end of its window, alike for series scraped
    /// together, so ratios between the rates of one evaluation are exact, not between two evaluations.
    /// </summary>
    public static async Task AssertCallSetAsync(PrometheusServer prometheus, string tenant, int callSets, DateTimeOffset at)
    {
        // Latency percentiles: openai's three calls (1.2, 0.7, 0.9 s) all fall in (0.64, 1.28]; anthropic's in
        // (0.16, 0.32] and (1.28, 2.56]. histogram_quantile interpolates linearly within the bucket; rates scale every
        // bucket alike, so the quantiles are those of one call set.
        var latency = Panel(tenant, "perfotel-providers.json", "Model call latency percentiles by provider");
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
        var calls = await prometheus.QueryAtAsync(Single(tenant, "perfotel-providers.json", "Model calls by provider and model"), at);
        var gptCalls = Value(calls, ("gen_ai_provider_name", "openai"), ("gen_ai_request_model", "gpt-4o-mini"));
        Assert.True(gptCalls > 0, "no call rate");
        Assert.Equal(2.0 / 3, Value(calls, ("gen_ai_provider_name", "anthropic"), ("gen_ai_request_model", "claude-3-5-haiku")) / gptCalls, 9);

        // Error rate by provider: one of anthropic's two calls failed; openai has no error series, so no ratio.
        var errorRate = await prometheus.QueryAtAsync(Single(tenant, "perfotel-providers.json", "Error rate by provider"), at);
        Assert.Equal(0.5, Value(errorRate, ("gen_ai_provider_name", "anthropic")), 9);
        Assert.DoesNotContain(errorRate, r => r.Labels.GetValueOrDefault("gen_ai_provider_name") == "openai");

        var errors = await prometheus.QueryAtAsync(Single(tenant, "perfotel-providers.json", "Errors by provider and error type"), at);
        var timeouts = Assert.Single(errors);
        Assert.Equal("timeout", timeouts.Labels["error_type"]);
        Assert.Equal(1.0 / 3, timeouts.Value / gptCalls, 9);

        // Tokens per second by model and type: 3000 : 750 : 500 : 100 per call set.
        var tokenRates = await prometheus.QueryAtAsync(Single(tenant, "perfotel-cost.json", "Tokens per second by model and type"), at);
        var gptInput = Value(tokenRates, ("gen_ai_request_model", "gpt-4o-mini"), ("gen_ai_token_type", "input"));
        Assert.True(gptInput > 0, "no token rate");
        Assert.Equal(0.25, Value(tokenRates, ("gen_ai_request_model", "gpt-4o-mini"), ("gen_ai_token_type", "output")) / gptInput, 9);
        Assert.Equal(500.0 / 3000, Value(tokenRates, ("gen_ai_request_model", "claude-3-5-haiku"), ("gen_ai_token_type", "input")) / gptInput, 9);
        Assert.Equal(100.0 / 3000, Value(tokenRates, ("gen_ai_request_model", "claude-3-5-haiku"), ("gen_ai_token_type", "output")) / gptInput, 9);

        // The totals themselves, exact: each call set is 3000 + 750 tokens on gpt-4o-mini and 500 + 100 on claude.
        var tokens = await prometheus.QueryAsync($"sum by (gen_ai_request_model, gen_ai_token_type) (gen_ai_client_token_usage_sum{{perfotel_tenant=\"{tenant}\"}})");
        Assert.Equal(3000 * callSets, Value(tokens, ("gen_ai_request_model", "gpt-4o-mini"), ("gen_ai_token_type", "input")));
        Assert.Equal(750 * callSets, Value(tokens, ("gen_ai_request_model", "gpt-4o-mini"), ("gen_ai_token_type", "output")));
        Assert.Equal(500 * callSets, Value(tokens, ("gen_ai_request_model", "claude-3-5-haiku"), ("gen_ai_token_type", "input")));
        Assert.Equal(100 * callSets, Value(tokens, ("gen_ai_request_model", "claude-3-5-haiku"), ("gen_ai_token_type", "output")));
    }

    public static double Value(IReadOnlyList<(IReadOnlyDictionary<string, string> Labels, double Value)> result, params (string Label, string Value)[] match)
    {
        var found = result.Where(r => match.All(m => r.Labels.GetValueOrDefault(m.Label) == m.Value)).ToList();
        Assert.True(found.Count == 1, $"expected one series with {string.Join(',', match)}, got {found.Count} of: "
            + string.Join("; ", result.Select(r => string.Join(',', r.Labels.Select(l => $"{l.Key}={l.Value}")) + " " + r.Value)));
        return found[0].Value;
    }

    /// <summary>The panel's queries as Grafana runs them for one tenant, all agents, a 10-minute rate interval.</summary>
    private static string[] Panel(string tenant, string dashboard, string title)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(RepoPaths.Combine("dashboards", "grafana", dashboard)));
        var panel = Panels(document.RootElement).Single(p => p.TryGetProperty("title", out var t) && t.GetString() == title);
        return panel.GetProperty("targets").EnumerateArray()
            .Select(t => t.GetProperty("expr").GetString()!
                .Replace("$tenant", tenant, StringComparison.Ordinal)
                .Replace("$agent", ".*", StringComparison.Ordinal)
                .Replace("$__rate_interval", "10m", StringComparison.Ordinal))
            .ToArray();
    }

    private static string Single(string tenant, string dashboard, string title) => Assert.Single(Panel(tenant, dashboard, title));

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
}

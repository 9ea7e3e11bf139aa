using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Tests.Cost;

/// <summary>
/// Spans sent by the real OpenTelemetry OTLP exporter into the collector's own Program: the receiver commits them, the
/// cost observers count them, and the REST API and /metrics show it.
/// </summary>
public sealed class CostEndToEndTests
{
    [Fact]
    public async Task SpansFromTheRealExporterReachBudgetsExperimentsModelsAndMetrics()
    {
        // The clock is fixed before the spans start, so every span lies at or after it and counts in the clock's
        // current hour, day and month whatever the wall clock does meanwhile.
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var collector = new CollectorFactory(
            new Dictionary<string, string?>
            {
                ["Budgets:Tenants:acme:DailyUsd"] = "2",
                ["Budgets:Tenants:acme:Agents:triage:MonthlyUsd"] = "10",
                ["Experiments:MinSamplesPerVariant"] = "2",
            },
            services => services.AddSingleton<TimeProvider>(clock));
        using var client = collector.CreateDefaultClient(new SynchronousSendHandler());

        // Four invocations of "triage" for tenant acme, each with one chat call of 0.5 USD: 2 USD today, exactly the
        // daily limit (utilisation 1.0, critical); 2 of the monthly 10 for the agent (0.2). Variants a and b alternate,
        // a succeeding both times, b failing both times.
        EmitInvocations(new Uri(client.BaseAddress!, "v1/traces"), () => client, count: 4);

        var budgets = await GetJson(client, "api/v1/budgets?tenant=acme");
        var tenantDaily = budgets.GetProperty("budgets")[0].GetProperty("periods")[0];
        Assert.Equal("daily", tenantDaily.GetProperty("period").GetString());
        Assert.Equal(2.0, tenantDaily.GetProperty("spendUsd").GetDouble(), 9);
        Assert.Equal(1.0, tenantDaily.GetProperty("utilization").GetDouble(), 9);
        Assert.Equal("critical", tenantDaily.GetProperty("status").GetString());
        var agentMonthly = budgets.GetProperty("budgets")[1];
        Assert.Equal("triage", agentMonthly.GetProperty("agent").GetString());
        Assert.Equal(0.2, agentMonthly.GetProperty("periods")[0].GetProperty("utilization").GetDouble(), 9);

        var experiment = await GetJson(client, "api/v1/experiments/prompt-v2?tenant=acme");
        var analysis = experiment.GetProperty("analysis");
        Assert.Equal(["a", "b"], analysis.GetProperty("variants").EnumerateArray().Select(v => v.GetProperty("variant").GetString()));
        var a = analysis.GetProperty("variants")[0].GetProperty("metrics");
        Assert.Equal(1.0, a[0].GetProperty("estimate").GetProperty("estimate").GetDouble());
        Assert.Equal("cost", a[4].GetProperty("metric").GetString());
        Assert.Equal(0.5, a[4].GetProperty("estimate").GetProperty("estimate").GetDouble(), 9);
        Assert.False(experiment.TryGetProperty("leader", out _));

        var models = await GetJson(client, "api/v1/models?tenant=acme&window=1h");
        var model = Assert.Single(models.GetProperty("models").EnumerateArray());
        Assert.Equal("gpt-4o-mini", model.GetProperty("model").GetString());
        Assert.Equal(4, model.GetProperty("invocations").GetInt64());
        Assert.Equal(0.5, model.GetProperty("successRate").GetDouble());

        var metrics = await client.GetStringAsync(new Uri("metrics", UriKind.Relative));
        Assert.Equal(1.0, Sample(metrics, "perfotel_budget_utilization_ratio", ("tenant", "acme"), ("period", "daily")), 9);
        Assert.Equal(2.0, Sample(metrics, "perfotel_budget_limit_usd", ("tenant", "acme"), ("period", "daily")), 9);
        Assert.Equal(2.0, Sample(metrics, "perfotel_cost_usd_total",
            ("tenant", "acme"), ("agent", "triage"), ("provider", "openai"), ("model", "gpt-4o-mini")), 9);
        Assert.Equal(0.5, Sample(metrics, "perfotel_model_success_ratio",
            ("tenant", "acme"), ("provider", "openai"), ("model", "gpt-4o-mini"), ("window", "1h")), 9);
        Assert.Equal(2, Sample(metrics, "perfotel_experiment_invocations", ("tenant", "acme"), ("experiment", "prompt-v2"), ("variant", "b")));
    }

    private static void EmitInvocations(Uri endpoint, Func<HttpClient> httpClientFactory, int count)
    {
        var sourceName = "PerfOtel.Tests.CostAgent." + Guid.NewGuid();
        using var source = new ActivitySource(sourceName);
        using var provider = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("support-bot")
                .AddAttributes([new(PerfOtelAttributes.Tenant, "acme")]))
            .AddSource(sourceName)
            .SetSampler(new AlwaysOnSampler())
            .AddOtlpExporter(exporter =>
            {
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                exporter.Endpoint = endpoint;
                exporter.HttpClientFactory = httpClientFactory;
                exporter.ExportProcessorType = ExportProcessorType.Batch;
            })
            .Build();
        for (var i = 0; i < count; i++)
        {
            using var agent = source.StartActivity("invoke_agent triage", ActivityKind.Internal)!;
            agent.SetTag(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent);
            agent.SetTag(GenAiAttributes.AgentName, "triage");
            agent.SetTag(PerfOtelAttributes.Experiment, "prompt-v2");
            agent.SetTag(PerfOtelAttributes.Variant, i % 2 == 0 ? "a" : "b");
            agent.SetTag(PerfOtelAttributes.Outcome, i % 2 == 0 ? Outcomes.Success : Outcomes.Failure);
            using var chat = source.StartActivity("chat gpt-4o-mini", ActivityKind.Client)!;
            chat.SetTag(GenAiAttributes.OperationName, GenAiOperations.Chat);
            chat.SetTag(GenAiAttributes.ProviderName, "openai");
            chat.SetTag(GenAiAttributes.RequestModel, "gpt-4o-mini");
            chat.SetTag(GenAiAttributes.UsageInputTokens, 1000L);
            chat.SetTag(GenAiAttributes.UsageOutputTokens, 100L);
            chat.SetTag(PerfOtelAttributes.CostUsd, 0.5);
        }
        Assert.True(provider.ForceFlush(30_000), "the exporter could not flush");
    }

    private static async Task<JsonElement> GetJson(HttpClient client, string path)
    {
        var body = await client.GetStringAsync(new Uri(path, UriKind.Relative));
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>The value of the one sample of <paramref name="name"/> with exactly these labels (in any order).</summary>
    private static double Sample(string exposition, string name, params (string Label, string Value)[] labels)
    {
        var expected = labels.Select(l => $"{l.Label}=\"{l.Value}\"").Order(StringComparer.Ordinal).ToList();
        var matches = exposition.Split('\n')
            .Where(line => line.StartsWith(name + "{", StringComparison.Ordinal))
            .Where(line =>
            {
                var inside = line[(name.Length + 1)..line.LastIndexOf('}')];
                var found = inside.Split(',').Where(l => !l.StartsWith("otel_scope_", StringComparison.Ordinal))
                    .Order(StringComparer.Ordinal).ToList();
                return found.SequenceEqual(expected);
            })
            .ToList();
        var line = Assert.Single(matches);
        return double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }
}

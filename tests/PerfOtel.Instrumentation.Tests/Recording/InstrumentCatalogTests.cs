using OpenTelemetry.Metrics;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Instrumentation.Tests.Recording;

[Collection(GlobalInstrumentsCollection.Name)]
public class InstrumentCatalogTests
{
    [Fact]
    public void Every_catalog_metric_is_exported_with_its_name_unit_description_and_buckets()
    {
        using var harness = new TelemetryHarness();
        RecordOneOfEverything();

        var exported = harness.Metrics.Collect().ToDictionary(m => m.Name);
        foreach (var definition in MetricCatalog.All)
        {
            Assert.True(exported.TryGetValue(definition.Name, out var metric), $"{definition.Name} was not exported");
            Assert.Equal(definition.Unit, metric.Unit);
            Assert.Equal(definition.Description, metric.Description);
            Assert.Equal(MetricCatalog.SourceName, metric.MeterName);
            Assert.False(string.IsNullOrEmpty(metric.MeterVersion));
            var expectedType = (definition.Kind, definition.ValueType) switch
            {
                (MetricInstrumentKind.Counter, "long") => MetricType.LongSum,
                (MetricInstrumentKind.Counter, "double") => MetricType.DoubleSum,
                _ => MetricType.Histogram,
            };
            Assert.Equal(expectedType, metric.Type);
            foreach (var point in metric.Points)
            {
                Assert.All(point.Tags.Keys, key => Assert.Contains(key, definition.Attributes));
                if (definition.BucketBoundaries is { } bounds)
                {
                    // The exporter lists each bucket by its upper bound, ending with +Inf.
                    Assert.Equal([.. bounds, double.PositiveInfinity], point.BucketBounds);
                }
            }
        }
        Assert.Equal(MetricCatalog.All.Count, exported.Count);
    }

    [Fact]
    public void Catalog_buckets_are_the_conventions_recommendations()
    {
        Assert.Equal([1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864], MetricCatalog.TokenBuckets);
        Assert.Equal([0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92], MetricCatalog.DurationBuckets);
        Assert.Equal([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], MetricCatalog.UnitIntervalBuckets);
    }

    [Theory]
    [InlineData("perfotel.agent.invocations", "perfotel_agent_invocations_total")]
    [InlineData("perfotel.agent.cost.usd", "perfotel_agent_cost_usd_total")]
    [InlineData("perfotel.agent.confidence", "perfotel_agent_confidence")]
    [InlineData("perfotel.evaluation.score", "perfotel_evaluation_score")]
    [InlineData("perfotel.provider.retries", "perfotel_provider_retries_total")]
    [InlineData("perfotel.provider.fallbacks", "perfotel_provider_fallbacks_total")]
    [InlineData("perfotel.unpriced.tokens", "perfotel_unpriced_tokens_total")]
    [InlineData("gen_ai.client.token.usage", "gen_ai_client_token_usage")]
    [InlineData("gen_ai.client.operation.duration", "gen_ai_client_operation_duration_seconds")]
    [InlineData("gen_ai.invoke_agent.duration", "gen_ai_invoke_agent_duration_seconds")]
    [InlineData("gen_ai.execute_tool.duration", "gen_ai_execute_tool_duration_seconds")]
    public void Prometheus_names_follow_the_compatibility_rules_from_name_unit_and_kind(string otelName, string prometheusName)
    {
        var definition = Assert.Single(MetricCatalog.All, d => d.Name == otelName);
        Assert.Equal(prometheusName, definition.PrometheusName);
        Assert.Equal(prometheusName, ExpectedPrometheusName(definition));
    }

    [Fact]
    public void Metric_attributes_come_only_from_the_low_cardinality_set()
    {
        string[] allowed =
        [
            PerfOtelAttributes.Tenant, GenAiAttributes.AgentName, PerfOtelAttributes.AgentType, GenAiAttributes.ProviderName,
            GenAiAttributes.RequestModel, GenAiAttributes.ResponseModel, GenAiAttributes.OperationName, GenAiAttributes.TokenType,
            PerfOtelAttributes.Outcome, GenAiAttributes.ErrorType, GenAiAttributes.EvaluationName, GenAiAttributes.ToolName,
        ];
        Assert.All(MetricCatalog.All.SelectMany(d => d.Attributes), a => Assert.Contains(a, allowed));
    }

    // The OpenTelemetry-to-Prometheus rules for the units used here: "s" -> "_seconds", "1" and brace annotations
    // add nothing (for non-gauges), dots become underscores, counters get "_total".
    private static string ExpectedPrometheusName(MetricDefinition definition)
    {
        var name = definition.Name.Replace('.', '_');
        if (definition.Unit == "s" && !name.EndsWith("_seconds", StringComparison.Ordinal))
        {
            name += "_seconds";
        }
        return definition.Kind == MetricInstrumentKind.Counter ? name + "_total" : name;
    }

    internal static void RecordOneOfEverything()
    {
        using var invocation = AgentTelemetry.StartInvocation("catalog-agent", new() { Tenant = "catalog", AgentType = "test" });
        using (var call = invocation.StartProviderCall("openai", "gpt-4o"))
        {
            call.SetUsage(100, 10).SetAttempt(2).SetFallback("anthropic/claude-sonnet-4-5", "rate_limited").Fail("timeout");
        }
        using (var unpriced = invocation.StartProviderCall("selfhosted", "no-such-model"))
        {
            unpriced.SetUsage(5, 5);
        }
        using (var tool = invocation.StartToolExecution("search"))
        {
            tool.Fail("not_found");
        }
        invocation.RecordEvaluation("judge", 0.5);
        invocation.SetConfidence(0.5);
        invocation.Fail("bad_answer");
    }
}

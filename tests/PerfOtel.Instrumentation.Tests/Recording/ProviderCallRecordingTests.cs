using System.Diagnostics;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Instrumentation.Pricing;

namespace PerfOtel.Instrumentation.Tests.Recording;

[Collection(GlobalInstrumentsCollection.Name)]
public class ProviderCallRecordingTests
{
    private const string Tokens = "gen_ai.client.token.usage";
    private const string Cost = "perfotel.agent.cost.usd";
    private const string Unpriced = "perfotel.unpriced.tokens";

    [Fact]
    public void A_priced_call_records_span_tokens_duration_and_cost_with_cache_and_reasoning_tokens()
    {
        using var harness = new TelemetryHarness();
        using (var invocation = AgentTelemetry.StartInvocation("writer", new() { Tenant = "t-price", AgentType = "content" }))
        {
            using (var call = invocation.StartProviderCall("anthropic", "claude-sonnet-4-5"))
            {
                call.SetResponseModel("claude-sonnet-4-5-20250929")
                    .SetResponse("msg_01", "end_turn")
                    .SetUsage(new TokenUsage(InputTokens: 10_000, OutputTokens: 1_000, CacheReadInputTokens: 6_000,
                        CacheCreationInputTokens: 2_000, ReasoningOutputTokens: 400));
            }
            invocation.Succeed();
        }

        // 2000 uncached * 3 + 6000 * 0.30 + 2000 * 3.75 + 1000 output (reasoning priced as output) * 15 = 30,300 micro-USD.
        const double expectedCost = 0.0303;
        var span = harness.Span("chat claude-sonnet-4-5");
        Assert.Equal(ActivityKind.Client, span.Kind);
        Assert.Equal(harness.Span("invoke_agent writer").SpanId, span.ParentSpanId);
        var tags = span.TagObjects.ToDictionary(t => t.Key, t => t.Value);
        Assert.Equal("chat", tags[GenAiAttributes.OperationName]);
        Assert.Equal("anthropic", tags[GenAiAttributes.ProviderName]);
        Assert.Equal("claude-sonnet-4-5", tags[GenAiAttributes.RequestModel]);
        Assert.Equal("claude-sonnet-4-5-20250929", tags[GenAiAttributes.ResponseModel]);
        Assert.Equal("msg_01", tags[GenAiAttributes.ResponseId]);
        Assert.Equal(new[] { "end_turn" }, tags[GenAiAttributes.ResponseFinishReasons]);
        Assert.Equal(10_000L, tags[GenAiAttributes.UsageInputTokens]);
        Assert.Equal(1_000L, tags[GenAiAttributes.UsageOutputTokens]);
        Assert.Equal(6_000L, tags[GenAiAttributes.UsageCacheReadInputTokens]);
        Assert.Equal(2_000L, tags[GenAiAttributes.UsageCacheCreationInputTokens]);
        Assert.Equal(400L, tags[GenAiAttributes.UsageReasoningOutputTokens]);
        Assert.Equal(1, tags[PerfOtelAttributes.RetryAttempt]);
        Assert.Equal(expectedCost, (double)tags[PerfOtelAttributes.CostUsd]!, 12);
        Assert.False(tags.ContainsKey(GenAiAttributes.ErrorType));

        var invocationSpan = harness.Span("invoke_agent writer");
        Assert.Equal(expectedCost, (double)invocationSpan.GetTagItem(PerfOtelAttributes.CostUsd)!, 12);
        Assert.Equal(10_000L, invocationSpan.GetTagItem(GenAiAttributes.UsageInputTokens));

        var input = harness.OnePoint(Tokens, (GenAiAttributes.TokenType, "input"));
        Assert.Equal(new Dictionary<string, object?>
        {
            [GenAiAttributes.OperationName] = "chat",
            [GenAiAttributes.ProviderName] = "anthropic",
            [GenAiAttributes.RequestModel] = "claude-sonnet-4-5",
            [GenAiAttributes.ResponseModel] = "claude-sonnet-4-5-20250929",
            [PerfOtelAttributes.Tenant] = "t-price",
            [GenAiAttributes.AgentName] = "writer",
            [GenAiAttributes.TokenType] = "input",
        }, input.Tags);
        Assert.Equal(10_000, input.Sum);
        // 10,000 falls in (4096, 16384], the 8th bucket.
        Assert.Equal(1, input.BucketCounts[7]);
        Assert.Equal(1_000, harness.OnePoint(Tokens, (GenAiAttributes.TokenType, "output")).Sum);

        var duration = harness.OnePoint("gen_ai.client.operation.duration");
        Assert.Equal(1, duration.Count);
        Assert.Equal(6, duration.Tags.Count);
        Assert.Equal("writer", duration.Tags[GenAiAttributes.AgentName]);
        Assert.False(duration.Tags.ContainsKey(GenAiAttributes.ErrorType));

        var cost = harness.OnePoint(Cost);
        Assert.Equal(expectedCost, cost.Value, 12);
        Assert.Equal(new Dictionary<string, object?>
        {
            [PerfOtelAttributes.Tenant] = "t-price",
            [GenAiAttributes.AgentName] = "writer",
            [PerfOtelAttributes.AgentType] = "content",
            [GenAiAttributes.ProviderName] = "anthropic",
            [GenAiAttributes.RequestModel] = "claude-sonnet-4-5",
        }, cost.Tags);
        Assert.Empty(harness.Points(Unpriced));
    }

    [Fact]
    public void An_unpriced_model_costs_nothing_known_and_counts_its_tokens_as_unpriced()
    {
        using var harness = new TelemetryHarness();
        using (var invocation = AgentTelemetry.StartInvocation("local", new() { Tenant = "t-unpriced" }))
        {
            using (var call = invocation.StartProviderCall("vllm", "llama-3.1-70b-instruct"))
            {
                call.SetUsage(1_200, 300);
            }
            invocation.Succeed();
        }

        Assert.Null(harness.Span("chat llama-3.1-70b-instruct").GetTagItem(PerfOtelAttributes.CostUsd));
        Assert.Null(harness.Span("invoke_agent local").GetTagItem(PerfOtelAttributes.CostUsd));
        Assert.Empty(harness.Points(Cost));
        var input = harness.OnePoint(Unpriced, (GenAiAttributes.TokenType, "input"));
        Assert.Equal(1_200, input.Value);
        Assert.Equal(new Dictionary<string, object?>
        {
            [PerfOtelAttributes.Tenant] = "t-unpriced",
            [GenAiAttributes.AgentName] = "local",
            [GenAiAttributes.ProviderName] = "vllm",
            [GenAiAttributes.RequestModel] = "llama-3.1-70b-instruct",
            [GenAiAttributes.TokenType] = "input",
        }, input.Tags);
        Assert.Equal(300, harness.OnePoint(Unpriced, (GenAiAttributes.TokenType, "output")).Value);
    }

    [Fact]
    public void Overridden_prices_and_billed_costs_replace_the_default_catalog()
    {
        var path = Path.Combine(Path.GetTempPath(), $"perfotel-override-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{"version": "team-1", "providers": {"vllm": {"models": {"llama-3.1-70b": {"input": 1, "output": 2}}}}}""");
        try
        {
            using var harness = new TelemetryHarness(o => o.PricingOverridesPath = path);
            using (var invocation = AgentTelemetry.StartInvocation("local", new() { Tenant = "t-override" }))
            {
                using (var call = invocation.StartProviderCall("vllm", "llama-3.1-70b"))
                {
                    call.SetUsage(1_000_000, 500_000);
                }
                using (var billed = invocation.StartProviderCall("openai", "gpt-4o"))
                {
                    billed.SetUsage(1_000_000, 0).SetCost(1.25);
                }
                invocation.Succeed();
            }
            Assert.Equal(2.0, harness.OnePoint(Cost, (GenAiAttributes.RequestModel, "llama-3.1-70b")).Value, 12);
            Assert.Equal(1.25, harness.OnePoint(Cost, (GenAiAttributes.RequestModel, "gpt-4o")).Value, 12);
            Assert.Equal(3.25, (double)harness.Span("invoke_agent local").GetTagItem(PerfOtelAttributes.CostUsd)!, 12);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_bad_pricing_file_fails_the_registration_with_its_reason()
    {
        var path = Path.Combine(Path.GetTempPath(), $"perfotel-bad-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{"providers": {"x": {"models": {"m": {"input": "cheap", "output": 1}}}}}""");
        try
        {
            var error = Assert.Throws<FormatException>(() => new TelemetryHarness(o => o.PricingOverridesPath = path));
            Assert.Contains(path, error.Message, StringComparison.Ordinal);
            Assert.Contains("$.providers.x.models.m.input", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
            using var reset = new TelemetryHarness();
        }
    }

    [Fact]
    public void Retries_fallbacks_and_errors_are_counted_on_the_provider_metrics()
    {
        using var harness = new TelemetryHarness();
        using (var invocation = AgentTelemetry.StartInvocation("resilient", new() { Tenant = "t-retry" }))
        {
            using (var first = invocation.StartProviderCall("openai", "gpt-4o"))
            {
                first.Fail("rate_limited");
            }
            using (var retry = invocation.StartProviderCall("openai", "gpt-4o"))
            {
                retry.SetAttempt(2).Fail(new TimeoutException());
            }
            using (var fallback = invocation.StartProviderCall("anthropic", "claude-3-5-haiku"))
            {
                fallback.SetFallback("openai/gpt-4o", "timeout").SetUsage(100, 20);
            }
            invocation.Succeed();
        }

        var retrySpan = harness.FinishedSpans.Where(a => a.DisplayName == "chat gpt-4o").ElementAt(1);
        Assert.Equal(2, retrySpan.GetTagItem(PerfOtelAttributes.RetryAttempt));
        Assert.Equal(ActivityStatusCode.Error, retrySpan.Status);
        Assert.Equal("System.TimeoutException", retrySpan.GetTagItem(GenAiAttributes.ErrorType));
        var fallbackSpan = harness.Span("chat claude-3-5-haiku");
        Assert.Equal("openai/gpt-4o", fallbackSpan.GetTagItem(PerfOtelAttributes.FallbackFrom));
        Assert.Equal("timeout", fallbackSpan.GetTagItem(PerfOtelAttributes.FallbackReason));

        var retries = harness.OnePoint("perfotel.provider.retries");
        Assert.Equal(1, retries.Value);
        Assert.Equal("gpt-4o", retries.Tags[GenAiAttributes.RequestModel]);
        var fallbacks = harness.OnePoint("perfotel.provider.fallbacks");
        Assert.Equal(1, fallbacks.Value);
        Assert.Equal("anthropic", fallbacks.Tags[GenAiAttributes.ProviderName]);
        Assert.Equal("claude-3-5-haiku", fallbacks.Tags[GenAiAttributes.RequestModel]);

        var errors = harness.Points("gen_ai.client.operation.duration", (GenAiAttributes.RequestModel, "gpt-4o"))
            .Select(p => (string)p.Tags[GenAiAttributes.ErrorType]!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["System.TimeoutException", "rate_limited"], errors);
    }

    [Fact]
    public void Calls_outside_any_invocation_use_the_default_tenant_and_no_agent()
    {
        using var harness = new TelemetryHarness(o => o.DefaultTenant = "shared");
        using (var call = AgentTelemetry.StartProviderCall("mistral_ai", "mistral-small-latest"))
        {
            call.SetUsage(1_000_000, 1_000_000);
        }
        var cost = harness.OnePoint(Cost);
        Assert.Equal(0.4, cost.Value, 12);
        Assert.Equal("shared", cost.Tags[PerfOtelAttributes.Tenant]);
        Assert.False(cost.Tags.ContainsKey(GenAiAttributes.AgentName));
        Assert.Equal(default, harness.Span("chat mistral-small-latest").ParentSpanId);
    }

    [Fact]
    public void A_call_recorded_after_the_fact_records_metrics_without_a_span()
    {
        using var harness = new TelemetryHarness();
        using (var invocation = AgentTelemetry.StartInvocation("batch", new() { Tenant = "t-batch" }))
        {
            var cost = AgentTelemetry.RecordProviderCall(new ProviderCallRecord("openai", "gpt-4o-mini", 1.5)
            {
                ResponseModel = "gpt-4o-mini-2024-07-18",
                Usage = new TokenUsage(2_000_000, 1_000_000),
                Attempt = 3,
            });
            // 2 * 0.15 + 1 * 0.60.
            Assert.Equal(0.9, cost!.Value, 12);
            invocation.Succeed();
        }
        Assert.DoesNotContain(harness.FinishedSpans, a => a.DisplayName.StartsWith("chat", StringComparison.Ordinal));
        var duration = harness.OnePoint("gen_ai.client.operation.duration");
        Assert.Equal(1.5, duration.Sum);
        Assert.Equal(1, duration.BucketCounts[8]); // (1.28, 2.56]
        Assert.Equal(0.9, harness.OnePoint(Cost).Value, 12);
        Assert.Equal(1, harness.OnePoint("perfotel.provider.retries").Value);
    }

    [Fact]
    public async Task Explicitly_passed_invocations_parent_spans_across_threads()
    {
        using var harness = new TelemetryHarness();
        using (var invocation = AgentTelemetry.StartInvocation("fan-out", new() { Tenant = "t-threads" }))
        {
            var calls = Enumerable.Range(0, 4).Select(i => Task.Run(() =>
            {
                using var call = invocation.StartProviderCall("openai", "gpt-4o-mini");
                call.SetUsage(100, 10);
            }));
            await Task.WhenAll(calls);
            Assert.Equal(new TokenUsage(400, 40), invocation.Usage);
            invocation.Succeed();
        }
        var parent = harness.Span("invoke_agent fan-out");
        Assert.All(harness.FinishedSpans.Where(a => a.DisplayName == "chat gpt-4o-mini"), a => Assert.Equal(parent.SpanId, a.ParentSpanId));
        Assert.Equal(400, harness.OnePoint(Tokens, (GenAiAttributes.TokenType, "input")).Sum);
    }
}

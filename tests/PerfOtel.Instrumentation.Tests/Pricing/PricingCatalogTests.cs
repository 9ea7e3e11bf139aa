using PerfOtel.Instrumentation.Pricing;

namespace PerfOtel.Instrumentation.Tests.Pricing;

public class PricingCatalogTests
{
    [Fact]
    public void Default_catalog_is_versioned_and_prices_the_four_providers()
    {
        var catalog = PricingCatalog.Default;
        Assert.Matches(@"^\d{4}-\d{2}-\d{2}$", catalog.Version);
        Assert.True(catalog.TryGetPrice("openai", "gpt-4o", out _));
        Assert.True(catalog.TryGetPrice("anthropic", "claude-sonnet-4-5", out _));
        Assert.True(catalog.TryGetPrice("gcp.gemini", "gemini-2.5-pro", out _));
        Assert.True(catalog.TryGetPrice("mistral_ai", "mistral-large", out _));
        Assert.All(catalog.Entries, e => Assert.True(e.Price.OutputPerMillion >= 0 && e.Price.InputPerMillion >= 0));
    }

    [Fact]
    public void Plain_usage_costs_input_and_output_at_their_prices()
    {
        // gpt-4o: 2.50 in, 10.00 out per million. 1000 in + 500 out = 0.0025 + 0.005.
        Assert.True(PricingCatalog.Default.TryComputeCost("openai", "gpt-4o", new TokenUsage(1000, 500), out var cost));
        Assert.Equal(0.0075, cost, 12);
    }

    [Fact]
    public void Cached_tokens_are_part_of_input_and_charged_at_cache_prices()
    {
        // claude-sonnet-4-5: input 3, output 15, cache read 0.30, cache write 3.75 per million.
        // 10,000 input of which 6,000 read from cache and 2,000 written to it: 2,000 uncached.
        // 2000*3 + 6000*0.3 + 2000*3.75 + 1000*15 = 6000 + 1800 + 7500 + 15000 = 30,300 micro-USD.
        var usage = new TokenUsage(InputTokens: 10_000, OutputTokens: 1_000, CacheReadInputTokens: 6_000, CacheCreationInputTokens: 2_000);
        Assert.True(PricingCatalog.Default.TryComputeCost("anthropic", "claude-sonnet-4-5-20250929", usage, out var cost));
        Assert.Equal(0.0303, cost, 12);
    }

    [Fact]
    public void Reasoning_tokens_are_part_of_output_and_charged_at_the_reasoning_price()
    {
        var catalog = PricingCatalog.Parse("""
            {"version": "t1", "providers": {"acme": {"models": {"think-1": {"input": 1, "output": 4, "reasoning": 8}}}}}
            """);
        // 1000 output of which 600 reasoning: 400*4 + 600*8 = 1600 + 4800; input 2000*1. Total 8400 micro-USD.
        Assert.True(catalog.TryComputeCost("acme", "think-1", new TokenUsage(2_000, 1_000, ReasoningOutputTokens: 600), out var cost));
        Assert.Equal(0.0084, cost, 12);

        // Without a reasoning price, reasoning tokens cost the output price: 2000*1 + 1000*4.
        Assert.True(PricingCatalog.Default.WithPrice("acme", "plain-1", new ModelPrice(1, 4))
            .TryComputeCost("acme", "plain-1", new TokenUsage(2_000, 1_000, ReasoningOutputTokens: 600), out cost));
        Assert.Equal(0.006, cost, 12);
    }

    [Fact]
    public void Parts_larger_than_their_total_are_charged_once_each()
    {
        // A provider that reports cache reads apart from input (input 100, cache read 1000): the uncached part is 0,
        // never negative. 1000 * 1.25 (gpt-4o cache read) = 1250 micro-USD.
        Assert.True(PricingCatalog.Default.TryComputeCost("openai", "gpt-4o", new TokenUsage(100, 0, CacheReadInputTokens: 1_000), out var cost));
        Assert.Equal(0.00125, cost, 12);
    }

    [Fact]
    public void Negative_token_counts_are_rejected()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            PricingCatalog.Default.TryComputeCost("openai", "gpt-4o", new TokenUsage(-1, 5), out _));
        Assert.Equal("InputTokens", error.ParamName);
    }

    [Theory]
    [InlineData("openai", "gpt-4o-2024-08-06", "gpt-4o")]
    [InlineData("openai", "GPT-4o-mini-2024-07-18", "gpt-4o-mini")]
    [InlineData(null, "gpt-4.1-mini", "gpt-4.1-mini")]
    [InlineData("azure.ai.openai", "gpt-4o", "gpt-4o")]
    [InlineData("anthropic", "claude-3-5-haiku-20241022", "claude-3-5-haiku")]
    [InlineData(null, "claude-3-5-sonnet-latest", "claude-3-5-sonnet")]
    [InlineData("aws.bedrock", "us.anthropic.claude-3-5-haiku-20241022-v1:0", "claude-3-5-haiku")]
    [InlineData("gcp.vertex_ai", "claude-3-5-sonnet@20240620", "claude-3-5-sonnet")]
    [InlineData("gcp.gemini", "models/gemini-2.5-flash", "gemini-2.5-flash")]
    [InlineData("gcp.gemini", "gemini-2.0-flash-001", "gemini-2.0-flash")]
    [InlineData(null, "gemini-2.5-flash-preview-05-20", "gemini-2.5-flash")]
    [InlineData("mistral_ai", "mistral-large-2411", "mistral-large")]
    [InlineData("mistral_ai", "mistral-small-latest", "mistral-small")]
    public void Model_names_match_exact_then_dated_and_wrapped_variants(string? provider, string reported, string priced)
    {
        Assert.True(PricingCatalog.Default.TryGetPrice(provider, reported, out var found), $"{reported} should be priced as {priced}");
        Assert.True(PricingCatalog.Default.TryGetPrice(null, priced, out var expected));
        Assert.Same(expected, found);
    }

    [Fact]
    public void Exact_names_win_over_shorter_variants()
    {
        Assert.True(PricingCatalog.Default.TryGetPrice("openai", "gpt-4o-mini", out var mini));
        Assert.True(PricingCatalog.Default.TryGetPrice("openai", "gpt-4o", out var full));
        Assert.NotEqual(full, mini);
    }

    [Theory]
    [InlineData("openai", "my-finetune")]
    [InlineData(null, "llama-3.1-70b")]
    [InlineData("openai", "")]
    [InlineData(null, "   ")]
    public void Unknown_models_have_no_price_and_no_cost(string? provider, string model)
    {
        Assert.False(PricingCatalog.Default.TryGetPrice(provider, model, out _));
        Assert.False(PricingCatalog.Default.TryComputeCost(provider, model, new TokenUsage(1000, 1000), out var cost));
        Assert.Equal(0, cost);
    }

    [Fact]
    public void Overrides_from_a_file_replace_and_add_prices_and_extend_the_version()
    {
        var path = Path.Combine(Path.GetTempPath(), $"perfotel-pricing-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """
            {
              "version": "acme-negotiated-3",
              "providers": {
                "openai": { "models": { "gpt-4o": { "input": 2.0, "output": 8.0 } } },
                "selfhosted": { "aliases": ["vllm"], "models": { "llama-3.1-70b": { "input": 0.5, "output": 0.5 } } }
              }
            }
            """);
        try
        {
            var catalog = PricingCatalog.Default.WithOverrides(PricingCatalog.Load(path));
            Assert.Equal(PricingCatalog.Default.Version + "+acme-negotiated-3", catalog.Version);
            Assert.True(catalog.TryComputeCost("openai", "gpt-4o-2024-08-06", new TokenUsage(1_000_000, 0), out var cost));
            Assert.Equal(2.0, cost, 12);
            Assert.True(catalog.TryComputeCost("vllm", "llama-3.1-70b", new TokenUsage(1_000_000, 1_000_000), out cost));
            Assert.Equal(1.0, cost, 12);
            // The default catalog is untouched.
            Assert.True(PricingCatalog.Default.TryComputeCost("openai", "gpt-4o", new TokenUsage(1_000_000, 0), out cost));
            Assert.Equal(2.5, cost, 12);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Prices_set_from_code_apply_to_any_provider_when_none_is_named()
    {
        var catalog = PricingCatalog.Default.WithPrice(null, "in-house-7b", new ModelPrice(0.2, 0.4, CacheReadPerMillion: 0.1));
        Assert.EndsWith("+custom", catalog.Version, StringComparison.Ordinal);
        Assert.True(catalog.TryComputeCost("whatever", "in-house-7b-2025-01-01", new TokenUsage(1_000_000, 1_000_000, CacheReadInputTokens: 500_000), out var cost));
        Assert.Equal((500_000 * 0.2 + 500_000 * 0.1 + 1_000_000 * 0.4) / 1e6, cost, 12);
    }

    [Theory]
    [InlineData("not json", "not valid JSON")]
    [InlineData("""{"providers": {"openai": {"models": {"gpt-x": {"input": 1}}}}}""", "$.providers.openai.models.gpt-x lacks the required price \"output\"")]
    [InlineData("""{"providers": {"openai": {"models": {"gpt-x": {"input": 1, "ouput": 2}}}}}""", "$.providers.openai.models.gpt-x.ouput is not a known field")]
    [InlineData("""{"providers": {"openai": {"models": {"gpt-x": {"input": -1, "output": 2}}}}}""", "$.providers.openai.models.gpt-x.input must be a non-negative number")]
    [InlineData("""{"currency": "EUR", "providers": {}}""", "$.currency must be \"USD\"")]
    [InlineData("""{"version": 3}""", "$.version must be a non-empty string")]
    [InlineData("""{"version": "x"}""", "$.providers must be an object")]
    public void Malformed_pricing_json_is_rejected_with_the_place_of_the_problem(string json, string expectedMessagePart)
    {
        var error = Assert.Throws<FormatException>(() => PricingCatalog.Parse(json));
        Assert.Contains(expectedMessagePart, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_prices_from_code_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ModelPrice(double.NaN, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ModelPrice(1, 1, CacheReadPerMillion: -0.1));
    }
}

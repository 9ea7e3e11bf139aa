using System.Net;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Instrumentation.Pricing;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;

namespace PerfOtel.Collector.Tests.Otlp;

/// <summary>Provider calls without a cost on the span are priced from the shared catalog by the running collector.</summary>
public sealed class PricingTests
{
    [Fact]
    public async Task CallsWithoutCost_ArePricedFromTheSharedCatalog_UnknownModelsCountAsUnpriced()
    {
        await using var collector = new CollectorFactory();
        using var client = collector.CreateClient();
        var known = Span("chat gpt-4o-mini", TraceId(1), SpanId(1), attributes:
        [
            (GenAiAttributes.ProviderName, "openai"), (GenAiAttributes.RequestModel, "gpt-4o-mini"),
            (GenAiAttributes.UsageInputTokens, 1200L), (GenAiAttributes.UsageOutputTokens, 300L),
        ]);
        var unknown = Span("chat in-house-llm", TraceId(1), SpanId(2), attributes:
        [
            (GenAiAttributes.ProviderName, "self-hosted"), (GenAiAttributes.RequestModel, "in-house-llm"),
            (GenAiAttributes.UsageInputTokens, 50L), (GenAiAttributes.UsageOutputTokens, 25L),
        ]);

        using var response = await client.PostAsync("/v1/traces", Protobuf(Traces([known, unknown])));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var calls = collector.Store.ProviderCalls.ToDictionary(c => c.RequestModel!);
        Assert.True(PricingCatalog.Default.TryComputeCost("openai", "gpt-4o-mini", new TokenUsage(1200, 300), out var expected));
        Assert.Equal(expected, calls["gpt-4o-mini"].CostUsd);
        Assert.True(expected > 0);
        Assert.Equal(0, calls["gpt-4o-mini"].UnpricedTokens);
        Assert.Null(calls["in-house-llm"].CostUsd);
        Assert.Equal(75, calls["in-house-llm"].UnpricedTokens);
    }

    [Fact]
    public async Task PricingOverridesFile_PricesModelsTheCatalogLacks()
    {
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, """
            { "version": "test", "providers": { "self-hosted": { "models": { "in-house-llm": { "input": 1.0, "output": 2.0 } } } } }
            """);
        try
        {
            await using var collector = new CollectorFactory(new() { ["Otlp:PricingOverridesPath"] = file });
            using var client = collector.CreateClient();
            var call = Span("chat in-house-llm", TraceId(1), SpanId(2), attributes:
            [
                (GenAiAttributes.ProviderName, "self-hosted"), (GenAiAttributes.RequestModel, "in-house-llm"),
                (GenAiAttributes.UsageInputTokens, 1_000_000L), (GenAiAttributes.UsageOutputTokens, 500_000L),
            ]);

            using var response = await client.PostAsync("/v1/traces", Protobuf(Traces([call])));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(2.0, Assert.Single(collector.Store.ProviderCalls).CostUsd!.Value, 9);
        }
        finally
        {
            File.Delete(file);
        }
    }
}

using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Receiving.Mapping;
using PerfOtel.Collector.Records;
using ProtoSpan = OpenTelemetry.Proto.Trace.V1.Span;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;

using PerfOtel.Collector.Tests.Otlp.Support;

namespace PerfOtel.Collector.Tests.Producers;

/// <summary>
/// The shapes the .NET agent libraries really emit (recorded from Agent Framework 1.28, Microsoft.Extensions.AI 10.11,
/// Semantic Kernel 1.82 and the OpenAI SDK 2.15), mapped to records: bounded names, renamed and deprecated attributes,
/// and one provider call per model call however many layers report it.
/// </summary>
public sealed class ForeignConventionMappingTests
{
    private sealed class GptPricing : IModelPricing
    {
        // Per million tokens: 0.15 input, 0.075 cached input, 0.60 output.
        public bool TryComputeCost(string? provider, string model, TokenCounts tokens, out double costUsd)
        {
            costUsd = ((tokens.Input - tokens.CacheRead) * 0.15 + tokens.CacheRead * 0.075 + tokens.Output * 0.60) / 1e6;
            return model == "gpt-4o-mini";
        }
    }

    // Through both decoders (Google.Protobuf's objects and the wire reader), which must agree (#21).
    private static IngestBatch Map(params ProtoSpan[] spans) => BothDecoders.Map(new SpanMapper(new GptPricing()), Traces(spans)).Batch;

    [Fact]
    public void SemanticKernelPrompt_ToolNameIsBounded_AndItsChatSpanIsRead()
    {
        var tool = Span("execute_tool InvokePromptAsync_1c4307b4a80f4f3693b2f8904c2c1cd6", TraceId(1), SpanId(1), null, 1,
            (GenAiAttributes.OperationName, GenAiOperations.ExecuteTool),
            (GenAiAttributes.ToolName, "InvokePromptAsync_1c4307b4a80f4f3693b2f8904c2c1cd6"));
        var chat = Span("chat gpt-4o-mini", TraceId(1), SpanId(2), SpanId(1), 0.5,
            (GenAiAttributes.OperationName, "chat"),
            (GenAiAttributes.SystemDeprecated, "openai"),
            (GenAiAttributes.RequestModel, "gpt-4o-mini"),
            (GenAiAttributes.ServerAddress, "http://127.0.0.1:40161/v1"),
            (GenAiAttributes.UsageInputTokens, 100L),
            (GenAiAttributes.UsageOutputTokens, 20L));

        var batch = Map(tool, chat);

        Assert.Equal("InvokePromptAsync_{id}", Assert.Single(batch.ToolCalls).ToolName);
        var call = Assert.Single(batch.ProviderCalls);
        Assert.Equal("openai", call.Provider);
        Assert.Equal(new TokenCounts(100, 20, 0, 0, 0), call.Tokens);
        Assert.Equal((100 * 0.15 + 20 * 0.60) / 1e6, call.CostUsd!.Value, 15);
    }

    [Fact]
    public void OlderSemanticKernelOperationAndTokenNames_AreRead()
    {
        var chat = Span("chat.completions gpt-4o-mini", TraceId(1), SpanId(1), null, 1,
            (GenAiAttributes.OperationName, LegacyGenAiOperations.ChatCompletions),
            (GenAiAttributes.SystemDeprecated, "openai"),
            (GenAiAttributes.RequestModel, "gpt-4o-mini"),
            (LegacyGenAiAttributes.ResponsePromptTokens, 70L),
            (LegacyGenAiAttributes.ResponseCompletionTokens, 7L));
        var text = Span("text.completions gpt-4o-mini", TraceId(1), SpanId(2), null, 1,
            (GenAiAttributes.OperationName, LegacyGenAiOperations.TextCompletions),
            (GenAiAttributes.RequestModel, "gpt-4o-mini"));

        var calls = Map(chat, text).ProviderCalls.OrderBy(c => c.SpanId).ToList();

        Assert.Equal([GenAiOperations.Chat, GenAiOperations.TextCompletion], calls.Select(c => c.Operation));
        Assert.Equal(new TokenCounts(70, 7, 0, 0, 0), calls[0].Tokens);
    }

    [Fact]
    public void RenamedCacheWriteAttribute_IsRead_AndTheReleasedNameWins()
    {
        var renamedOnly = Span("chat m", TraceId(1), SpanId(1), null, 1,
            (GenAiAttributes.OperationName, "chat"),
            (GenAiAttributes.UsageInputTokens, 100L),
            (RenamedGenAiAttributes.UsageCacheWriteInputTokens, 40L));
        var both = Span("chat m", TraceId(2), SpanId(2), null, 1,
            (GenAiAttributes.OperationName, "chat"),
            (GenAiAttributes.UsageInputTokens, 100L),
            (GenAiAttributes.UsageCacheCreationInputTokens, 30L),
            (RenamedGenAiAttributes.UsageCacheWriteInputTokens, 40L));

        var calls = Map(renamedOnly, both).ProviderCalls.OrderBy(c => c.SpanId).ToList();

        Assert.Equal(40, calls[0].Tokens.CacheCreation);
        Assert.Equal(30, calls[1].Tokens.CacheCreation);
    }

    [Fact]
    public void GeneratedAgentAndModelNames_AreBounded()
    {
        var agent = Span("invoke_agent 3f2504e0-4f89-11d3-9a0c-0305e82c3301", TraceId(1), SpanId(1), null, 1,
            (GenAiAttributes.OperationName, GenAiOperations.InvokeAgent),
            (GenAiAttributes.AgentId, "3f2504e0-4f89-11d3-9a0c-0305e82c3301"));
        var chat = Span("chat", TraceId(1), SpanId(2), SpanId(1), 1,
            (GenAiAttributes.OperationName, "chat"),
            (GenAiAttributes.RequestModel, "ft:gpt-4o-mini:acme:4bf92f3577b34da6"));

        var batch = Map(agent, chat);

        Assert.Equal("{id}", Assert.Single(batch.Invocations).AgentName);
        var call = Assert.Single(batch.ProviderCalls);
        Assert.Equal("ft:gpt-4o-mini:acme:{id}", call.RequestModel);
        Assert.Equal("{id}", call.AgentName);
    }

    /// <summary>
    /// Agent Framework's invoke_agent (kind Client, with its children's totals), its chat span, and the OpenAI SDK's chat
    /// span under that: one call per model request, with the cached tokens only the outer layer reported.
    /// </summary>
    [Fact]
    public void LayeredChatSpans_AreOneCall_WithFiguresFromEveryLayer()
    {
        var agent = Span("invoke_agent triage(ac7ea4ca979c4338933faee5b169df3f)", TraceId(1), SpanId(1), null, 3,
            (GenAiAttributes.OperationName, GenAiOperations.InvokeAgent),
            (GenAiAttributes.AgentName, "triage"),
            (GenAiAttributes.AgentId, "ac7ea4ca979c4338933faee5b169df3f"),
            (GenAiAttributes.UsageInputTokens, 150L),
            (GenAiAttributes.UsageOutputTokens, 30L),
            (GenAiAttributes.UsageCacheReadInputTokens, 30L));
        agent.Kind = ProtoSpan.Types.SpanKind.Client;
        ProtoSpan AgentFrameworkChat(int id, long input, long output, long cached) => Span("chat gpt-4o-mini", TraceId(1), SpanId(id), SpanId(1), 1,
            (GenAiAttributes.OperationName, "chat"),
            (GenAiAttributes.ProviderName, "openai"),
            (GenAiAttributes.RequestModel, "gpt-4o-mini"),
            (GenAiAttributes.UsageInputTokens, input),
            (GenAiAttributes.UsageOutputTokens, output),
            (GenAiAttributes.UsageCacheReadInputTokens, cached));
        ProtoSpan OpenAiChat(int id, int parent, long input, long output) => Span("chat gpt-4o-mini", TraceId(1), SpanId(id), SpanId(parent), 1,
            (GenAiAttributes.OperationName, "chat"),
            (GenAiAttributes.SystemDeprecated, "openai"),
            (GenAiAttributes.RequestModel, "gpt-4o-mini"),
            (GenAiAttributes.UsageInputTokens, input),
            (GenAiAttributes.UsageOutputTokens, output));
        var http = Span("POST", TraceId(1), SpanId(9), SpanId(3), 1);

        var batch = Map(agent, AgentFrameworkChat(2, 50, 10, 0), OpenAiChat(3, 2, 50, 10), http,
            AgentFrameworkChat(4, 100, 20, 30), OpenAiChat(5, 4, 100, 20));

        var calls = batch.ProviderCalls.OrderBy(c => c.SpanId).ToList();
        Assert.Equal([Hex(SpanId(3)), Hex(SpanId(5))], calls.Select(c => c.SpanId));
        Assert.All(calls, c => Assert.Equal("triage", c.AgentName));
        Assert.Equal(new TokenCounts(50, 10, 0, 0, 0), calls[0].Tokens);
        Assert.Equal(new TokenCounts(100, 20, 30, 0, 0), calls[1].Tokens);
        Assert.Equal(((100 - 30) * 0.15 + 30 * 0.075 + 20 * 0.60) / 1e6, calls[1].CostUsd!.Value, 15);
        Assert.Equal("triage", Assert.Single(batch.Invocations).AgentName);
    }

    [Fact]
    public void WrapperAroundSeveralCalls_GivesNoFiguresToThem()
    {
        var wrapper = Span("chat gpt-4o-mini", TraceId(1), SpanId(1), null, 2,
            (GenAiAttributes.OperationName, "chat"),
            (GenAiAttributes.UsageCacheReadInputTokens, 30L),
            (PerfOtelAttributes.CostUsd, 1.0));
        ProtoSpan Attempt(int id) => Span("chat gpt-4o-mini", TraceId(1), SpanId(id), SpanId(1), 1,
            (GenAiAttributes.OperationName, "chat"),
            (GenAiAttributes.RequestModel, "gpt-4o-mini"),
            (GenAiAttributes.UsageInputTokens, 100L));

        var calls = Map(wrapper, Attempt(2), Attempt(3)).ProviderCalls;

        Assert.Equal(2, calls.Count);
        Assert.All(calls, c => Assert.Equal(new TokenCounts(100, 0, 0, 0, 0), c.Tokens));
        Assert.All(calls, c => Assert.Equal(100 * 0.15 / 1e6, c.CostUsd!.Value, 15));
    }
}

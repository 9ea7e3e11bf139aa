using System.Diagnostics;
using Microsoft.Extensions.AI;
using OpenTelemetry.Exporter;
using Microsoft.SemanticKernel;
using OpenAI.Chat;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Tests.Cost;
using PerfOtel.Collector.Tests.EndToEnd;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Testing;
using static PerfOtel.Collector.Tests.Producers.ProducerPipeline;

namespace PerfOtel.Collector.Tests.Producers;

/// <summary>
/// Microsoft.Extensions.AI 10.11 (function invocation and OpenTelemetry middleware inside the application's own agent
/// span), Semantic Kernel 1.82 (its GenAI diagnostics switch) and the OpenAI SDK 2.15 alone (its OpenTelemetry switch),
/// each against the fake server and through the real exporter into the collector.
/// </summary>
public sealed class ChatLibraryProducerTests
{
    private const string AgentSource = "PerfOtel.Tests.Producers.SupportAgent";

    [Theory]
    [MemberData(nameof(Transports), MemberType = typeof(ProducerPipeline))]
    public async Task MicrosoftExtensionsAi_InsideAnAgentSpan_CallsAndToolAreTheAgents_AndOrchestrationTotalsCountOnce(OtlpExportProtocol protocol)
    {
        await using var pipeline = new ProducerPipeline(new FakeChatReply(100, 20, CachedTokens: 30), "support-agent", protocol, AgentSource);
        pipeline.Llm.Then(new FakeChatReply(50, 10, ToolCall: ("get_weather", """{"city":"Paris"}""")));
        var weather = AIFunctionFactory.Create((string city) => "sunny in " + city, "get_weather", "The weather in a city.");
        using var chat = pipeline.OpenAi().GetChatClient(Model).AsIChatClient()
            .AsBuilder().UseFunctionInvocation().UseOpenTelemetry().Build();
        using var source = new ActivitySource(AgentSource);

        string invocationSpanId;
        using (var agent = source.StartActivity("invoke_agent support", ActivityKind.Internal)!)
        {
            invocationSpanId = agent.SpanId.ToHexString();
            agent.SetTag(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent);
            agent.SetTag(GenAiAttributes.AgentName, "support");
            var answer = await chat.GetResponseAsync("What is the weather in Paris?", new ChatOptions { Tools = [weather] });
            Assert.Equal("Paris", answer.Text);
        }

        pipeline.Flush();
        await pipeline.StoredAsync(records: 4);

        var invocation = Assert.Single(pipeline.Collector.Store.Invocations);
        Assert.Equal((invocationSpanId, "support", Outcomes.Success), (invocation.SpanId, invocation.AgentName, invocation.Outcome));
        var calls = pipeline.Collector.Store.ProviderCalls.OrderBy(c => c.StartTime).ToList();
        Assert.Equal(2, calls.Count);
        Assert.All(calls, c => Assert.Equal((invocationSpanId, "support"), (c.InvocationSpanId, c.AgentName)));
        Assert.Equal(new TokenCounts(50, 10, 0, 0, 0), calls[0].Tokens);
        Assert.Equal(new TokenCounts(100, 20, 30, 0, 0), calls[1].Tokens);
        var tool = Assert.Single(pipeline.Collector.Store.ToolCalls);
        Assert.Equal(("get_weather", "support"), (tool.ToolName, tool.AgentName));

        var cost = CallCost(50, 10, 0) + CallCost(100, 20, 30);
        var hour = await pipeline.HourWindowAsync("support", invocations: 1);
        Assert.Equal(2, hour.GetProperty("providerCalls").GetInt64());
        Assert.Equal(180, hour.GetProperty("tokens").GetInt64());
        Assert.Equal(cost, hour.GetProperty("costUsd").GetDouble(), 12);
        var labels = new[] { ("tenant", "default"), ("agent", "support"), ("provider", "openai"), ("model", Model) };
        var metrics = await pipeline.MetricsWithCallsAsync(2, labels);
        Assert.Equal(cost, Exposition.Sample(metrics, "perfotel_cost_usd_total", labels)!.Value, 12);
    }

    /// <summary>
    /// Semantic Kernel names every prompt function <c>InvokePromptAsync_&lt;guid&gt;</c>: three prompts are one tool
    /// name, not three. Neither its chat span nor the OpenAI SDK's reports cached tokens, so the server answers with none.
    /// </summary>
    [Theory]
    [MemberData(nameof(Transports), MemberType = typeof(ProducerPipeline))]
    public async Task SemanticKernelPrompts_AreOneBoundedToolName_AndOneCallEach(OtlpExportProtocol protocol)
    {
        await using var pipeline = new ProducerPipeline(new FakeChatReply(200, 40), "kernel-app", protocol);
        var kernel = Kernel.CreateBuilder().AddOpenAIChatCompletion(Model, pipeline.Llm.BaseAddress, "test-key").Build();

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("Paris", (await kernel.InvokePromptAsync("What is the capital of France?")).ToString());
        }

        pipeline.Flush();
        await pipeline.StoredAsync(records: 6);

        Assert.Equal(3, pipeline.Llm.Requests);
        var tools = pipeline.Collector.Store.ToolCalls;
        Assert.Equal(3, tools.Count);
        Assert.All(tools, t => Assert.Equal("InvokePromptAsync_{id}", t.ToolName));
        var calls = pipeline.Collector.Store.ProviderCalls;
        Assert.Equal(3, calls.Count);
        Assert.All(calls, c => Assert.Equal(("openai", Model, new TokenCounts(200, 40, 0, 0, 0), (string?)null),
            (c.Provider, c.RequestModel, c.Tokens, c.AgentName)));
        Assert.Empty(pipeline.Collector.Store.Invocations);

        var labels = new[] { ("tenant", "default"), ("provider", "openai"), ("model", Model) };
        var metrics = await pipeline.MetricsWithCallsAsync(3, labels);
        Assert.Equal(3, Exposition.Sample(metrics, "perfotel_cost_calls_total", labels));
        Assert.Equal(3 * CallCost(200, 40, 0), Exposition.Sample(metrics, "perfotel_cost_usd_total", labels)!.Value, 12);
    }

    [Theory]
    [MemberData(nameof(Transports), MemberType = typeof(ProducerPipeline))]
    public async Task OpenAiSdk_WithItsTelemetrySwitch_IsOneCallPerRequest(OtlpExportProtocol protocol)
    {
        await using var pipeline = new ProducerPipeline(new FakeChatReply(120, 30), "sdk-app", protocol);
        var client = pipeline.OpenAi().GetChatClient(Model);

        var first = await client.CompleteChatAsync([new UserChatMessage("hi")]);
        var second = await client.CompleteChatAsync([new UserChatMessage("hi again")]);
        pipeline.Flush();
        await pipeline.StoredAsync(records: 2);

        Assert.Equal("Paris", first.Value.Content[0].Text);
        Assert.Equal("Paris", second.Value.Content[0].Text);
        var calls = pipeline.Collector.Store.ProviderCalls;
        Assert.Equal(2, calls.Count);
        Assert.All(calls, c => Assert.Equal(("openai", Model, new TokenCounts(120, 30, 0, 0, 0)), (c.Provider, c.ResponseModel, c.Tokens)));
        Assert.All(calls, c => Assert.Equal(CallCost(120, 30, 0), c.CostUsd!.Value, 15));
    }
}

using System.ClientModel;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using Microsoft.SemanticKernel;
using OpenAI;
using PerfOtel.Instrumentation.ChatClients;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Testing;

namespace PerfOtel.Instrumentation.Tests.Attribution;

/// <summary>
/// Chat spans of Microsoft.Extensions.AI 10.11, Agent Framework 1.28 and Semantic Kernel 1.82 (all over the OpenAI SDK
/// with its own telemetry on) are attributed to the enclosing PerfOtel invocation, each model call once however many
/// layers report it. Prices (gpt-4o, per million): 2.50 input, 1.25 cached input, 10 output.
/// </summary>
[Collection(GlobalInstrumentsCollection.Name)]
public class AgentLibraryAttributionTests
{
    private const string Model = "gpt-4o";

    static AgentLibraryAttributionTests()
    {
        AppContext.SetSwitch("OpenAI.Experimental.EnableOpenTelemetry", true);
        AppContext.SetSwitch("Microsoft.SemanticKernel.Experimental.GenAI.EnableOTelDiagnostics", true);
    }

    private static OpenAIClient OpenAi(FakeChatCompletionsServer server) =>
        new(new ApiKeyCredential("test-key"), new OpenAIClientOptions { Endpoint = server.BaseAddress, NetworkTimeout = TimeSpan.FromSeconds(30) });

    private static IChatClient SdkChatClient(FakeChatCompletionsServer server) => OpenAi(server).GetChatClient(Model).AsIChatClient();

    /// <summary>Microsoft.Extensions.AI's span around the OpenAI SDK's: one call, with the cached tokens only the outer layer reports.</summary>
    [Fact]
    public async Task MicrosoftExtensionsAi_over_the_OpenAI_sdk_counts_each_call_once_with_its_cached_tokens()
    {
        using var server = new FakeChatCompletionsServer(Model, new FakeChatReply(1_000, 100, CachedTokens: 400));
        using var harness = new TelemetryHarness();
        using var chat = SdkChatClient(server).AsBuilder().UseOpenTelemetry().Build();

        using (var invocation = AgentTelemetry.StartInvocation("meai-agent", new() { Tenant = "t-meai" }))
        {
            Assert.Equal("Paris", (await chat.GetResponseAsync("Capital of France?")).Text);
            invocation.Succeed();
        }

        Assert.Equal(1, server.Requests);
        Assert.Equal(1, harness.OnePoint("gen_ai.client.operation.duration", (GenAiAttributes.AgentName, "meai-agent")).Count);
        Assert.Equal(1_000, harness.OnePoint("gen_ai.client.token.usage", (GenAiAttributes.AgentName, "meai-agent"), (GenAiAttributes.TokenType, "input")).Sum);
        // 600 * 2.50 + 400 * 1.25 + 100 * 10 = 3000 micro-USD (3500 if the cached tokens were lost).
        Assert.Equal(0.003, harness.OnePoint("perfotel.agent.cost.usd", (GenAiAttributes.AgentName, "meai-agent")).Value, 12);
    }

    [Fact]
    public async Task Agent_framework_run_with_a_tool_call_counts_both_model_calls_once_on_the_enclosing_agent()
    {
        using var server = new FakeChatCompletionsServer(Model, new FakeChatReply(100, 20));
        server.Then(new FakeChatReply(50, 10, ToolCall: ("get_weather", """{"city":"Paris"}""")));
        using var harness = new TelemetryHarness();
        var weather = AIFunctionFactory.Create((string city) => "sunny in " + city, "get_weather", "The weather in a city.");
        AIAgent agent = new ChatClientAgent(SdkChatClient(server), instructions: "Answer briefly.", name: "af-agent", tools: [weather]);
        agent = agent.AsBuilder().UseOpenTelemetry().Build();

        using (var invocation = AgentTelemetry.StartInvocation("weather", new() { Tenant = "t-af" }))
        {
            Assert.Equal("Paris", (await agent.RunAsync("Weather in Paris?")).Text);
            invocation.Succeed();
        }

        Assert.Equal(2, server.Requests);
        Assert.Equal(2, harness.OnePoint("gen_ai.client.operation.duration", (GenAiAttributes.AgentName, "weather")).Count);
        Assert.Equal(150, harness.OnePoint("gen_ai.client.token.usage", (GenAiAttributes.AgentName, "weather"), (GenAiAttributes.TokenType, "input")).Sum);
        Assert.Equal(30, harness.OnePoint("gen_ai.client.token.usage", (GenAiAttributes.AgentName, "weather"), (GenAiAttributes.TokenType, "output")).Sum);
        // 150 * 2.50 + 30 * 10 = 675 micro-USD: the invoke_agent span's own totals are not a call.
        Assert.Equal(0.000675, harness.OnePoint("perfotel.agent.cost.usd", (GenAiAttributes.AgentName, "weather")).Value, 12);
    }

    [Fact]
    public async Task Semantic_kernel_prompt_counts_once_on_the_enclosing_agent()
    {
        using var server = new FakeChatCompletionsServer(Model, new FakeChatReply(200, 40));
        using var harness = new TelemetryHarness();
        var kernel = Kernel.CreateBuilder().AddOpenAIChatCompletion(Model, server.BaseAddress, "test-key").Build();

        using (var invocation = AgentTelemetry.StartInvocation("kernel-agent", new() { Tenant = "t-sk" }))
        {
            Assert.Equal("Paris", (await kernel.InvokePromptAsync("Capital of France?")).ToString());
            invocation.Succeed();
        }

        Assert.Equal(1, harness.OnePoint("gen_ai.client.operation.duration", (GenAiAttributes.AgentName, "kernel-agent")).Count);
        // 200 * 2.50 + 40 * 10 = 900 micro-USD.
        Assert.Equal(0.0009, harness.OnePoint("perfotel.agent.cost.usd", (GenAiAttributes.AgentName, "kernel-agent")).Value, 12);
    }

    /// <summary>PerfOtel's chat client inside or outside Microsoft.Extensions.AI's, both over the OpenAI SDK: three layers, one call.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task PerfOtel_chat_client_inside_or_outside_the_library_layers_counts_once(bool perfOtelInside)
    {
        using var server = new FakeChatCompletionsServer(Model, new FakeChatReply(1_000, 100, CachedTokens: 400));
        using var harness = new TelemetryHarness();
        using var chat = perfOtelInside
            ? new ChatClientBuilder(SdkChatClient(server).WithPerfOtelInstrumentation("openai")).UseOpenTelemetry().Build()
            : SdkChatClient(server).AsBuilder().UseOpenTelemetry().Build().WithPerfOtelInstrumentation("openai");

        using (var invocation = AgentTelemetry.StartInvocation("layered", new() { Tenant = "t-layers" }))
        {
            Assert.Equal("Paris", (await chat.GetResponseAsync("Capital of France?", new ChatOptions { ModelId = Model })).Text);
            invocation.Succeed();
        }

        Assert.Equal(1, harness.OnePoint("gen_ai.client.operation.duration", (GenAiAttributes.AgentName, "layered")).Count);
        Assert.Equal(0.003, harness.OnePoint("perfotel.agent.cost.usd", (GenAiAttributes.AgentName, "layered")).Value, 12);
    }
}

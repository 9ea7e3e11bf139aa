using System.ClientModel;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using PerfOtel.Instrumentation.ChatClients;
using PerfOtel.Instrumentation.Conventions;
using ChatMessage = Microsoft.Extensions.AI.ChatMessage;

namespace PerfOtel.Instrumentation.Tests.Attribution;

[Collection(GlobalInstrumentsCollection.Name)]
public class OpenAiSpanAttributionTests
{
    static OpenAiSpanAttributionTests() =>
        // The OpenAI SDK's switch; the SDK reads it when a client is created.
        AppContext.SetSwitch("OpenAI.Experimental.EnableOpenTelemetry", true);

    private static ChatClient OpenAiClient(FakeOpenAiServer server) =>
        new("gpt-4o", new ApiKeyCredential("test-key"), new OpenAIClientOptions { Endpoint = server.BaseAddress, NetworkTimeout = TimeSpan.FromSeconds(30) });

    [Fact]
    public async Task Tokens_and_cost_of_OpenAI_sdk_calls_land_on_the_enclosing_agent()
    {
        using var server = new FakeOpenAiServer("gpt-4o-2024-08-06", promptTokens: 1_200, completionTokens: 300);
        using var harness = new TelemetryHarness();
        var client = OpenAiClient(server);

        using (var invocation = AgentTelemetry.StartInvocation("researcher", new() { Tenant = "t-openai", AgentType = "research" }))
        {
            ChatCompletion completion = await client.CompleteChatAsync([new UserChatMessage("Capital of France?")]);
            Assert.Equal("Paris", completion.Content[0].Text);
            invocation.Succeed();
        }
        await client.CompleteChatAsync([new UserChatMessage("And outside any agent?")]);

        Assert.Equal(2, server.Requests);
        // gpt-4o: 1200 * 2.50 + 300 * 10 = 6000 micro-USD.
        var cost = harness.OnePoint("perfotel.agent.cost.usd", (GenAiAttributes.AgentName, "researcher"));
        Assert.Equal(0.006, cost.Value, 12);
        Assert.Equal("t-openai", cost.Tags[PerfOtelAttributes.Tenant]);
        Assert.Equal("research", cost.Tags[PerfOtelAttributes.AgentType]);
        Assert.Equal("openai", cost.Tags[GenAiAttributes.ProviderName]);
        Assert.Equal("gpt-4o", cost.Tags[GenAiAttributes.RequestModel]);

        var input = harness.OnePoint("gen_ai.client.token.usage", (GenAiAttributes.AgentName, "researcher"), (GenAiAttributes.TokenType, "input"));
        Assert.Equal(1_200, input.Sum);
        Assert.Equal("gpt-4o-2024-08-06", input.Tags[GenAiAttributes.ResponseModel]);
        Assert.Equal(0.006, (double)harness.Span("invoke_agent researcher").GetTagItem(PerfOtelAttributes.CostUsd)!, 12);

        // The call outside any invocation is still priced, under the default tenant and no agent.
        var unattributed = harness.Points("perfotel.agent.cost.usd").Single(p => !p.Tags.ContainsKey(GenAiAttributes.AgentName));
        Assert.Equal(0.006, unattributed.Value, 12);
        Assert.Equal("default", unattributed.Tags[PerfOtelAttributes.Tenant]);
    }

    [Fact]
    public async Task OpenAI_calls_made_through_the_wrapped_chat_client_count_once()
    {
        using var server = new FakeOpenAiServer("gpt-4o-2024-08-06", promptTokens: 1_000, completionTokens: 100);
        using var harness = new TelemetryHarness();
        IChatClient wrapped = new OpenAiSdkChatClient(OpenAiClient(server)).WithPerfOtelInstrumentation("openai");

        using (var invocation = AgentTelemetry.StartInvocation("wrapped", new() { Tenant = "t-once" }))
        {
            var response = await wrapped.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], new ChatOptions { ModelId = "gpt-4o" });
            Assert.Equal("Paris", response.Text);
            invocation.Succeed();
        }

        // 1000 * 2.50 + 100 * 10 = 3500 micro-USD, once.
        Assert.Equal(0.0035, harness.OnePoint("perfotel.agent.cost.usd").Value, 12);
        Assert.Equal(1, harness.OnePoint("gen_ai.client.operation.duration").Count);
        Assert.Equal(1_000, harness.OnePoint("gen_ai.client.token.usage", (GenAiAttributes.TokenType, "input")).Sum);
    }

    [Fact]
    public async Task Attribution_can_be_switched_off()
    {
        using var server = new FakeOpenAiServer("gpt-4o-2024-08-06", promptTokens: 10, completionTokens: 10);
        using var harness = new TelemetryHarness(o => o.AttributeGenAiClientSpans = false);
        using (var invocation = AgentTelemetry.StartInvocation("quiet", new() { Tenant = "t-off" }))
        {
            await OpenAiClient(server).CompleteChatAsync([new UserChatMessage("hi")]);
            invocation.Succeed();
        }
        Assert.Empty(harness.Points("perfotel.agent.cost.usd"));
        Assert.Equal(1, harness.OnePoint("perfotel.agent.invocations").Value);
        using var restore = new TelemetryHarness();
    }

    /// <summary>Exposes the OpenAI SDK's ChatClient as an IChatClient, the way adapter packages do.</summary>
    private sealed class OpenAiSdkChatClient(ChatClient client) : IChatClient
    {
        public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            ChatCompletion completion = await client.CompleteChatAsync(
                messages.Select(m => (OpenAI.Chat.ChatMessage)new UserChatMessage(m.Text)), cancellationToken: cancellationToken);
            return new ChatResponse(new ChatMessage(ChatRole.Assistant, completion.Content[0].Text))
            {
                ModelId = completion.Model,
                Usage = new UsageDetails { InputTokenCount = completion.Usage.InputTokenCount, OutputTokenCount = completion.Usage.OutputTokenCount },
            };
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}

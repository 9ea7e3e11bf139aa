using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace PerfOtel.Instrumentation.Tests.ChatClients;

/// <summary>A scripted LLM provider: answers with a canned response or stream, fails, or waits to be cancelled.</summary>
internal sealed class FakeChatClient(string providerName = "openai", string defaultModel = "gpt-4o") : IChatClient
{
    public Func<Exception>? Failure { get; init; }

    public bool WaitForCancellation { get; init; }

    public UsageDetails Usage { get; init; } = new() { InputTokenCount = 1_000, OutputTokenCount = 200 };

    public string ResponseModel { get; init; } = "gpt-4o-2024-08-06";

    public int Calls { get; private set; }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        Calls++;
        await Task.Yield();
        if (WaitForCancellation)
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        if (Failure is not null)
        {
            throw Failure();
        }
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, "Paris"))
        {
            ModelId = ResponseModel,
            ResponseId = "resp-1",
            FinishReason = ChatFinishReason.Stop,
            Usage = Usage,
        };
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Calls++;
        foreach (var word in new[] { "The ", "capital ", "is ", "Paris." })
        {
            await Task.Yield();
            cancellationToken.ThrowIfCancellationRequested();
            yield return new ChatResponseUpdate(ChatRole.Assistant, word) { ModelId = ResponseModel, ResponseId = "resp-2" };
        }
        if (Failure is not null)
        {
            throw Failure();
        }
        yield return new ChatResponseUpdate { FinishReason = ChatFinishReason.Stop, Contents = [new UsageContent(Usage)] };
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata(providerName, new Uri("http://127.0.0.1/"), defaultModel) : null;

    public void Dispose()
    {
    }
}

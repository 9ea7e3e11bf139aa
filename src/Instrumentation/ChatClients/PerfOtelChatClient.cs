using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Instrumentation.Implementation;
using PerfOtel.Instrumentation.Pricing;

namespace PerfOtel.Instrumentation.ChatClients;

/// <summary>
/// An <see cref="IChatClient"/> that records every call of the client it wraps as a PerfOtel provider call: span,
/// duration, tokens, cost, errors, for plain and streaming responses, attributed to the ambient agent invocation.
/// Create it with <see cref="PerfOtelChatClientExtensions.WithPerfOtelInstrumentation"/>.
/// </summary>
public sealed class PerfOtelChatClient : DelegatingChatClient
{
    private readonly string providerName;
    private readonly string? defaultModel;

    /// <summary>Wraps <paramref name="innerClient"/>.</summary>
    /// <param name="innerClient">The client to observe.</param>
    /// <param name="providerName">
    /// <c>gen_ai.provider.name</c>; default: the inner client's <see cref="ChatClientMetadata.ProviderName"/>.
    /// </param>
    public PerfOtelChatClient(IChatClient innerClient, string? providerName = null)
        : base(innerClient)
    {
        var metadata = innerClient.GetService(typeof(ChatClientMetadata)) as ChatClientMetadata;
        this.providerName = InputGuard.OptionalName(providerName) ?? InputGuard.OptionalName(metadata?.ProviderName) ?? InputGuard.UnknownName;
        defaultModel = metadata?.DefaultModelId;
    }

    /// <inheritdoc />
    public override async Task<ChatResponse> GetResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var call = Start(options);
        ChatResponse response;
        try
        {
            response = await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            call.Fail(e);
            throw;
        }
        call.SetResponseModel(response.ModelId).SetResponse(response.ResponseId, response.FinishReason?.Value);
        if (response.Usage is { } usage)
        {
            call.SetUsage(ToTokenUsage(usage));
        }
        return response;
    }

    /// <inheritdoc />
    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var call = Start(options);
        var observed = new StreamObservation();
        IAsyncEnumerator<ChatResponseUpdate> updates;
        try
        {
            updates = base.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
        }
        catch (Exception e)
        {
            call.Fail(e);
            throw;
        }

        try
        {
            while (true)
            {
                ChatResponseUpdate update;
                // An iterator's ambient state does not survive its yields, so each step of the inner stream runs with
                // this call ambient again: spans of the inner client's own instrumentation then nest under it.
                using (call.MakeAmbient())
                {
                    try
                    {
                        if (!await updates.MoveNextAsync().ConfigureAwait(false))
                        {
                            break;
                        }
                    }
                    catch (Exception e)
                    {
                        call.Fail(e);
                        throw;
                    }
                    update = updates.Current;
                }
                observed.Observe(update);
                yield return update;
            }
        }
        finally
        {
            await updates.DisposeAsync().ConfigureAwait(false);
            observed.ApplyTo(call);
        }
    }

    private ProviderCall Start(ChatOptions? options) =>
        AgentTelemetry.StartProviderCall(providerName, options?.ModelId ?? defaultModel ?? InputGuard.UnknownName);

    internal static TokenUsage ToTokenUsage(UsageDetails usage) => new(
        usage.InputTokenCount ?? 0,
        usage.OutputTokenCount ?? 0,
        usage.CachedInputTokenCount ?? 0,
        ReadAdditional(usage, "CacheCreationInputTokens", "cache_creation_input_tokens"),
        usage.ReasoningTokenCount ?? 0);

    private static long ReadAdditional(UsageDetails usage, string name, string alternativeName) =>
        usage.AdditionalCounts is { } counts && (counts.TryGetValue(name, out var value) || counts.TryGetValue(alternativeName, out value))
            ? value
            : 0;

    /// <summary>What a stream revealed about its response; usage arrives in a <see cref="UsageContent"/>, usually last.</summary>
    private sealed class StreamObservation
    {
        private string? modelId;
        private string? responseId;
        private string? finishReason;
        private UsageDetails? usage;

        public void Observe(ChatResponseUpdate update)
        {
            modelId = update.ModelId ?? modelId;
            responseId = update.ResponseId ?? responseId;
            finishReason = update.FinishReason?.Value ?? finishReason;
            foreach (var content in update.Contents)
            {
                if (content is UsageContent { Details: { } details })
                {
                    usage ??= new UsageDetails();
                    usage.Add(details);
                }
            }
        }

        public void ApplyTo(ProviderCall call)
        {
            call.SetResponseModel(modelId).SetResponse(responseId, finishReason);
            if (usage is not null)
            {
                call.SetUsage(ToTokenUsage(usage));
            }
        }
    }
}

/// <summary>Builder-style extension that adds PerfOtel's recording to any <see cref="IChatClient"/>.</summary>
public static class PerfOtelChatClientExtensions
{
    /// <summary>
    /// Wraps <paramref name="client"/> so that every call is recorded as a provider call. With
    /// Microsoft.Extensions.AI's ChatClientBuilder: <c>builder.Use(inner =&gt; inner.WithPerfOtelInstrumentation())</c>.
    /// </summary>
    /// <param name="client">The client to observe.</param>
    /// <param name="providerName"><c>gen_ai.provider.name</c>; default: the client's metadata.</param>
    public static IChatClient WithPerfOtelInstrumentation(this IChatClient client, string? providerName = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        return new PerfOtelChatClient(client, providerName);
    }
}

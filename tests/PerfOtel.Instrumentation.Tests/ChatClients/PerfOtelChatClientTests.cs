using System.Diagnostics;
using Microsoft.Extensions.AI;
using PerfOtel.Instrumentation.ChatClients;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Instrumentation.Tests.ChatClients;

[Collection(GlobalInstrumentsCollection.Name)]
public class PerfOtelChatClientTests
{
    [Fact]
    public async Task A_response_is_recorded_with_model_tokens_and_cost_on_the_ambient_agent()
    {
        using var harness = new TelemetryHarness();
        var client = new FakeChatClient
        {
            Usage = new UsageDetails { InputTokenCount = 1_000, OutputTokenCount = 200, CachedInputTokenCount = 400, ReasoningTokenCount = 50 },
        }.WithPerfOtelInstrumentation();

        using (var invocation = AgentTelemetry.StartInvocation("geo", new() { Tenant = "t-chat" }))
        {
            var response = await client.GetResponseAsync("Capital of France?");
            Assert.Equal("Paris", response.Text);
            invocation.Succeed();
        }

        var span = harness.Span("chat gpt-4o");
        Assert.Equal(ActivityKind.Client, span.Kind);
        Assert.Equal(harness.Span("invoke_agent geo").SpanId, span.ParentSpanId);
        Assert.Equal("openai", span.GetTagItem(GenAiAttributes.ProviderName));
        Assert.Equal("gpt-4o-2024-08-06", span.GetTagItem(GenAiAttributes.ResponseModel));
        Assert.Equal("resp-1", span.GetTagItem(GenAiAttributes.ResponseId));
        Assert.Equal(400L, span.GetTagItem(GenAiAttributes.UsageCacheReadInputTokens));
        Assert.Equal(50L, span.GetTagItem(GenAiAttributes.UsageReasoningOutputTokens));
        // gpt-4o: 600 uncached * 2.50 + 400 cached * 1.25 + 200 output * 10 = 1500 + 500 + 2000 micro-USD.
        Assert.Equal(0.004, harness.OnePoint("perfotel.agent.cost.usd", (GenAiAttributes.AgentName, "geo")).Value, 12);
        Assert.Equal(1_000, harness.OnePoint("gen_ai.client.token.usage", (GenAiAttributes.TokenType, "input")).Sum);
    }

    [Fact]
    public async Task A_stream_is_recorded_once_it_ends_with_the_usage_it_carried()
    {
        using var harness = new TelemetryHarness();
        var client = new FakeChatClient(providerName: "anthropic", defaultModel: "claude-3-5-haiku") { ResponseModel = "claude-3-5-haiku-20241022" }
            .WithPerfOtelInstrumentation();

        var text = "";
        using (var invocation = AgentTelemetry.StartInvocation("streamer", new() { Tenant = "t-stream" }))
        {
            await foreach (var update in client.GetStreamingResponseAsync("Capital of France?"))
            {
                text += update.Text;
                Assert.Empty(harness.FinishedSpans);
            }
            invocation.Succeed();
        }

        Assert.Equal("The capital is Paris.", text);
        var span = harness.Span("chat claude-3-5-haiku");
        Assert.Equal(harness.Span("invoke_agent streamer").SpanId, span.ParentSpanId);
        Assert.Equal("claude-3-5-haiku-20241022", span.GetTagItem(GenAiAttributes.ResponseModel));
        Assert.Equal(new[] { "stop" }, span.GetTagItem(GenAiAttributes.ResponseFinishReasons));
        Assert.Equal(1_000L, span.GetTagItem(GenAiAttributes.UsageInputTokens));
        // claude-3-5-haiku: 1000 * 0.80 + 200 * 4 = 1600 micro-USD.
        Assert.Equal(0.0016, harness.OnePoint("perfotel.agent.cost.usd").Value, 12);
        Assert.Equal(1, harness.OnePoint("gen_ai.client.operation.duration").Count);
    }

    [Fact]
    public async Task Exceptions_are_recorded_as_errors_and_rethrown()
    {
        using var harness = new TelemetryHarness();
        var client = new FakeChatClient { Failure = () => new HttpRequestException("503") }.WithPerfOtelInstrumentation();
        using (var invocation = AgentTelemetry.StartInvocation("unlucky", new() { Tenant = "t-error" }))
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => client.GetResponseAsync("hi"));
            await Assert.ThrowsAsync<HttpRequestException>(async () =>
            {
                await foreach (var _ in client.GetStreamingResponseAsync("hi"))
                {
                }
            });
            invocation.Fail("provider_down");
        }

        var spans = harness.FinishedSpans.Where(a => a.DisplayName == "chat gpt-4o").ToList();
        Assert.Equal(2, spans.Count);
        Assert.All(spans, s =>
        {
            Assert.Equal(ActivityStatusCode.Error, s.Status);
            Assert.Equal("System.Net.Http.HttpRequestException", s.GetTagItem(GenAiAttributes.ErrorType));
        });
        // The stream failed after its first updates had named the response model, so its point carries that too.
        var failed = harness.Points("gen_ai.client.operation.duration", (GenAiAttributes.ErrorType, "System.Net.Http.HttpRequestException"));
        Assert.Equal(2, failed.Sum(p => p.Count));
        Assert.Empty(harness.Points("gen_ai.client.token.usage"));
    }

    [Fact]
    public async Task Cancellation_ends_the_call_as_cancelled_for_responses_and_streams()
    {
        using var harness = new TelemetryHarness();
        using var cancellation = new CancellationTokenSource();
        var waiting = new FakeChatClient { WaitForCancellation = true }.WithPerfOtelInstrumentation();
        var streaming = new FakeChatClient().WithPerfOtelInstrumentation();

        var pending = waiting.GetResponseAsync("hi", cancellationToken: cancellation.Token);
        var received = 0;
        var streamTask = Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in streaming.GetStreamingResponseAsync("hi", cancellationToken: cancellation.Token))
            {
                if (++received == 2)
                {
                    await cancellation.CancelAsync();
                }
            }
        });
        await streamTask;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);

        var spans = harness.FinishedSpans.Where(a => a.DisplayName == "chat gpt-4o").ToList();
        Assert.Equal(2, spans.Count);
        Assert.All(spans, s => Assert.EndsWith("CanceledException", (string)s.GetTagItem(GenAiAttributes.ErrorType)!, StringComparison.Ordinal));
        Assert.Equal(2, harness.Metric("gen_ai.client.operation.duration").Points.Sum(p => p.Count));
    }

    [Fact]
    public async Task A_consumer_that_stops_reading_early_still_ends_the_call()
    {
        using var harness = new TelemetryHarness();
        var client = new FakeChatClient().WithPerfOtelInstrumentation("azure.ai.openai");
        await foreach (var _ in client.GetStreamingResponseAsync("hi"))
        {
            break;
        }
        var span = harness.Span("chat gpt-4o");
        Assert.Equal("azure.ai.openai", span.GetTagItem(GenAiAttributes.ProviderName));
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
        Assert.Null(span.GetTagItem(GenAiAttributes.UsageInputTokens));
    }

    [Fact]
    public void The_wrapper_passes_metadata_and_services_through()
    {
        var inner = new FakeChatClient("mistral_ai", "mistral-large-latest");
        var client = inner.WithPerfOtelInstrumentation();
        var metadata = Assert.IsType<ChatClientMetadata>(client.GetService(typeof(ChatClientMetadata)));
        Assert.Equal("mistral_ai", metadata.ProviderName);
        Assert.Same(client, client.GetService(typeof(PerfOtelChatClient)));
    }
}

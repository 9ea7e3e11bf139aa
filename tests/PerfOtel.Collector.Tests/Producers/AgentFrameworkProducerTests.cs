using System.ClientModel;
using Microsoft.Agents.AI;
using Microsoft.Extensions.AI;
using OpenTelemetry.Exporter;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Tests.Cost;
using PerfOtel.Collector.Tests.EndToEnd;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Testing;
using static PerfOtel.Collector.Tests.Producers.ProducerPipeline;

namespace PerfOtel.Collector.Tests.Producers;

/// <summary>
/// Microsoft Agent Framework 1.28: a <c>ChatClientAgent</c> with <c>UseOpenTelemetry()</c> over the OpenAI SDK (its own
/// telemetry switched on too). Its <c>invoke_agent</c> span is of kind Client and repeats its calls' token totals; its
/// chat spans wrap the OpenAI SDK's. Every figure is checked against what the fake server returned.
/// </summary>
public sealed class AgentFrameworkProducerTests
{
    [Theory]
    [MemberData(nameof(Transports), MemberType = typeof(ProducerPipeline))]
    public async Task ToolCallRunAndFailingRun_AreStoredOnce_WithTheServersUsage(OtlpExportProtocol protocol)
    {
        await using var pipeline = new ProducerPipeline(new FakeChatReply(100, 20, CachedTokens: 30), "weather-agent", protocol);
        pipeline.Llm.Then(
            new FakeChatReply(50, 10, ToolCall: ("get_weather", """{"city":"Paris"}""")),
            new FakeChatReply(100, 20, CachedTokens: 30),
            new FakeChatReply(0, 0, FailWithStatus: 400));
        var weather = AIFunctionFactory.Create((string city) => "sunny in " + city, "get_weather", "The weather in a city.");
        AIAgent agent = new ChatClientAgent(pipeline.OpenAi().GetChatClient(Model).AsIChatClient(),
            instructions: "Answer briefly.", name: "triage", tools: [weather]);
        agent = agent.AsBuilder().UseOpenTelemetry().Build();

        var answer = await agent.RunAsync("What is the weather in Paris?");
        await Assert.ThrowsAsync<ClientResultException>(() => agent.RunAsync("This one fails."));
        pipeline.Flush();
        await pipeline.StoredAsync(records: 6);

        Assert.Equal("Paris", answer.Text);
        Assert.Equal(3, pipeline.Llm.Requests);

        var invocations = pipeline.Collector.Store.Invocations.OrderBy(i => i.StartTime).ToList();
        Assert.Equal(2, invocations.Count);
        Assert.All(invocations, i => Assert.Equal("triage", i.AgentName));
        Assert.Equal([Outcomes.Success, Outcomes.Failure], invocations.Select(i => i.Outcome));
        Assert.Equal(typeof(ClientResultException).FullName, invocations[1].ErrorType);

        // One provider call per request to the server, whatever number of layers reported it: Agent Framework's chat
        // span and the OpenAI SDK's under it are one call, with the cached tokens only Agent Framework's layer carried.
        var calls = pipeline.Collector.Store.ProviderCalls.OrderBy(c => c.StartTime).ToList();
        Assert.Equal(3, calls.Count);
        Assert.Equal([invocations[0].SpanId, invocations[0].SpanId, invocations[1].SpanId], calls.Select(c => c.InvocationSpanId));
        Assert.All(calls, c => Assert.Equal(("triage", "openai", Model), (c.AgentName, c.Provider, c.RequestModel)));
        Assert.Equal(new TokenCounts(50, 10, 0, 0, 0), calls[0].Tokens);
        Assert.Equal(new TokenCounts(100, 20, 30, 0, 0), calls[1].Tokens);
        Assert.Equal(default, calls[2].Tokens);
        Assert.NotNull(calls[2].ErrorType);
        Assert.Equal(CallCost(50, 10, 0), calls[0].CostUsd!.Value, 15);
        Assert.Equal(CallCost(100, 20, 30), calls[1].CostUsd!.Value, 15);

        var tool = Assert.Single(pipeline.Collector.Store.ToolCalls);
        Assert.Equal(("get_weather", "triage", invocations[0].SpanId), (tool.ToolName, tool.AgentName, tool.InvocationSpanId));

        // Derived: the invocation span's own totals (150 + 30) are not added to its calls'.
        var runCost = CallCost(50, 10, 0) + CallCost(100, 20, 30);
        var hour = await pipeline.HourWindowAsync("triage", invocations: 2);
        Assert.Equal(1, hour.GetProperty("successes").GetInt64());
        Assert.Equal(1, hour.GetProperty("failures").GetInt64());
        Assert.Equal(0.5, hour.GetProperty("errorRate").GetDouble());
        Assert.Equal(3, hour.GetProperty("providerCalls").GetInt64());
        Assert.Equal(180, hour.GetProperty("tokens").GetInt64());
        Assert.Equal(runCost, hour.GetProperty("costUsd").GetDouble(), 12);

        var labels = new[] { ("tenant", "default"), ("agent", "triage"), ("provider", "openai"), ("model", Model) };
        var metrics = await pipeline.MetricsWithCallsAsync(3, labels);
        Assert.Equal(3, Exposition.Sample(metrics, "perfotel_cost_calls_total", labels));
        Assert.Equal(runCost, Exposition.Sample(metrics, "perfotel_cost_usd_total", labels)!.Value, 12);
    }
}

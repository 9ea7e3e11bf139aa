using System.Diagnostics.Tracing;
using System.Text.Json;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Instrumentation.Pricing;

namespace PerfOtel.Instrumentation.Tests.Recording;

[Collection(GlobalInstrumentsCollection.Name)]
public class BadInputTests
{
    [Fact]
    public void Bad_values_are_clamped_or_dropped_reported_and_never_thrown()
    {
        using var diagnostics = new DiagnosticsListener();
        using var harness = new TelemetryHarness();
        using (var invocation = AgentTelemetry.StartInvocation("  ", new() { Tenant = "t-bad" }))
        {
            invocation.SetConfidence(double.NaN);
            invocation.SetConfidence(1.7);
            invocation.SetQuality(-0.2);
            invocation.RecordEvaluation("", 0.5);
            invocation.RecordEvaluation("judge", double.NaN);
            Assert.Null(invocation.RecordAccuracy(default, JsonDocument.Parse("1").RootElement));
            using (var call = invocation.StartProviderCall("", "gpt-4o"))
            {
                call.SetUsage(new TokenUsage(-5, 10, CacheReadInputTokens: -1)).SetCost(double.NaN).SetCost(-1).SetAttempt(0);
            }
            using (invocation.StartToolExecution(null!))
            {
            }
            invocation.Succeed();
        }

        var span = harness.Span("invoke_agent unknown");
        Assert.Equal(1.0, span.GetTagItem(PerfOtelAttributes.Confidence));
        Assert.Equal(0.0, span.GetTagItem(PerfOtelAttributes.Quality));
        var chat = harness.Span("chat gpt-4o");
        Assert.Equal("unknown", chat.GetTagItem(GenAiAttributes.ProviderName));
        Assert.Equal(0L, chat.GetTagItem(GenAiAttributes.UsageInputTokens));
        Assert.Null(chat.GetTagItem(GenAiAttributes.UsageCacheReadInputTokens));
        Assert.Equal(1, chat.GetTagItem(PerfOtelAttributes.RetryAttempt));
        harness.Span("execute_tool unknown");

        var confidence = harness.OnePoint("perfotel.agent.confidence");
        Assert.Equal(1, confidence.Count);
        Assert.Equal(1.0, confidence.Sum);
        var evaluations = harness.Metric("perfotel.evaluation.score").Points;
        var quality = Assert.Single(evaluations);
        Assert.Equal("quality", quality.Tags[GenAiAttributes.EvaluationName]);
        Assert.Equal(0.0, quality.Sum);
        Assert.Equal(0, harness.OnePoint("gen_ai.client.token.usage", (GenAiAttributes.TokenType, "input")).Sum);
        // An unknown provider does not stop gpt-4o from being priced: 10 output tokens at 10 USD per million.
        Assert.Equal(0.0001, harness.OnePoint("perfotel.agent.cost.usd").Value, 12);
        Assert.Equal("unknown", harness.OnePoint("perfotel.agent.invocations").Tags[GenAiAttributes.AgentName]);

        var ids = diagnostics.EventIds;
        Assert.Contains(1, ids); // dropped: NaN confidence, NaN score, NaN cost, empty evaluation name, undefined accuracy
        Assert.Contains(2, ids); // clamped: confidence 1.7, quality -0.2, negative tokens, attempt 0
        Assert.Contains(3, ids); // empty agent, provider and tool names
    }

    [Fact]
    public void Bad_after_the_fact_records_are_sanitised()
    {
        using var harness = new TelemetryHarness();
        var cost = AgentTelemetry.RecordProviderCall(new ProviderCallRecord("openai", "", double.NaN)
        {
            Usage = new TokenUsage(-1, -1),
            CostUsd = double.PositiveInfinity,
            Attempt = -3,
            Operation = null!,
        });
        Assert.Null(cost);
        var duration = harness.OnePoint("gen_ai.client.operation.duration");
        Assert.Equal(0, duration.Sum);
        Assert.Equal("unknown", duration.Tags[GenAiAttributes.RequestModel]);
        Assert.Equal("unknown", duration.Tags[GenAiAttributes.OperationName]);
        Assert.Empty(harness.Points("perfotel.provider.retries"));
    }

    private sealed class DiagnosticsListener : EventListener
    {
        private readonly List<int> ids = [];

        public IReadOnlyList<int> EventIds
        {
            get
            {
                lock (ids)
                {
                    return [.. ids];
                }
            }
        }

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "PerfOtel-Instrumentation")
            {
                EnableEvents(eventSource, EventLevel.Verbose);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            lock (ids)
            {
                ids.Add(eventData.EventId);
            }
        }
    }
}

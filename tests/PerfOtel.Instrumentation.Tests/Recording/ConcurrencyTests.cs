using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Instrumentation.Tests.Recording;

[Collection(GlobalInstrumentsCollection.Name)]
public class ConcurrencyTests
{
    private const int Workers = 8;
    private const int InvocationsPerWorker = 500;

    [Fact]
    public async Task Many_threads_and_async_flows_record_exact_totals()
    {
        using var harness = new TelemetryHarness();
        var start = new ManualResetEventSlim();
        var workers = Enumerable.Range(0, Workers).Select(worker => Task.Run(async () =>
        {
            start.Wait();
            for (var i = 0; i < InvocationsPerWorker; i++)
            {
                var agent = worker % 2 == 0 ? "even" : "odd";
                using var invocation = AgentTelemetry.StartInvocation(agent, new() { Tenant = "t-concurrent" });
                using (var call = AgentTelemetry.StartProviderCall("openai", "gpt-4o"))
                {
                    // Crossing an await may resume on another thread: the ambient invocation must follow.
                    await Task.Yield();
                    Assert.Same(invocation, AgentInvocation.Current);
                    Assert.Same(invocation, call.Invocation);
                    call.SetUsage(10, 3).SetCost(0.25);
                }
                invocation.SetConfidence(i % 10 / 10.0 + 0.05);
                invocation.Complete(i % 4 == 0 ? AgentOutcome.Failure : AgentOutcome.Success);
            }
        })).ToList();
        start.Set();
        await Task.WhenAll(workers);

        const int total = Workers * InvocationsPerWorker;
        const int perAgent = total / 2;
        foreach (var agent in new[] { "even", "odd" })
        {
            var agentTag = (GenAiAttributes.AgentName, (object?)agent);
            Assert.Equal(perAgent / 4, harness.OnePoint("perfotel.agent.invocations", agentTag, (PerfOtelAttributes.Outcome, "failure")).Value);
            Assert.Equal(perAgent * 3 / 4, harness.OnePoint("perfotel.agent.invocations", agentTag, (PerfOtelAttributes.Outcome, "success")).Value);
            Assert.Equal(perAgent * 10, harness.OnePoint("gen_ai.client.token.usage", agentTag, (GenAiAttributes.TokenType, "input")).Sum);
            Assert.Equal(perAgent * 3, harness.OnePoint("gen_ai.client.token.usage", agentTag, (GenAiAttributes.TokenType, "output")).Sum);
            Assert.Equal(perAgent * 0.25, harness.OnePoint("perfotel.agent.cost.usd", agentTag).Value);
            Assert.Equal(perAgent, harness.OnePoint("gen_ai.client.operation.duration", agentTag).Count);
            var confidence = harness.Points("perfotel.agent.confidence", agentTag);
            Assert.Equal(perAgent, confidence.Sum(p => p.Count));
            // Confidences 0.05, 0.15, ... 0.95 spread evenly: every tenth bucket gets the same share.
            var buckets = new long[11];
            foreach (var point in confidence)
            {
                for (var b = 0; b < 11; b++)
                {
                    buckets[b] += point.BucketCounts[b];
                }
            }
            Assert.All(buckets.Take(10), count => Assert.Equal(perAgent / 10, count));
        }
        Assert.Equal(total, harness.FinishedSpans.Count(a => a.DisplayName.StartsWith("invoke_agent", StringComparison.Ordinal)));
        Assert.Equal(total, harness.FinishedSpans.Count(a => a.DisplayName == "chat gpt-4o"));
    }

    [Fact]
    public async Task Nested_invocations_restore_the_outer_one_and_keep_their_own_costs()
    {
        using var harness = new TelemetryHarness();
        using (var outer = AgentTelemetry.StartInvocation("orchestrator", new() { Tenant = "t-nested" }))
        {
            await Task.WhenAll(Enumerable.Range(0, 3).Select(async i =>
            {
                await Task.Yield();
                using var inner = AgentTelemetry.StartInvocation("worker", new() { Tenant = "t-nested" });
                Assert.Same(inner, AgentInvocation.Current);
                using (var call = AgentTelemetry.StartProviderCall("openai", "gpt-4o-mini"))
                {
                    call.SetUsage(1_000_000, 0);
                }
                inner.Succeed();
            }));
            Assert.Same(outer, AgentInvocation.Current);
            using (var call = AgentTelemetry.StartProviderCall("openai", "gpt-4o-mini"))
            {
                call.SetUsage(0, 1_000_000);
            }
            outer.Succeed();
        }

        Assert.Equal(0.45, harness.OnePoint("perfotel.agent.cost.usd", (GenAiAttributes.AgentName, "worker")).Value, 12);
        Assert.Equal(0.6, harness.OnePoint("perfotel.agent.cost.usd", (GenAiAttributes.AgentName, "orchestrator")).Value, 12);
        var outerSpan = harness.Span("invoke_agent orchestrator");
        Assert.All(harness.FinishedSpans.Where(a => a.DisplayName == "invoke_agent worker"), a => Assert.Equal(outerSpan.SpanId, a.ParentSpanId));
    }
}

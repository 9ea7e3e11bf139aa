using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using AgentFleet.Feedback;
using AgentFleet.Fleet;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Testing;

namespace PerfOtel.Instrumentation.Tests.Fleet;

[Collection(GlobalInstrumentsCollection.Name)]
public class AgentFleetTests
{
    // 40 invocations with latencies shrunk 50 times: the run takes about two seconds.
    private static readonly FleetSettings ShortRun = new()
    {
        DurationSeconds = 2, InvocationsPerSecond = 20, Seed = 11, Tenant = "fleet-test", LatencyScale = 0.02,
    };

    [Fact]
    public async Task A_short_fleet_run_records_every_kind_of_signal_through_the_library()
    {
        using var harness = new TelemetryHarness();
        var summary = await new FleetRunner(ShortRun, feedback: null).RunAsync(CancellationToken.None);

        Assert.Equal(40, summary.Total);
        var invocations = harness.Metric("perfotel.agent.invocations").Points;
        Assert.Equal(40, invocations.Sum(p => p.Value));
        Assert.All(invocations, p => Assert.Equal("fleet-test", p.Tags[PerfOtelAttributes.Tenant]));
        foreach (var ((agent, outcome), count) in summary.Invocations)
        {
            var recorded = invocations.Where(p => Equals(p.Tags[GenAiAttributes.AgentName], agent)
                && Equals(p.Tags[PerfOtelAttributes.Outcome], AgentInvocation.OutcomeValue(outcome))).Sum(p => p.Value);
            Assert.Equal(count, recorded);
        }

        var agents = invocations.Select(p => (string)p.Tags[GenAiAttributes.AgentName]!).ToHashSet();
        Assert.Equal(FleetCatalog.Agents.Select(a => a.Name).ToHashSet(), agents);
        Assert.Contains(invocations, p => Equals(p.Tags[PerfOtelAttributes.Outcome], "failure"));

        // Priced providers cost money; the self-hosted model's tokens are counted as unpriced.
        Assert.True(harness.Metric("perfotel.agent.cost.usd").Points.Sum(p => p.Value) > 0);
        var unpriced = harness.Metric("perfotel.unpriced.tokens").Points;
        Assert.NotEmpty(unpriced);
        Assert.All(unpriced, p => Assert.Equal("llama-3.1-70b-instruct", p.Tags[GenAiAttributes.RequestModel]));
        Assert.Contains(harness.Metric("gen_ai.execute_tool.duration").Points, p => Equals(p.Tags[GenAiAttributes.ToolName], "web_search"));
        Assert.Contains(harness.Metric("perfotel.evaluation.score").Points, p => Equals(p.Tags[GenAiAttributes.EvaluationName], "accuracy"));
        Assert.NotEmpty(harness.Metric("perfotel.agent.confidence").Points);
        Assert.NotEmpty(harness.Metric("perfotel.provider.retries").Points);
        Assert.All(harness.FinishedSpans.Where(a => a.DisplayName.StartsWith("invoke_agent", StringComparison.Ordinal)),
            a => Assert.Equal("fleet-test", a.GetTagItem(PerfOtelAttributes.Tenant)));
    }

    [Fact]
    public void The_same_seed_plans_the_same_fleet_and_another_seed_does_not()
    {
        string Describe(int seed) => string.Join("\n", Enumerable.Range(0, 200).Select(i =>
        {
            var plan = new InvocationPlanner(seed, null, 0.5).Plan(i);
            return $"{plan.TaskId} {plan.Outcome} {plan.Confidence} {plan.Attempts.Count} {plan.Predicted.ToJsonString()} {plan.FeedbackDelaySeconds}";
        }));
        Assert.Equal(Describe(3), Describe(3));
        Assert.NotEqual(Describe(3), Describe(4));
    }

    [Fact]
    public void The_fleet_has_the_promised_behaviours()
    {
        var plans = Enumerable.Range(0, 4000).Select(i => new InvocationPlanner(5, null, 0).Plan(i)).ToList();
        double SuccessRate(string agent) => plans.Where(p => p.Agent.Name == agent).Average(p => p.Succeeded ? 1.0 : 0.0);
        double MeanConfidence(string agent) => plans.Where(p => p.Agent.Name == agent).Average(p => p.Confidence!.Value);

        // Overconfident: states about 0.92, is right about 60 % of the time (answered calls only fail on top).
        Assert.InRange(MeanConfidence("sales-forecaster") - SuccessRate("sales-forecaster"), 0.25, 0.45);
        // Calibrated: states what it achieves, within sampling noise and provider failures.
        Assert.InRange(Math.Abs(MeanConfidence("support-triage") - SuccessRate("support-triage")), 0, 0.05);
        Assert.Contains(plans, p => p.Attempts.Any(a => a.Attempt == 2));
        Assert.Contains(plans, p => p.Attempts.Any(a => a.FallbackFrom == "openai/gpt-4o"));
        Assert.Contains(plans, p => p.Outcome == AgentOutcome.Partial);

        var degraded = Enumerable.Range(0, 2000).Select(i => new InvocationPlanner(5, "travel-planner", 0).Plan(i))
            .Where(p => p.Agent.Name == "travel-planner").ToList();
        Assert.InRange(degraded.Average(p => p.Succeeded ? 0.0 : 1.0), 0.55, 0.7);
    }

    [Fact]
    public async Task Feedback_is_posted_by_task_id_or_span_ids_and_failures_are_counted()
    {
        using var harness = new TelemetryHarness();
        using var collector = new FeedbackCollector();
        using var poster = new FeedbackPoster(new HttpClient { Timeout = TimeSpan.FromSeconds(5) }, collector.BaseAddress, ShortRun.LatencyScale);
        var summary = await new FleetRunner(ShortRun with { FeedbackRatio = 0.5 }, poster).RunAsync(CancellationToken.None);

        var bodies = collector.Bodies;
        Assert.InRange(bodies.Count, 8, 32);
        Assert.Equal(bodies.Count, summary.FeedbackPosted + summary.FeedbackFailed);
        Assert.Equal(collector.Rejected, summary.FeedbackFailed);
        Assert.Contains(bodies, b => b.ContainsKey("taskId"));
        Assert.Contains(bodies, b => b.ContainsKey("traceId") && b["spanId"]!.GetValue<string>().Length == 16);
        var spanIds = harness.FinishedSpans.Select(a => a.SpanId.ToHexString()).ToHashSet();
        Assert.All(bodies.Where(b => b.ContainsKey("spanId")), b => Assert.Contains(b["spanId"]!.GetValue<string>(), spanIds));
        Assert.All(bodies, b =>
        {
            Assert.NotNull(b["predicted"]);
            Assert.NotNull(b["actual"]);
            Assert.InRange(b["score"]!.GetValue<double>(), 0, 1);
        });
    }

    /// <summary>Receives feedback on 127.0.0.1 and rejects every fifth post, as an overloaded collector would.</summary>
    private sealed class FeedbackCollector : IDisposable
    {
        private readonly HttpListener listener = new();
        private readonly List<JsonObject> bodies = [];
        private readonly Task serving;
        private int rejected;

        public FeedbackCollector()
        {
            var port = TestPorts.GetFree();
            BaseAddress = new Uri($"http://127.0.0.1:{port}/");
            listener.Prefixes.Add(BaseAddress.ToString());
            listener.Start();
            serving = Task.Run(ServeAsync);
        }

        public Uri BaseAddress { get; }

        public int Rejected => Volatile.Read(ref rejected);

        public IReadOnlyList<JsonObject> Bodies
        {
            get
            {
                lock (bodies)
                {
                    return [.. bodies];
                }
            }
        }

        public void Dispose()
        {
            listener.Stop();
            listener.Close();
            try
            {
                serving.Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException)
            {
            }
        }

        private async Task ServeAsync()
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
                var ok = context.Request.Url!.AbsolutePath == "/api/v1/feedback" && context.Request.HttpMethod == "POST";
                var body = (await JsonNode.ParseAsync(context.Request.InputStream))!.AsObject();
                int count;
                lock (bodies)
                {
                    bodies.Add(body);
                    count = bodies.Count;
                }
                if (!ok || count % 5 == 0)
                {
                    Interlocked.Increment(ref rejected);
                    context.Response.StatusCode = 503;
                }
                else
                {
                    context.Response.StatusCode = 202;
                }
                context.Response.Close();
            }
        }
    }
}

using System.Diagnostics;
using System.Text.Json;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Instrumentation.Tests.Recording;

[Collection(GlobalInstrumentsCollection.Name)]
public class InvocationRecordingTests
{
    private const string Invocations = "perfotel.agent.invocations";

    [Fact]
    public void A_successful_invocation_records_its_span_counter_and_duration()
    {
        using var harness = new TelemetryHarness();
        using (var invocation = AgentTelemetry.StartInvocation("planner", new()
        {
            Tenant = "acme", AgentType = "planning", AgentId = "agent-7", TaskId = "task-1", TaskType = "itinerary",
            JobId = "job-9", ConversationId = "conv-3", Experiment = "exp-a", Variant = "b",
        }))
        {
            Assert.Same(invocation, AgentInvocation.Current);
            invocation.Succeed();
        }
        Assert.Null(AgentInvocation.Current);

        var span = harness.Span("invoke_agent planner");
        Assert.Equal(ActivityKind.Internal, span.Kind);
        Assert.Equal(AgentTelemetry.SourceName, span.Source.Name);
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
        var tags = span.TagObjects.ToDictionary(t => t.Key, t => t.Value);
        Assert.Equal(new Dictionary<string, object?>
        {
            [GenAiAttributes.OperationName] = "invoke_agent",
            [GenAiAttributes.AgentName] = "planner",
            [GenAiAttributes.AgentId] = "agent-7",
            [GenAiAttributes.ConversationId] = "conv-3",
            [PerfOtelAttributes.Tenant] = "acme",
            [PerfOtelAttributes.AgentType] = "planning",
            [PerfOtelAttributes.TaskId] = "task-1",
            [PerfOtelAttributes.TaskType] = "itinerary",
            [PerfOtelAttributes.JobId] = "job-9",
            [PerfOtelAttributes.Experiment] = "exp-a",
            [PerfOtelAttributes.Variant] = "b",
            [PerfOtelAttributes.Outcome] = "success",
        }, tags);

        var counter = harness.OnePoint(Invocations);
        Assert.Equal(1, counter.Value);
        Assert.Equal(new Dictionary<string, object?>
        {
            [PerfOtelAttributes.Tenant] = "acme",
            [GenAiAttributes.AgentName] = "planner",
            [PerfOtelAttributes.AgentType] = "planning",
            [PerfOtelAttributes.Outcome] = "success",
        }, counter.Tags);

        var duration = harness.OnePoint("gen_ai.invoke_agent.duration");
        Assert.Equal(1, duration.Count);
        Assert.Equal("invoke_agent", duration.Tags[GenAiAttributes.OperationName]);
        Assert.Equal("success", duration.Tags[PerfOtelAttributes.Outcome]);
        Assert.False(duration.Tags.ContainsKey(GenAiAttributes.ErrorType));
    }

    [Fact]
    public void An_invocation_disposed_without_outcome_is_a_failure_with_error_status()
    {
        using var harness = new TelemetryHarness();
        try
        {
            using var invocation = AgentTelemetry.StartInvocation("crasher", new() { Tenant = "t-crash" });
            throw new InvalidOperationException("boom");
        }
        catch (InvalidOperationException)
        {
        }

        var span = harness.Span("invoke_agent crasher");
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Equal("failure", span.GetTagItem(PerfOtelAttributes.Outcome));
        Assert.Equal("_OTHER", span.GetTagItem(GenAiAttributes.ErrorType));
        var point = harness.OnePoint(Invocations, (PerfOtelAttributes.Outcome, "failure"));
        Assert.Equal("_OTHER", point.Tags[GenAiAttributes.ErrorType]);
    }

    [Fact]
    public async Task InvokeAsync_ends_in_success_or_in_failure_with_the_exception_type()
    {
        using var harness = new TelemetryHarness();
        var answer = await AgentTelemetry.InvokeAsync("runner", async invocation =>
        {
            await Task.Yield();
            Assert.Same(invocation, AgentInvocation.Current);
            return 42;
        }, new() { Tenant = "t-run" });
        Assert.Equal(42, answer);
        await Assert.ThrowsAsync<TimeoutException>(() => AgentTelemetry.InvokeAsync<int>("runner", async _ =>
        {
            await Task.Yield();
            throw new TimeoutException();
        }, new() { Tenant = "t-run" }));

        Assert.Equal(1, harness.OnePoint(Invocations, (PerfOtelAttributes.Outcome, "success")).Value);
        var failure = harness.OnePoint(Invocations, (PerfOtelAttributes.Outcome, "failure"));
        Assert.Equal("System.TimeoutException", failure.Tags[GenAiAttributes.ErrorType]);
    }

    [Fact]
    public void Partial_outcome_is_recorded_and_only_the_first_outcome_counts()
    {
        using var harness = new TelemetryHarness();
        using (var invocation = AgentTelemetry.StartInvocation("halfway"))
        {
            invocation.Complete(AgentOutcome.Partial);
            invocation.Succeed();
            invocation.Fail("late");
        }
        var point = harness.OnePoint(Invocations);
        Assert.Equal("partial", point.Tags[PerfOtelAttributes.Outcome]);
        Assert.Equal("default", point.Tags[PerfOtelAttributes.Tenant]);
        Assert.Equal(1, point.Value);
        Assert.Equal(ActivityStatusCode.Unset, harness.Span("invoke_agent halfway").Status);
    }

    [Fact]
    public void Confidence_lands_in_its_tenth_by_outcome()
    {
        using var harness = new TelemetryHarness();
        // 0.05 -> (0, 0.1]; 0.3 -> (0.2, 0.3] (bounds are inclusive); 0.95 and 1.0 -> (0.9, 1.0].
        foreach (var (confidence, success) in new[] { (0.05, false), (0.3, true), (0.95, true), (1.0, true) })
        {
            using var invocation = AgentTelemetry.StartInvocation("calibrated", new() { Tenant = "t-conf" });
            invocation.SetConfidence(confidence);
            invocation.Complete(success ? AgentOutcome.Success : AgentOutcome.Failure);
        }

        var successes = harness.OnePoint("perfotel.agent.confidence", (PerfOtelAttributes.Outcome, "success"));
        Assert.Equal(3, successes.Count);
        Assert.Equal(2.25, successes.Sum, 12);
        Assert.Equal([0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0], successes.BucketCounts);
        var failures = harness.OnePoint("perfotel.agent.confidence", (PerfOtelAttributes.Outcome, "failure"));
        Assert.Equal([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], failures.BucketCounts);
        Assert.False(failures.Tags.ContainsKey(GenAiAttributes.ErrorType));
        Assert.Equal(0.95, harness.FinishedSpans[2].GetTagItem(PerfOtelAttributes.Confidence));
    }

    [Fact]
    public void Evaluations_become_span_events_and_histogram_points_by_name()
    {
        using var harness = new TelemetryHarness();
        using (var invocation = AgentTelemetry.StartInvocation("judged", new() { Tenant = "t-eval" }))
        {
            using var predicted = JsonDocument.Parse("""{"city": "Paris", "nights": 3}""");
            using var actual = JsonDocument.Parse("""{"city": "Paris", "nights": 4}""");
            // Keys 2/2; values: city 1, nights 1 - 1/4 = 0.75 -> mean 0.875; score (1 + 0.875) / 2 = 0.9375.
            Assert.Equal(0.9375, invocation.RecordAccuracy(predicted.RootElement, actual.RootElement));
            invocation.SetQuality(0.8);
            invocation.RecordEvaluation("helpfulness", 0.6, label: "good", explanation: "answers the question");
            invocation.Succeed();
        }

        var span = harness.Span("invoke_agent judged");
        Assert.Equal(0.8, span.GetTagItem(PerfOtelAttributes.Quality));
        var events = span.Events.Where(e => e.Name == GenAiEvents.EvaluationResult)
            .Select(e => e.Tags.ToDictionary(t => t.Key, t => t.Value)).ToList();
        Assert.Equal(3, events.Count);
        Assert.Equal("accuracy", events[0][GenAiAttributes.EvaluationName]);
        Assert.Equal(0.9375, events[0][GenAiAttributes.EvaluationScoreValue]);
        Assert.Equal("quality", events[1][GenAiAttributes.EvaluationName]);
        Assert.Equal("good", events[2][GenAiAttributes.EvaluationScoreLabel]);
        Assert.Equal("answers the question", events[2][GenAiAttributes.EvaluationExplanation]);

        var accuracy = harness.OnePoint("perfotel.evaluation.score", (GenAiAttributes.EvaluationName, "accuracy"));
        Assert.Equal(0.9375, accuracy.Sum);
        Assert.Equal(1, accuracy.BucketCounts[9]);
        Assert.Equal(0.8, harness.OnePoint("perfotel.evaluation.score", (GenAiAttributes.EvaluationName, "quality")).Sum, 12);
        Assert.Equal(0.6, harness.OnePoint("perfotel.evaluation.score", (GenAiAttributes.EvaluationName, "helpfulness")).Sum, 12);
    }

    [Fact]
    public void Evaluation_names_past_the_limit_are_recorded_as_other_on_metrics_only()
    {
        using var harness = new TelemetryHarness(o => o.MaxEvaluationNames = 2);
        using (var invocation = AgentTelemetry.StartInvocation("many-judges", new() { Tenant = "t-judges" }))
        {
            invocation.RecordEvaluation("judge-a", 0.1);
            invocation.RecordEvaluation("judge-b", 0.2);
            invocation.RecordEvaluation("judge-c", 0.3);
            invocation.RecordEvaluation("judge-d", 0.4);
            invocation.Succeed();
        }
        var names = harness.Metric("perfotel.evaluation.score").Points.Select(p => (string)p.Tags[GenAiAttributes.EvaluationName]!).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["_OTHER", "judge-a", "judge-b"], names);
        Assert.Equal(2, harness.OnePoint("perfotel.evaluation.score", (GenAiAttributes.EvaluationName, "_OTHER")).Count);
        var spanNames = harness.Span("invoke_agent many-judges").Events.Select(e => e.Tags.First(t => t.Key == GenAiAttributes.EvaluationName).Value);
        Assert.Equal(["judge-a", "judge-b", "judge-c", "judge-d"], spanNames);
    }

    [Fact]
    public void Tool_executions_have_their_span_and_duration()
    {
        using var harness = new TelemetryHarness();
        using (var invocation = AgentTelemetry.StartInvocation("tooler", new() { Tenant = "t-tool" }))
        {
            using (invocation.StartToolExecution("web_search", toolCallId: "call-1", toolType: "function"))
            {
            }
            // The ambient invocation is found without passing it.
            using (var failing = AgentTelemetry.StartToolExecution("calculator"))
            {
                failing.Fail(new DivideByZeroException());
            }
            invocation.Succeed();
        }

        var span = harness.Span("execute_tool web_search");
        Assert.Equal(ActivityKind.Internal, span.Kind);
        Assert.Equal(harness.Span("invoke_agent tooler").SpanId, span.ParentSpanId);
        Assert.Equal("execute_tool", span.GetTagItem(GenAiAttributes.OperationName));
        Assert.Equal("call-1", span.GetTagItem(GenAiAttributes.ToolCallId));
        Assert.Equal("function", span.GetTagItem(GenAiAttributes.ToolType));
        Assert.Equal(ActivityStatusCode.Error, harness.Span("execute_tool calculator").Status);
        Assert.Equal("tooler", harness.Span("execute_tool calculator").GetTagItem(GenAiAttributes.AgentName));

        var ok = harness.OnePoint("gen_ai.execute_tool.duration", (GenAiAttributes.ToolName, "web_search"));
        Assert.Equal(new Dictionary<string, object?>
        {
            [GenAiAttributes.OperationName] = "execute_tool",
            [GenAiAttributes.ToolName] = "web_search",
            [PerfOtelAttributes.Tenant] = "t-tool",
            [GenAiAttributes.AgentName] = "tooler",
        }, ok.Tags);
        Assert.Equal("System.DivideByZeroException",
            harness.OnePoint("gen_ai.execute_tool.duration", (GenAiAttributes.ToolName, "calculator")).Tags[GenAiAttributes.ErrorType]);
    }

    [Fact]
    public void Nothing_is_recorded_and_no_scope_is_ambient_when_nothing_listens()
    {
        using (var invocation = AgentTelemetry.StartInvocation("unobserved"))
        {
            Assert.Null(invocation.Activity);
            Assert.Null(AgentInvocation.Current);
            using var call = invocation.StartProviderCall("openai", "gpt-4o");
            call.SetUsage(10, 10);
            invocation.Succeed();
        }

        // A provider attached afterwards sees none of it.
        using var harness = new TelemetryHarness();
        Assert.Empty(harness.Metrics.Collect().SelectMany(m => m.Points));
    }
}

using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Records;
using PerfOtel.Collector.Tests.Cost;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Tests.DerivedKernel;

/// <summary>
/// The shares counted for an invocation hold no copy of its span's fields (#21, shares): a share moves from exactly what
/// it counted when the span is committed again with other values, whichever share is re-decided first and however many
/// commits come between, and what was kept aside for that goes with the re-decision or with the invocation's eviction.
/// </summary>
public class CountedSharesTests
{
    private static readonly DateTimeOffset Noon = new(2026, 12, 3, 12, 0, 0, TimeSpan.FromHours(2));
    private const string TraceId = "0af7651916cd43dd8448eb211c80319c";
    private const string SpanId = "00000000000000a1";

    private static AgentInvocation Span(DateTimeOffset start, string agent, string variant, string taskType, double weight,
        string outcome) =>
        CostRecords.Invocation(start, outcome, agent: agent, traceId: TraceId, spanId: SpanId, experiment: "exp",
            variant: variant) with { TaskType = taskType, SampleWeight = weight };

    private static void Unchanged<T>((T? Counted, T? Now) reshare)
        where T : class
    {
        Assert.Null(reshare.Counted);
        Assert.Null(reshare.Now);
    }

    [Fact]
    public void A_span_committed_again_with_other_values_moves_each_share_from_what_it_counted()
    {
        var attribution = new InvocationAttribution(100);
        attribution.RecordCall(CostRecords.Call(Noon, 0.01, traceId: TraceId, invocationSpanId: SpanId));
        var first = Span(Noon, "planner", "a", "triage", 1, Outcomes.Success);
        attribution.RecordInvocation(first);
        var (_, model1) = attribution.ReshareModel("default", TraceId, SpanId);
        var (_, experiment1) = attribution.ReshareExperiment("default", TraceId, SpanId);
        Assert.Equal(new ModelShare("openai", "gpt-4o", Noon, true, 0.01, 0, 0, 1, "planner", "triage"), model1);
        Assert.Equal(new ExperimentShare("exp", "a", Noon, 0.01, "openai", "gpt-4o"), experiment1);

        // Committed again with every field of the span changed (the offset too): the model comparison re-decides first.
        var second = Span(Noon.AddSeconds(5).ToOffset(TimeSpan.FromHours(-5)), "coder", "b", "review", 3, Outcomes.Failure);
        attribution.RecordInvocation(second);
        Assert.Equal(2, attribution.CountedAsideCount);
        var (counted, model2) = attribution.ReshareModel("default", TraceId, SpanId);
        Assert.Equal(model1, counted);
        Assert.Equal(Noon.Offset, counted!.InvocationStart.Offset);
        Assert.Equal(new ModelShare("openai", "gpt-4o", second.StartTime, false, 0.01, 0, 0, 3, "coder", "review"), model2);
        Assert.Equal(second.StartTime.Offset, model2!.InvocationStart.Offset);
        Assert.Equal(1, attribution.CountedAsideCount);

        // A third commit before the experiments re-decide: theirs still moves from the first, the model's from the second.
        var third = Span(Noon.AddSeconds(9), "critic", "c", "triage", 2, Outcomes.Success);
        attribution.RecordInvocation(third);
        var (experimentCounted, experiment3) = attribution.ReshareExperiment("default", TraceId, SpanId);
        Assert.Equal(experiment1, experimentCounted);
        Assert.Equal(Noon.Offset, experimentCounted!.InvocationStart.Offset);
        Assert.Equal(new ExperimentShare("exp", "c", third.StartTime, 0.01, "openai", "gpt-4o"), experiment3);
        var (modelCounted, model3) = attribution.ReshareModel("default", TraceId, SpanId);
        Assert.Equal(model2, modelCounted);
        Assert.Equal(second.StartTime.Offset, modelCounted!.InvocationStart.Offset);
        Assert.Equal(new ModelShare("openai", "gpt-4o", third.StartTime, true, 0.01, 0, 0, 2, "critic", "triage"), model3);
        Assert.Equal(0, attribution.CountedAsideCount);

        // The same values again change nothing and keep nothing aside.
        attribution.RecordInvocation(third with { });
        Unchanged(attribution.ReshareModel("default", TraceId, SpanId));
        Unchanged(attribution.ReshareExperiment("default", TraceId, SpanId));
        Assert.Equal(0, attribution.CountedAsideCount);
    }

    [Fact]
    public void A_share_keeps_its_own_start_offset_until_something_it_counts_changes()
    {
        var attribution = new InvocationAttribution(100);
        attribution.RecordCall(CostRecords.Call(Noon, 0.01, traceId: TraceId, invocationSpanId: SpanId));
        attribution.RecordInvocation(Span(Noon, "planner", "a", "triage", 1, Outcomes.Success));
        var (_, counted) = attribution.ReshareModel("default", TraceId, SpanId);

        // The same instant at another offset: equal as the records compare, so nothing moves.
        attribution.RecordInvocation(Span(Noon.ToUniversalTime(), "planner", "a", "triage", 1, Outcomes.Success));
        Unchanged(attribution.ReshareModel("default", TraceId, SpanId));

        // A later call changes the cost: the share moves from the one counted, at its own offset.
        attribution.RecordCall(CostRecords.Call(Noon.AddSeconds(1), 0.02, traceId: TraceId, invocationSpanId: SpanId));
        var (moved, now) = attribution.ReshareModel("default", TraceId, SpanId);
        Assert.Equal(counted, moved);
        Assert.Equal(Noon.Offset, moved!.InvocationStart.Offset);
        Assert.Equal(TimeSpan.Zero, now!.InvocationStart.Offset);
        Assert.Equal(0.03, now.KnownCostUsd!.Value, 12);
    }

    [Fact]
    public void What_was_kept_aside_goes_with_the_evicted_invocation()
    {
        var attribution = new InvocationAttribution(2);
        attribution.RecordCall(CostRecords.Call(Noon, 0.01, traceId: TraceId, invocationSpanId: SpanId));
        attribution.RecordInvocation(Span(Noon, "planner", "a", "triage", 1, Outcomes.Success));
        attribution.ReshareModel("default", TraceId, SpanId);
        attribution.ReshareExperiment("default", TraceId, SpanId);
        attribution.RecordInvocation(Span(Noon.AddSeconds(1), "planner", "b", "triage", 1, Outcomes.Success));
        Assert.Equal(2, attribution.CountedAsideCount);

        attribution.RecordCall(CostRecords.Call(Noon, 0.01, traceId: TraceId, invocationSpanId: "00000000000000b2"));
        Assert.Equal(2, attribution.CountedAsideCount);
        attribution.RecordCall(CostRecords.Call(Noon, 0.01, traceId: TraceId, invocationSpanId: "00000000000000b3"));

        Assert.Null(attribution.Find("default", TraceId, SpanId));
        Assert.Equal(0, attribution.CountedAsideCount);
        Unchanged(attribution.ReshareModel("default", TraceId, SpanId));
    }
}

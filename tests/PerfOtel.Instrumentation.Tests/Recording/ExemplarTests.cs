using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Testing;

namespace PerfOtel.Instrumentation.Tests.Recording;

/// <summary>
/// The duration histograms carry an exemplar with the trace and span id of the span they measure (with the SDK's
/// exemplar filter TraceBased), even when the span ends after the ambient span moved on.
/// </summary>
[Collection(GlobalInstrumentsCollection.Name)]
public sealed class ExemplarTests
{
    [Fact]
    public void DurationHistograms_CarryTheMeasuredSpansTraceAndSpanId()
    {
        var metrics = new InMemoryMetrics();
        var spans = new List<Activity>();
        using var meterProvider = metrics.Build(Sdk.CreateMeterProviderBuilder().AddPerfOtelInstrumentation()
            .SetExemplarFilter(ExemplarFilterType.TraceBased));
        using var tracerProvider = Sdk.CreateTracerProviderBuilder().AddPerfOtelInstrumentation().AddInMemoryExporter(spans).Build();

        var invocation = AgentTelemetry.StartInvocation("exemplary", new() { Tenant = "t-exemplar" });
        var call = invocation.StartProviderCall("openai", "gpt-4o");
        var tool = invocation.StartToolExecution("search");
        var invocationSpan = invocation.Activity!;
        var callSpan = call.Activity!;
        var toolSpan = tool.Activity!;
        // Ended from elsewhere: the ambient span is none of theirs (another request's flow, a callback).
        Activity.Current = null;
        tool.Dispose();
        call.Dispose();
        invocation.Succeed();
        invocation.Dispose();

        var collected = metrics.Collect();
        AssertExemplar(collected, "gen_ai.invoke_agent.duration", invocationSpan);
        AssertExemplar(collected, "gen_ai.client.operation.duration", callSpan);
        AssertExemplar(collected, "gen_ai.execute_tool.duration", toolSpan);
        Assert.Null(Activity.Current);
    }

    private static void AssertExemplar(IReadOnlyList<ExportedMetric> collected, string metric, Activity span)
    {
        var point = Assert.Single(collected.Single(m => m.Name == metric).Points,
            p => Equals(p.Tags.GetValueOrDefault(PerfOtelAttributes.Tenant), "t-exemplar"));
        var exemplar = Assert.Single(point.Exemplars!);
        Assert.Equal((span.TraceId.ToHexString(), span.SpanId.ToHexString()), exemplar);
    }
}

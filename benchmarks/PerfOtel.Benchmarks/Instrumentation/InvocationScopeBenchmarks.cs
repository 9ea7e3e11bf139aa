using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using PerfOtel.Instrumentation;

namespace PerfOtel.Benchmarks.Instrumentation;

/// <summary>
/// An agent invocation scope when nothing listens (no MeterProvider or TracerProvider with PerfOtel), against the raw
/// OpenTelemetry call it stands for: an ActivitySource.StartActivity that no one samples.
/// </summary>
[Config(typeof(InProcessShortRunConfig))]
[MemoryDiagnoser]
public class InvocationScopeBenchmarks
{
    private static readonly ActivitySource RawSource = new("PerfOtel.Benchmarks.Raw");

    [Benchmark(Baseline = true, Description = "ActivitySource.StartActivity, no listener")]
    public void RawActivity()
    {
        using var activity = RawSource.StartActivity("invoke_agent planner");
        activity?.SetTag("gen_ai.agent.name", "planner");
    }

    [Benchmark(Description = "AgentTelemetry.StartInvocation + Succeed + Dispose, no listener")]
    public void InvocationScope()
    {
        using var invocation = AgentTelemetry.StartInvocation("planner");
        invocation.SetConfidence(0.8);
        invocation.Succeed();
    }
}

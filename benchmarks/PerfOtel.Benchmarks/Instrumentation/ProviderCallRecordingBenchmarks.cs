using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using PerfOtel.Instrumentation;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Instrumentation.Implementation;
using PerfOtel.Instrumentation.Pricing;

namespace PerfOtel.Benchmarks.Instrumentation;

/// <summary>
/// One complete provider call (duration, input and output token histograms, cost) recorded through PerfOtel's API,
/// against the same instruments called directly with the same tags, under the same MeterProvider.
/// </summary>
[Config(typeof(InProcessShortRunConfig))]
[MemoryDiagnoser]
public class ProviderCallRecordingBenchmarks
{
    private static readonly TokenUsage Usage = new(1_200, 300);
    private MeterProvider? meterProvider;
    private AgentInvocation invocation = null!;
    private ProviderCallRecord record;
    private double cost;

    [GlobalSetup]
    public void Setup()
    {
        meterProvider = Sdk.CreateMeterProviderBuilder()
            .AddPerfOtelInstrumentation(o => o.AttributeGenAiClientSpans = false)
            .AddReader(new BaseExportingMetricReader(new DiscardingExporter()))
            .Build();
        invocation = AgentTelemetry.StartInvocation("planner", new AgentInvocationDetails { Tenant = "acme", AgentType = "planning" });
        record = new ProviderCallRecord("openai", "gpt-4o", 0.42) { ResponseModel = "gpt-4o-2024-08-06", Usage = Usage };
        PricingCatalog.Default.TryComputeCost("openai", "gpt-4o-2024-08-06", Usage, out cost);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        invocation.Dispose();
        meterProvider?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "direct System.Diagnostics.Metrics calls")]
    public void Direct()
    {
        var tags = new TagList
        {
            { GenAiAttributes.OperationName, GenAiOperations.Chat },
            { GenAiAttributes.ProviderName, "openai" },
            { GenAiAttributes.RequestModel, "gpt-4o" },
            { PerfOtelAttributes.Tenant, "acme" },
            { GenAiAttributes.ResponseModel, "gpt-4o-2024-08-06" },
            { GenAiAttributes.AgentName, "planner" },
        };
        AgentInstruments.OperationDuration.Record(0.42, tags);
        var input = tags;
        input.Add(GenAiAttributes.TokenType, "input");
        AgentInstruments.TokenUsage.Record(Usage.InputTokens, input);
        var output = tags;
        output.Add(GenAiAttributes.TokenType, "output");
        AgentInstruments.TokenUsage.Record(Usage.OutputTokens, output);
        AgentInstruments.AgentCost.Add(cost, new TagList
        {
            { PerfOtelAttributes.Tenant, "acme" },
            { GenAiAttributes.AgentName, "planner" },
            { PerfOtelAttributes.AgentType, "planning" },
            { GenAiAttributes.ProviderName, "openai" },
            { GenAiAttributes.RequestModel, "gpt-4o" },
        });
    }

    [Benchmark(Description = "AgentTelemetry.RecordProviderCall (prices the call too)")]
    public double? ThroughApi() => AgentTelemetry.RecordProviderCall(record, invocation);

    [Benchmark(Description = "ProviderCall scope (no tracer)")]
    public void ThroughScope()
    {
        using var call = invocation.StartProviderCall("openai", "gpt-4o");
        call.SetResponseModel("gpt-4o-2024-08-06").SetUsage(Usage);
    }

    private sealed class DiscardingExporter : BaseExporter<Metric>
    {
        public override ExportResult Export(in Batch<Metric> batch) => ExportResult.Success;
    }
}

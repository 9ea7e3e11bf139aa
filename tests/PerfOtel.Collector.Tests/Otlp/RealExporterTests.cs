using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Tests.Otlp;

/// <summary>The real OpenTelemetry .NET OTLP exporter (HttpProtobuf) against the collector, in-process and over loopback.</summary>
public sealed class RealExporterTests
{
    [Fact]
    public async Task InProcess_GenAiSpansFromTheRealExporter_AreMappedAndStored()
    {
        await using var collector = new CollectorFactory();
        using var client = collector.CreateDefaultClient(new SynchronousSendHandler());
        var traceId = EmitAgentRun(new Uri(client.BaseAddress!, "v1/traces"), () => client);

        AssertAgentRunStored(collector, traceId);
    }

    [Fact]
    public async Task Loopback_GenAiSpansFromTheRealExporter_AreMappedAndStored()
    {
        await using var collector = new CollectorFactory(kestrel: true);
        var endpoint = new Uri(collector.ListenAddress, "v1/traces");
        Assert.Equal("127.0.0.1", endpoint.Host);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var traceId = EmitAgentRun(endpoint, () => http);

        AssertAgentRunStored(collector, traceId);
    }

    [Fact]
    public async Task Loopback_MetricsFromTheRealExporter_AreAcceptedAndCounted()
    {
        await using var collector = new CollectorFactory(kestrel: true);
        var endpoint = new Uri(collector.ListenAddress, "v1/metrics");
        using var meter = new Meter("PerfOtel.Tests.Agent." + Guid.NewGuid());
        var tokens = meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}");
        var operations = meter.CreateCounter<long>("agent.operations");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var provider = Sdk.CreateMeterProviderBuilder()
            .AddMeter(meter.Name)
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                exporter.Endpoint = endpoint;
                exporter.HttpClientFactory = () => http;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 3_600_000;
            })
            .Build();
        tokens.Record(120, new KeyValuePair<string, object?>(GenAiAttributes.TokenType, "input"));
        tokens.Record(30, new KeyValuePair<string, object?>(GenAiAttributes.TokenType, "output"));
        operations.Add(1);

        Assert.True(provider.ForceFlush(30_000), "the exporter reported a failed export to the collector");
    }

    private static string EmitAgentRun(Uri endpoint, Func<HttpClient> httpClientFactory)
    {
        var sourceName = "PerfOtel.Tests.Agent." + Guid.NewGuid();
        using var source = new ActivitySource(sourceName);
        using var provider = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty()
                .AddService("support-bot")
                .AddAttributes([new(PerfOtelAttributes.Tenant, "acme")]))
            .AddSource(sourceName)
            .SetSampler(new AlwaysOnSampler())
            .AddOtlpExporter(exporter =>
            {
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                exporter.Endpoint = endpoint;
                exporter.HttpClientFactory = httpClientFactory;
                exporter.ExportProcessorType = ExportProcessorType.Batch;
            })
            .Build();

        string traceId;
        using (var agent = source.StartActivity("invoke_agent triage", ActivityKind.Internal)!)
        {
            traceId = agent.TraceId.ToHexString();
            agent.SetTag(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent);
            agent.SetTag(GenAiAttributes.AgentName, "triage");
            agent.SetTag(PerfOtelAttributes.TaskId, "task-42");
            agent.SetTag(PerfOtelAttributes.Outcome, Outcomes.Partial);
            agent.SetTag(PerfOtelAttributes.Confidence, 0.75);
            using (var chat = source.StartActivity("chat gpt-4o-mini", ActivityKind.Client)!)
            {
                chat.SetTag(GenAiAttributes.OperationName, GenAiOperations.Chat);
                chat.SetTag(GenAiAttributes.ProviderName, "openai");
                chat.SetTag(GenAiAttributes.RequestModel, "gpt-4o-mini");
                chat.SetTag(GenAiAttributes.UsageInputTokens, 1200L);
                chat.SetTag(GenAiAttributes.UsageOutputTokens, 300L);
                chat.SetTag(PerfOtelAttributes.CostUsd, 0.00036);
            }

            using (var tool = source.StartActivity("execute_tool lookup_order", ActivityKind.Internal)!)
            {
                tool.SetTag(GenAiAttributes.OperationName, GenAiOperations.ExecuteTool);
                tool.SetTag(GenAiAttributes.ToolName, "lookup_order");
                tool.SetStatus(ActivityStatusCode.Error, "timeout");
                tool.SetTag(GenAiAttributes.ErrorType, "TimeoutException");
            }

            agent.AddEvent(new ActivityEvent(GenAiEvents.EvaluationResult, tags: new ActivityTagsCollection
            {
                [GenAiAttributes.EvaluationName] = "relevance",
                [GenAiAttributes.EvaluationScoreValue] = 0.9,
            }));
        }

        Assert.True(provider.ForceFlush(30_000), "the exporter could not flush");
        return traceId;
    }

    private static void AssertAgentRunStored(CollectorFactory collector, string traceId)
    {
        var invocation = Assert.Single(collector.Store.Invocations);
        Assert.Equal(traceId, invocation.TraceId);
        Assert.Equal("acme", invocation.Tenant);
        Assert.Equal("triage", invocation.AgentName);
        Assert.Equal("support-bot", invocation.ServiceName);
        Assert.Equal("task-42", invocation.TaskId);
        Assert.Equal(Outcomes.Partial, invocation.Outcome);
        Assert.Equal(0.75, invocation.Confidence);

        var call = Assert.Single(collector.Store.ProviderCalls);
        Assert.Equal(invocation.SpanId, call.InvocationSpanId);
        Assert.Equal("triage", call.AgentName);
        Assert.Equal("acme", call.Tenant);
        Assert.Equal("openai", call.Provider);
        Assert.Equal(GenAiOperations.Chat, call.Operation);
        Assert.Equal(1200, call.Tokens.Input);
        Assert.Equal(300, call.Tokens.Output);
        Assert.Equal(0.00036, call.CostUsd);

        var tool = Assert.Single(collector.Store.ToolCalls);
        Assert.Equal("lookup_order", tool.ToolName);
        Assert.Equal("TimeoutException", tool.ErrorType);
        Assert.Equal(invocation.SpanId, tool.InvocationSpanId);

        var evaluation = Assert.Single(collector.Store.Evaluations);
        Assert.Equal("relevance", evaluation.Name);
        Assert.Equal(0.9, evaluation.Score);
        Assert.Equal(invocation.SpanId, evaluation.SpanId);
        Assert.Equal("triage", evaluation.AgentName);
    }
}

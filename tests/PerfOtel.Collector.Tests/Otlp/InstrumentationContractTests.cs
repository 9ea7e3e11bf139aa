using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Trace;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Instrumentation;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Tests.Otlp;

/// <summary>
/// The contract of docs/architecture.md (Contracts) end to end: what PerfOtel.Instrumentation writes, sent by the real OTLP exporter,
/// is what the collector stores.
/// </summary>
public sealed class InstrumentationContractTests
{
    [Fact]
    public async Task AgentRunRecordedWithTheInstrumentation_ArrivesAsInvocationCallToolAndEvaluation()
    {
        await using var collector = new CollectorFactory();
        using var client = collector.CreateDefaultClient(new SynchronousSendHandler());
        using (var provider = Sdk.CreateTracerProviderBuilder()
            .AddPerfOtelInstrumentation()
            .AddOtlpExporter(exporter =>
            {
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                exporter.Endpoint = new Uri(client.BaseAddress!, "v1/traces");
                exporter.HttpClientFactory = () => client;
            })
            .Build())
        {
            using (var invocation = AgentTelemetry.StartInvocation("refunds", new AgentInvocationDetails
            {
                Tenant = "acme", AgentType = "support", TaskId = "task-7", TaskType = "refund", JobId = "job-1",
                ConversationId = "conv-9", Experiment = "prompt-v3", Variant = "B",
            }))
            {
                using (var chat = invocation.StartProviderCall("openai", "gpt-4o-mini"))
                {
                    chat.SetUsage(2000, 500).SetAttempt(2).SetFallback("anthropic/claude-sonnet-4", "rate_limited");
                }

                using (invocation.StartToolExecution("issue_refund", "call-1"))
                {
                }

                invocation.SetConfidence(0.7);
                invocation.RecordEvaluation("policy_compliance", 0.95, "compliant");
                invocation.Complete(AgentOutcome.Partial);
            }

            Assert.True(provider.ForceFlush(30_000));
        }

        var stored = Assert.Single(collector.Store.Invocations);
        Assert.Equal("acme", stored.Tenant);
        Assert.Equal("refunds", stored.AgentName);
        Assert.Equal("support", stored.AgentType);
        Assert.Equal("task-7", stored.TaskId);
        Assert.Equal("refund", stored.TaskType);
        Assert.Equal("job-1", stored.JobId);
        Assert.Equal("conv-9", stored.ConversationId);
        Assert.Equal("prompt-v3", stored.Experiment);
        Assert.Equal("B", stored.Variant);
        Assert.Equal(Outcomes.Partial, stored.Outcome);
        Assert.Equal(0.7, stored.Confidence);

        var call = Assert.Single(collector.Store.ProviderCalls);
        Assert.Equal(stored.SpanId, call.InvocationSpanId);
        Assert.Equal("acme", call.Tenant);
        Assert.Equal("openai", call.Provider);
        Assert.Equal("gpt-4o-mini", call.RequestModel);
        Assert.Equal(2000, call.Tokens.Input);
        Assert.Equal(500, call.Tokens.Output);
        Assert.Equal(2, call.Attempt);
        Assert.Equal("anthropic/claude-sonnet-4", call.FallbackFrom);
        Assert.Equal("rate_limited", call.FallbackReason);
        Assert.True(call.CostUsd > 0);

        var tool = Assert.Single(collector.Store.ToolCalls);
        Assert.Equal("issue_refund", tool.ToolName);
        Assert.Equal("call-1", tool.ToolCallId);
        Assert.Equal("refunds", tool.AgentName);

        var evaluation = Assert.Single(collector.Store.Evaluations);
        Assert.Equal("policy_compliance", evaluation.Name);
        Assert.Equal(0.95, evaluation.Score);
        Assert.Equal("compliant", evaluation.Label);
        Assert.Equal("acme", evaluation.Tenant);
    }
}

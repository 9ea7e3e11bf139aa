using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Logs.V1;
using OpenTelemetry.Proto.Trace.V1;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;

namespace PerfOtel.Collector.Tests.Security;

/// <summary>One tenant's agent run, with names unique to the tenant so that any leak shows up in a response body.</summary>
public sealed record TenantData(string Tenant, string Agent, string TaskId, string Experiment, string Model, int TraceNumber)
{
    public static readonly TenantData Alpha = new(TestKeys.TenantA, "alpha-agent-k2", "alpha-task-k2", "alpha-experiment-k2", "alpha-model-k2", 0x0a01);

    public static readonly TenantData Bravo = new(TestKeys.TenantB, "bravo-agent-x9", "bravo-task-x9", "bravo-experiment-x9", "bravo-model-x9", 0x0b01);

    public ByteString TraceId => OtlpBuilders.TraceId(TraceNumber);

    public ByteString InvocationSpanId => SpanId(TraceNumber * 16);

    public string TraceIdHex => Hex(TraceId);

    public string InvocationSpanIdHex => Hex(InvocationSpanId);

    public string JobId => TaskId + "-job";

    /// <summary>Strings only this tenant's data contains.</summary>
    public IReadOnlyList<string> Markers => [Tenant, Agent, TaskId, Experiment, Model, TraceIdHex];

    /// <summary>An agent invocation with a chat call and an evaluation, now, claiming <paramref name="claimedTenant"/>.</summary>
    public ExportTraceServiceRequest Run(string? claimedTenant)
    {
        var now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;
        var invocation = Span($"invoke_agent {Agent}", TraceId, InvocationSpanId, attributes:
        [
            (GenAiAttributes.OperationName, GenAiOperations.InvokeAgent),
            (GenAiAttributes.AgentName, Agent),
            (PerfOtelAttributes.TaskId, TaskId),
            (PerfOtelAttributes.JobId, JobId),
            (PerfOtelAttributes.Outcome, Outcomes.Success),
            (PerfOtelAttributes.Confidence, 0.8),
            (PerfOtelAttributes.Experiment, Experiment),
            (PerfOtelAttributes.Variant, "control"),
        ]);
        invocation.Events.Add(new Span.Types.Event
        {
            Name = GenAiEvents.EvaluationResult,
            TimeUnixNano = now,
            Attributes = { Attr(GenAiAttributes.EvaluationName, "relevance"), Attr(GenAiAttributes.EvaluationScoreValue, 0.9) },
        });
        var chat = Span($"chat {Model}", TraceId, SpanId(TraceNumber * 16 + 1), InvocationSpanId, attributes:
        [
            (GenAiAttributes.OperationName, GenAiOperations.Chat),
            (GenAiAttributes.ProviderName, "openai"),
            (GenAiAttributes.RequestModel, Model),
            (GenAiAttributes.UsageInputTokens, 100),
            (GenAiAttributes.UsageOutputTokens, 20),
            (PerfOtelAttributes.CostUsd, 0.25),
        ]);
        foreach (var span in new[] { invocation, chat })
        {
            span.StartTimeUnixNano = now;
            span.EndTimeUnixNano = now + 500_000_000;
            if (claimedTenant is not null)
            {
                span.Attributes.Add(Attr(PerfOtelAttributes.Tenant, claimedTenant));
            }
        }

        return claimedTenant is null ? Traces([invocation, chat]) : Traces([invocation, chat], (PerfOtelAttributes.Tenant, claimedTenant));
    }

    /// <summary>A gen_ai.evaluation.result log record on this tenant's invocation, claiming <paramref name="claimedTenant"/>.</summary>
    public ExportLogsServiceRequest Evaluation(string claimedTenant, string name)
    {
        var record = new LogRecord
        {
            EventName = GenAiEvents.EvaluationResult,
            TimeUnixNano = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000,
            TraceId = TraceId,
            SpanId = InvocationSpanId,
            Attributes =
            {
                Attr(GenAiAttributes.EvaluationName, name),
                Attr(GenAiAttributes.EvaluationScoreValue, 0.5),
                Attr(PerfOtelAttributes.Tenant, claimedTenant),
            },
        };
        var request = new ExportLogsServiceRequest();
        request.ResourceLogs.Add(new ResourceLogs { ScopeLogs = { new ScopeLogs { LogRecords = { record } } } });
        return request;
    }
}

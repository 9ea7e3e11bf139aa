using System.Globalization;
using PerfOtel.Collector.Records;

namespace PerfOtel.Benchmarks.Storage;

/// <summary>
/// 100-span batches shaped like agent traffic: per invocation, two or three provider calls, a tool call and sometimes
/// an evaluation. Ids come from a per-writer counter: unique across writers and runs (a run id prefix), cheap to make.
/// With <paramref name="links"/>, each batch also carries one span link per span, as the OTLP mapper gives every span of
/// a request (the invocation's link names its agent; an evaluation is an event on the invocation span, no span of its
/// own): what the ingest writer stores with the records since migration 7.
/// </summary>
internal sealed class BatchGenerator(int writer, bool links)
{
    private static readonly string RunId = DateTime.UtcNow.Ticks.ToString("x12", CultureInfo.InvariantCulture)[^12..];
    private static readonly string[] Agents = ["planner", "coder", "reviewer", "support", "research"];
    private readonly string _tracePrefix = RunId + writer.ToString("x4", CultureInfo.InvariantCulture);
    private long _trace;
    private long _span;

    public IngestBatch Next()
    {
        var batch = new IngestBatch();
        var now = DateTimeOffset.UtcNow;
        while (true)
        {
            var traceId = _tracePrefix + (++_trace).ToString("x16", CultureInfo.InvariantCulture);
            var invocationSpan = NextSpanId();
            var agent = Agents[(int)(_trace % Agents.Length)];
            var calls = 2 + (int)(_trace % 2);
            var evaluations = _trace % 4 == 0 ? 1 : 0;
            if (batch.Count + 1 + calls + 1 + evaluations > StoreLoadDriver.SpansPerBatch)
            {
                break;
            }

            batch.Invocations.Add(new AgentInvocation
            {
                Tenant = "default", TraceId = traceId, SpanId = invocationSpan, AgentName = agent, AgentType = "react",
                TaskId = "task-" + traceId, TaskType = "ticket", ServiceName = "load", StartTime = now,
                DurationSeconds = 1.5, Outcome = _trace % 10 == 0 ? "failure" : "success", Confidence = 0.8,
            });
            Link(batch, traceId, invocationSpan, null, agent, now);
            for (var call = 0; call < calls; call++)
            {
                batch.ProviderCalls.Add(new ProviderCall
                {
                    Tenant = "default", TraceId = traceId, SpanId = NextSpanId(), ParentSpanId = invocationSpan,
                    InvocationSpanId = invocationSpan, AgentName = agent, Operation = "chat", Provider = "openai",
                    RequestModel = "gpt-4o-mini", ResponseModel = "gpt-4o-mini-2024-07-18", StartTime = now,
                    DurationSeconds = 0.4, Tokens = new TokenCounts(800, 120, 0, 0, 0), CostUsd = 0.000192,
                });
                Link(batch, traceId, batch.ProviderCalls[^1].SpanId, invocationSpan, null, now);
            }

            batch.ToolCalls.Add(new ToolCall
            {
                Tenant = "default", TraceId = traceId, SpanId = NextSpanId(), ParentSpanId = invocationSpan,
                InvocationSpanId = invocationSpan, AgentName = agent, ToolName = "search", StartTime = now,
                DurationSeconds = 0.05,
            });
            Link(batch, traceId, batch.ToolCalls[^1].SpanId, invocationSpan, null, now);
            if (evaluations == 1)
            {
                batch.Evaluations.Add(new EvaluationRecord
                {
                    Tenant = "default", TraceId = traceId, SpanId = invocationSpan, Sequence = 0, AgentName = agent,
                    Name = "relevance", Score = 0.9, Time = now,
                });
            }
        }

        return batch;
    }

    private void Link(IngestBatch batch, string traceId, string spanId, string? parentSpanId, string? agent, DateTimeOffset now)
    {
        if (links)
        {
            batch.SpanLinks.Add(new SpanLink
            {
                Tenant = "default", TraceId = traceId, SpanId = spanId, ParentSpanId = parentSpanId,
                InvocationAgent = agent, SeenAt = now,
            });
        }
    }

    private string NextSpanId() => (++_span).ToString("x16", CultureInfo.InvariantCulture);
}

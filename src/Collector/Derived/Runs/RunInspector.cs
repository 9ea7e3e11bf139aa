using PerfOtel.Collector.Derived.Thresholds;
using PerfOtel.Collector.Records;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Derived.Runs;

/// <summary>
/// Builds a run's page from the records of its trace: its steps, counts, time shares, error classes and warnings.
/// A record belongs to the innermost agent invocation above it: the invocation the mapper resolved for it, else the
/// first invocation found walking up its parent spans through the trace's stored records.
/// </summary>
public static class RunInspector
{
    /// <summary>The run, or null when the trace holds no invocation with that span id.</summary>
    public static RunDetail? Inspect(TraceRecords trace, string spanId, ThresholdSet thresholds, double? agentP95Seconds)
    {
        ArgumentNullException.ThrowIfNull(trace);
        var tree = new TraceTree(trace);
        if (tree.Invocation(spanId) is not { } stored)
        {
            return null;
        }
        var run = stored.Invocation;
        var start = run.StartTime;
        var steps = new List<RunStep>();
        foreach (var call in trace.ProviderCalls.Where(c => tree.OwnerOf(c.SpanId) == spanId))
        {
            steps.Add(new RunStep
            {
                Kind = RunStep.ProviderCallKind,
                Operation = call.Operation,
                Name = call.RequestModel ?? call.ResponseModel ?? call.Provider,
                SpanId = call.SpanId,
                ParentSpanId = call.ParentSpanId,
                StartTime = call.StartTime,
                OffsetSeconds = (call.StartTime - start).TotalSeconds,
                DurationSeconds = call.DurationSeconds,
                Provider = call.Provider,
                RequestModel = call.RequestModel,
                ResponseModel = call.ResponseModel,
                Attempt = call.Attempt,
                FallbackFrom = call.FallbackFrom,
                FallbackReason = call.FallbackReason,
                Tokens = call.Tokens,
                CostUsd = call.CostUsd,
                UnpricedTokens = call.UnpricedTokens,
                ErrorType = call.ErrorType,
                ErrorClass = call.ErrorType is { } error ? ErrorClasses.OfProviderCall(error) : null,
            });
        }
        foreach (var tool in trace.ToolCalls.Where(t => tree.OwnerOf(t.SpanId) == spanId))
        {
            steps.Add(new RunStep
            {
                Kind = RunStep.ToolCallKind,
                Operation = GenAiOperations.ExecuteTool,
                Name = tool.ToolName,
                SpanId = tool.SpanId,
                ParentSpanId = tool.ParentSpanId,
                StartTime = tool.StartTime,
                OffsetSeconds = (tool.StartTime - start).TotalSeconds,
                DurationSeconds = tool.DurationSeconds,
                ToolCallId = tool.ToolCallId,
                ErrorType = tool.ErrorType,
                ErrorClass = tool.ErrorType is not null ? ErrorClasses.OfToolCall() : null,
            });
        }
        foreach (var nested in trace.Invocations.Where(i => tree.OwnerOf(i.Invocation.SpanId) == spanId))
        {
            var child = nested.Invocation;
            var failed = child.Outcome == Outcomes.Failure;
            steps.Add(new RunStep
            {
                Kind = RunStep.AgentInvocationKind,
                Operation = GenAiOperations.InvokeAgent,
                Name = child.AgentName,
                SpanId = child.SpanId,
                ParentSpanId = child.ParentSpanId,
                StartTime = child.StartTime,
                OffsetSeconds = (child.StartTime - start).TotalSeconds,
                DurationSeconds = child.DurationSeconds,
                Tokens = nested.RolledUpTokens,
                CostUsd = nested.RolledUpCostUsd,
                UnpricedTokens = nested.UnpricedTokens,
                Outcome = child.Outcome,
                ErrorType = child.ErrorType,
                ErrorClass = failed ? ErrorClasses.OfInvocation(child.ErrorType) : null,
            });
        }
        steps.Sort((a, b) => a.StartTime != b.StartTime
            ? a.StartTime.CompareTo(b.StartTime)
            : string.CompareOrdinal(a.SpanId, b.SpanId));

        var classes = new HashSet<string>(steps.Where(s => s.ErrorClass is not null).Select(s => s.ErrorClass!));
        if (run.Outcome == Outcomes.Failure || run.ErrorType is not null)
        {
            // A failure its steps explain keeps their classes; one they do not explain is classed by its own error.type.
            if (classes.Count == 0 || run.ErrorType is not null)
            {
                var own = ErrorClasses.OfInvocation(run.ErrorType);
                if (own != ErrorClasses.Other || classes.Count == 0)
                {
                    classes.Add(own);
                }
            }
        }

        var ownCalls = CallSummary.Of(trace.ProviderCalls.Where(c => (c.InvocationSpanId ?? c.ParentSpanId) == spanId));
        var feedback = stored.Feedback;
        return new RunDetail
        {
            Run = RunWarnings.Summarize(stored, ownCalls, thresholds, agentP95Seconds),
            ParentInvocationSpanId = tree.OwnerOf(spanId),
            Steps = steps,
            ErrorCount = steps.Count(s => s.ErrorClass is not null),
            TimeToFirstStepSeconds = steps.Count > 0 ? Math.Max(0, steps.Min(s => s.OffsetSeconds)) : null,
            TimeShares = Shares(run, tree.Descendants(spanId, trace)),
            ErrorClasses = ErrorClasses.All.Where(classes.Contains).ToList(),
            Evaluations = trace.Evaluations.Where(e => e.SpanId == spanId)
                .Select(e => new RunEvaluation(e.Name, e.Score, e.Label, e.Time)).ToList(),
            Feedback = feedback is null ? null : new RunFeedback(feedback.FeedbackId, feedback.TaskId, feedback.Success,
                feedback.Score, feedback.Accuracy, feedback.PredictedJson, feedback.ActualJson, feedback.ReceivedAt),
        };
    }

    /// <summary>
    /// Wall-time shares over the run's interval: the union of every provider call under the run (nested agents'
    /// included), then the union of tool calls outside those, then the rest.
    /// </summary>
    private static TimeShares Shares(AgentInvocation run, (List<(DateTimeOffset, DateTimeOffset)> Provider,
        List<(DateTimeOffset, DateTimeOffset)> Tools) descendants)
    {
        var start = run.StartTime;
        var end = start.AddSeconds(Math.Max(0, run.DurationSeconds));
        var provider = Union(descendants.Provider, start, end);
        var providerAndTools = Union(descendants.Provider.Concat(descendants.Tools).ToList(), start, end);
        var total = (end - start).TotalSeconds;
        var providerSeconds = Seconds(provider);
        var toolSeconds = Math.Max(0, Seconds(providerAndTools) - providerSeconds);
        var elsewhere = Math.Max(0, total - providerSeconds - toolSeconds);
        return total > 0
            ? new TimeShares(providerSeconds, toolSeconds, elsewhere, providerSeconds / total, toolSeconds / total, elsewhere / total)
            : new TimeShares(providerSeconds, toolSeconds, elsewhere, null, null, null);
    }

    private static List<(DateTimeOffset Start, DateTimeOffset End)> Union(List<(DateTimeOffset, DateTimeOffset)> intervals,
        DateTimeOffset from, DateTimeOffset to)
    {
        var clipped = intervals
            .Select(i => (Start: i.Item1 < from ? from : i.Item1, End: i.Item2 > to ? to : i.Item2))
            .Where(i => i.End > i.Start)
            .OrderBy(i => i.Start)
            .ToList();
        var merged = new List<(DateTimeOffset Start, DateTimeOffset End)>();
        foreach (var interval in clipped)
        {
            if (merged.Count > 0 && interval.Start <= merged[^1].End)
            {
                if (interval.End > merged[^1].End)
                {
                    merged[^1] = (merged[^1].Start, interval.End);
                }
            }
            else
            {
                merged.Add(interval);
            }
        }
        return merged;
    }

    private static double Seconds(List<(DateTimeOffset Start, DateTimeOffset End)> intervals) =>
        intervals.Sum(i => (i.End - i.Start).TotalSeconds);

    /// <summary>Which invocation each record of a trace belongs to.</summary>
    internal sealed class TraceTree
    {
        private readonly Dictionary<string, StoredInvocation> invocations = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string?> parents = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string?> resolved = new(StringComparer.Ordinal);

        public TraceTree(TraceRecords trace)
        {
            foreach (var stored in trace.Invocations)
            {
                invocations.TryAdd(stored.Invocation.SpanId, stored);
                parents.TryAdd(stored.Invocation.SpanId, stored.Invocation.ParentSpanId);
            }
            foreach (var call in trace.ProviderCalls)
            {
                parents.TryAdd(call.SpanId, call.ParentSpanId);
                if (call.InvocationSpanId is not null)
                {
                    resolved.TryAdd(call.SpanId, call.InvocationSpanId);
                }
            }
            foreach (var tool in trace.ToolCalls)
            {
                parents.TryAdd(tool.SpanId, tool.ParentSpanId);
                if (tool.InvocationSpanId is not null)
                {
                    resolved.TryAdd(tool.SpanId, tool.InvocationSpanId);
                }
            }
        }

        public StoredInvocation? Invocation(string spanId) => invocations.GetValueOrDefault(spanId);

        /// <summary>The innermost invocation above a span, or null when none is stored.</summary>
        public string? OwnerOf(string spanId)
        {
            if (resolved.TryGetValue(spanId, out var known))
            {
                return known;
            }
            var seen = new HashSet<string>(StringComparer.Ordinal) { spanId };
            var current = parents.GetValueOrDefault(spanId);
            while (current is not null && seen.Add(current))
            {
                if (invocations.ContainsKey(current))
                {
                    return current;
                }
                current = parents.GetValueOrDefault(current);
            }
            return null;
        }

        /// <summary>Whether a span lies under the invocation (through any number of nested invocations).</summary>
        public bool IsUnder(string spanId, string invocationSpanId)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var owner = OwnerOf(spanId); owner is not null && seen.Add(owner); owner = OwnerOf(owner))
            {
                if (owner == invocationSpanId)
                {
                    return true;
                }
            }
            return false;
        }

        public (List<(DateTimeOffset, DateTimeOffset)> Provider, List<(DateTimeOffset, DateTimeOffset)> Tools) Descendants(
            string invocationSpanId, TraceRecords trace) =>
            (trace.ProviderCalls.Where(c => IsUnder(c.SpanId, invocationSpanId))
                    .Select(c => (c.StartTime, c.StartTime.AddSeconds(Math.Max(0, c.DurationSeconds)))).ToList(),
             trace.ToolCalls.Where(t => IsUnder(t.SpanId, invocationSpanId))
                    .Select(t => (t.StartTime, t.StartTime.AddSeconds(Math.Max(0, t.DurationSeconds)))).ToList());
    }
}

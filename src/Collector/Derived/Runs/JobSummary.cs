using PerfOtel.Collector.Records;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Derived.Runs;

/// <summary>One agent's part in a job.</summary>
public sealed record JobAgent(string Agent, int Invocations, int Successes, int Failures, int Partials);

/// <summary>A job (<c>perfotel.job.id</c>): its invocations, agents, outcome and totals.</summary>
public sealed record JobSummary
{
    public required string Tenant { get; init; }
    public required string JobId { get; init; }
    /// <summary><c>success</c>, <c>failure</c> or <c>partial</c>, by the job outcome rule (see <see cref="JobSummarizer"/>).</summary>
    public required string Outcome { get; init; }
    /// <summary>Tasks judged: top-level invocations grouped by task id (an invocation without one is its own task).</summary>
    public required int Tasks { get; init; }
    public required int SucceededTasks { get; init; }
    public required int FailedTasks { get; init; }
    public required DateTimeOffset StartTime { get; init; }
    public required DateTimeOffset EndTime { get; init; }
    /// <summary>Wall time from the first invocation's start to the last one's end.</summary>
    public required double DurationSeconds { get; init; }
    public required TokenCounts Tokens { get; init; }
    public long TotalTokens => Tokens.Total;
    /// <summary>Sum of the invocations' known costs.</summary>
    public required double CostUsd { get; init; }
    /// <summary>Tokens of calls to models without a price: the cost leaves them out.</summary>
    public required long UnpricedTokens { get; init; }
    public required IReadOnlyList<JobAgent> Agents { get; init; }
    /// <summary>Every invocation of the job, oldest first.</summary>
    public required IReadOnlyList<RunSummary> Invocations { get; init; }
    /// <summary>True when the job has more invocations than a job read returns (the totals cover those listed).</summary>
    public required bool Truncated { get; init; }
}

/// <summary>
/// The job outcome rule: the job's tasks are its top-level invocations (those not nested in another invocation of the
/// job) grouped by task id, each judged by its latest attempt (a retried task counts by its last try, as feedback
/// does); the job succeeded when every task did, failed when every task failed, and is partial otherwise.
/// </summary>
public static class JobSummarizer
{
    public static JobSummary Summarize(string tenant, string jobId, IReadOnlyList<RunRow> rows,
        Func<RunRow, RunSummary> summarize, bool truncated)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(summarize);
        if (rows.Count == 0)
        {
            throw new ArgumentException("a job has at least one invocation", nameof(rows));
        }
        var ordered = rows.OrderBy(r => r.Stored.Invocation.StartTime)
            .ThenBy(r => r.Stored.Invocation.SpanId, StringComparer.Ordinal).ToList();
        var spans = ordered.Select(r => (r.Stored.Invocation.TraceId, r.Stored.Invocation.SpanId)).ToHashSet();
        var roots = ordered.Where(r => r.Stored.Invocation.ParentSpanId is not { } parent
            || !spans.Contains((r.Stored.Invocation.TraceId, parent))).ToList();
        var tasks = roots
            .GroupBy(r => r.Stored.Invocation.TaskId ?? "\0" + r.Stored.Invocation.TraceId + "/" + r.Stored.Invocation.SpanId,
                StringComparer.Ordinal)
            .Select(g => g.Last().Stored.Invocation.Outcome)
            .ToList();
        var succeeded = tasks.Count(o => o == Outcomes.Success);
        var failed = tasks.Count(o => o == Outcomes.Failure);
        var outcome = succeeded == tasks.Count ? Outcomes.Success
            : failed == tasks.Count ? Outcomes.Failure
            : Outcomes.Partial;

        var tokens = default(TokenCounts);
        double cost = 0;
        long unpriced = 0;
        foreach (var row in ordered)
        {
            tokens += row.Stored.RolledUpTokens;
            cost += row.Stored.RolledUpCostUsd ?? 0;
            unpriced += row.Stored.UnpricedTokens;
        }
        var start = ordered.Min(r => r.Stored.Invocation.StartTime);
        var end = ordered.Max(r => r.Stored.Invocation.StartTime.AddSeconds(Math.Max(0, r.Stored.Invocation.DurationSeconds)));
        return new JobSummary
        {
            Tenant = tenant,
            JobId = jobId,
            Outcome = outcome,
            Tasks = tasks.Count,
            SucceededTasks = succeeded,
            FailedTasks = failed,
            StartTime = start,
            EndTime = end,
            DurationSeconds = (end - start).TotalSeconds,
            Tokens = tokens,
            CostUsd = cost,
            UnpricedTokens = unpriced,
            Agents = ordered.GroupBy(r => r.Stored.Invocation.AgentName, StringComparer.Ordinal)
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => new JobAgent(g.Key, g.Count(), g.Count(r => r.Stored.Invocation.Outcome == Outcomes.Success),
                    g.Count(r => r.Stored.Invocation.Outcome == Outcomes.Failure),
                    g.Count(r => r.Stored.Invocation.Outcome == Outcomes.Partial)))
                .ToList(),
            Invocations = ordered.Select(summarize).ToList(),
            Truncated = truncated,
        };
    }
}

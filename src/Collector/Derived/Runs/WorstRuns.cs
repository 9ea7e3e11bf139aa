using PerfOtel.Collector.Derived.Analytics.Reports;
using PerfOtel.Collector.Derived.Thresholds;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Derived.Runs;

/// <summary>One of the runs that most explain a breach.</summary>
public sealed record WorstRun(string Agent, string Metric, RunSummary Run);

/// <summary>
/// The runs behind a threshold breach, from the agent's runs in the breached window: for success and error rate (and
/// anomalies) its failed runs, then partial ones, newest first; for latency the slowest; for cost and tokens the most
/// expensive and the largest; for accuracy the least accurate; for quality those of the lowest quality.
/// </summary>
public static class WorstRuns
{
    /// <summary>Runs listed per breach.</summary>
    public const int PerBreach = 3;

    /// <summary>The worst runs of one breach among the agent's runs (newest first as the store lists them).</summary>
    public static IReadOnlyList<WorstRun> Of(ThresholdBreach breach, IReadOnlyList<RunSummary> runs)
    {
        ArgumentNullException.ThrowIfNull(breach);
        ArgumentNullException.ThrowIfNull(runs);
        IEnumerable<RunSummary> ranked = breach.Metric switch
        {
            TrendMetrics.LatencyP95 => runs.OrderByDescending(r => r.DurationSeconds),
            TrendMetrics.CostPerInvocation => runs.Where(r => r.CostUsd is not null).OrderByDescending(r => r.CostUsd),
            TrendMetrics.TokensPerInvocation => runs.OrderByDescending(r => r.TotalTokens),
            TrendMetrics.Accuracy => runs.Where(r => r.Accuracy is not null).OrderBy(r => r.Accuracy),
            TrendMetrics.Quality => runs.Where(r => r.Quality is not null).OrderBy(r => r.Quality),
            _ => runs.Where(r => r.Outcome != Outcomes.Success).OrderBy(r => r.Outcome == Outcomes.Failure ? 0 : 1),
        };
        return ranked.Take(PerBreach).Select(r => new WorstRun(breach.Agent, breach.Metric, r)).ToList();
    }
}

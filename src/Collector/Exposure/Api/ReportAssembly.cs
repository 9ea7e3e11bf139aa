using PerfOtel.Collector.Derived.Analytics.Reports;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Experiments;
using PerfOtel.Collector.Derived.Runs;
using PerfOtel.Collector.Derived.Thresholds;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Exposure.Api;

/// <summary>
/// The tenant's report over one window (agents with their standing, breaches, worst runs, recommendations, experiments):
/// one assembly for <c>GET /api/v1/report</c> and the scheduled reports, so both say the same.
/// </summary>
internal static class ReportAssembly
{
    /// <summary>Runs of a breaching agent examined for its worst runs: the newest in the window.</summary>
    internal const int WorstRunCandidates = 500;

    /// <summary>The report of <paramref name="tenant"/> over the window at <paramref name="window"/>, from the live windows.</summary>
    public static async Task<(ReportResponse Report, IReadOnlyList<ExperimentReport> Experiments)> BuildAsync(
        RollingWindows windows, IServiceProvider services, IExecutionStore? store, string tenant, int window,
        CancellationToken cancellationToken)
    {
        var agents = WithStandings(windows, tenant, windows.Agents(tenant, window).Select(a => windows.Report(a, window)).ToList());
        var breaches = AnalyticsQueries.Breaches(windows, tenant, agents);
        // Cheaper models of equal quality come from the model comparison (issue 6), when it is registered.
        // A defined experiment's decision outranks the comparison: its advice is among the recommendations (saying
        // which experiment decided), and a decision not to switch is said too.
        var advice = services.GetService<PerfOtel.Collector.Derived.Models.IModelRecommendations>();
        var modelRecommendations = advice is null
            ? []
            : advice.GetRecommendations(tenant).Select(r => r.Reason)
                .Concat(advice.GetExperimentAdvice(tenant).Where(a => !a.Advised).Select(a => a.Reason));
        var recommendations = breaches
            .Select(b => $"{b.Agent}: {b.Message}. {b.Recommendation}")
            .Concat(modelRecommendations)
            .ToList();
        var worst = await WorstRunsAsync(store, windows, tenant, agents, breaches, cancellationToken).ConfigureAwait(false);
        // Experiments are cumulative, not windowed: both forms list them after the window's figures, from one analysis
        // (the JSON as GET /api/v1/experiments answers them).
        IReadOnlyList<ExperimentReport> experiments = services.GetService<ExperimentRegistry>()?.Reports(tenant) ?? [];
        var report = new ReportResponse(tenant, windows.Windows[window].Name, windows.Now,
            windows.TenantReport(tenant, window), agents, breaches, recommendations, windows.ThresholdsFor(tenant), worst,
            experiments.Select(ExperimentResponse.Of).ToList());
        return (report, experiments);
    }

    /// <summary>The reports of a tenant's agents, each with its standing among them.</summary>
    internal static List<AgentReport> WithStandings(RollingWindows windows, string tenant, List<AgentReport> reports)
    {
        var standings = PeerStandings.Rank(reports, windows.ThresholdsFor(tenant));
        return reports.Select(r => r with { Standing = standings.GetValueOrDefault(r.Agent ?? string.Empty) }).ToList();
    }

    /// <summary>Each breaching agent's runs that most explain its breaches (see <see cref="WorstRuns"/>).</summary>
    private static async Task<List<WorstRun>> WorstRunsAsync(IExecutionStore? store, RollingWindows windows, string tenant,
        List<AgentReport> agents, List<ThresholdBreach> breaches, CancellationToken cancellationToken)
    {
        var worst = new List<WorstRun>();
        if (store is not IRunStore runs)
        {
            return worst;
        }
        var thresholds = windows.ThresholdsFor(tenant);
        foreach (var group in breaches.GroupBy(b => b.Agent, StringComparer.Ordinal))
        {
            var report = agents.FirstOrDefault(a => a.Agent == group.Key);
            if (report is null)
            {
                continue;
            }
            var rows = await runs.SearchRunsAsync(new RunSearch
            {
                Tenant = tenant, AgentName = group.Key, Since = report.WindowStart, Until = report.WindowEnd,
                Limit = WorstRunCandidates,
            }, cancellationToken).ConfigureAwait(false);
            var summaries = rows.Select(r => RunWarnings.Summarize(r.Stored, r.Calls, thresholds, report.LatencyP95Seconds))
                .ToList();
            foreach (var breach in group)
            {
                worst.AddRange(WorstRuns.Of(breach, summaries));
            }
        }
        return worst;
    }
}

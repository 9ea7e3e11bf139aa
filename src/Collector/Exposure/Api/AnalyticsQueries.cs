using PerfOtel.Collector.Records;
using PerfOtel.Collector.Derived.Analytics.Reports;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Thresholds;

namespace PerfOtel.Collector.Exposure.Api;

/// <summary>
/// The answers of the analytics reads, computed once here from the rolling windows: the REST handlers serialize them
/// and the pages (<c>Exposure/Pages</c>) draw them, so both show the same numbers. Parameters are already validated.
/// </summary>
internal static class AnalyticsQueries
{
    /// <summary><c>GET /api/v1/health</c>.</summary>
    public static HealthResponse Health(RollingWindows windows, string tenant, int window)
    {
        var system = windows.TenantReport(tenant, window);
        var agents = windows.Agents(tenant, window).Select(a => windows.Report(a, window)).ToList();
        var byBand = new Dictionary<string, int>(StringComparer.Ordinal)
        {
            ["excellent"] = 0, ["good"] = 0, ["fair"] = 0, ["poor"] = 0,
        };
        foreach (var agent in agents)
        {
            if (agent.HealthBand is { } band)
            {
                byBand[band]++;
            }
        }
        var breaches = Breaches(windows, tenant, agents);
        var critical = breaches.Count(b => b.Level == ThresholdEvaluator.Critical);
        var warning = breaches.Count(b => b.Level == ThresholdEvaluator.Warning);
        return new HealthResponse(TenantHealthStatus.Of(system, critical, warning), tenant, windows.Windows[window].Name,
            windows.Now, system.HealthScore, system.HealthBand, agents.Count, system.Invocations, byBand, critical, warning);
    }

    /// <summary><c>GET /api/v1/metrics/agents</c>.</summary>
    public static AgentListResponse AgentList(RollingWindows windows, string tenant, int window)
    {
        var summaries = windows.Agents(tenant, window)
            .Select(a => windows.Report(a, window))
            .Select(r => new AgentSummary(r.Agent!, r.Invocations, r.SuccessRate, r.ErrorRate, r.LatencyP95Seconds,
                r.Accuracy, r.Quality, r.Calibration.ExpectedCalibrationError, r.CostPerInvocationUsd, r.HealthScore, r.HealthBand,
                r.Anomaly.Score, r.AgentType, r.LastSeen, r.Status))
            .ToList();
        return new AgentListResponse(tenant, windows.Windows[window].Name, summaries);
    }

    /// <summary><c>GET /api/v1/metrics/agents/{agent}</c>: every window, or only the one given; null for an unknown agent.</summary>
    public static AgentMetricsResponse? AgentMetrics(RollingWindows windows, string tenant, string agent, int? only)
    {
        if (windows.Find(tenant, agent) is not { } found)
        {
            return null;
        }
        var reports = Enumerable.Range(0, windows.Windows.Count)
            .Where(w => only is null || w == only)
            .Select(w =>
            {
                var report = windows.Report(found, w);
                var peers = windows.Agents(tenant, w).Where(a => a != found).Select(a => windows.Report(a, w)).Append(report).ToList();
                return report with { Standing = PeerStandings.Rank(peers, windows.ThresholdsFor(tenant))[agent] };
            })
            .ToList();
        return new AgentMetricsResponse(tenant, agent, reports);
    }

    /// <summary>
    /// The open alerts of one window, critical first, then by agent and metric: what <c>GET /api/v1/alerts</c> lists and
    /// the overview page shows, from the same evaluation (<see cref="Derived.Thresholds.AlertTracker"/>).
    /// </summary>
    public static List<AlertRecord> OpenAlerts(IEnumerable<AlertRecord> evaluated, string windowName, Func<AlertRecord, bool>? matches = null) =>
        evaluated
            .Where(a => a.Window == windowName && (matches is null || matches(a)))
            .OrderBy(a => a.Level == ThresholdEvaluator.Critical ? 0 : 1)
            .ThenBy(a => a.Agent, StringComparer.Ordinal)
            .ThenBy(a => a.Metric, StringComparer.Ordinal)
            .ToList();

    /// <summary>The thresholds the agents breach, critical first, then by agent.</summary>
    public static List<ThresholdBreach> Breaches(RollingWindows windows, string tenant, IEnumerable<AgentReport> agents) =>
        agents
            .SelectMany(r => ThresholdEvaluator.Evaluate(r, windows.ThresholdsFor(tenant, r.Agent), windows.Options.AnomalyThreshold))
            .OrderBy(b => b.Level == ThresholdEvaluator.Critical ? 0 : 1)
            .ThenBy(b => b.Agent, StringComparer.Ordinal)
            .ToList();
}

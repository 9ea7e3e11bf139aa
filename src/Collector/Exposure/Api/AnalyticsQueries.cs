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
    public static HealthResponse Health(RollingWindows windows, string tenant, int window) =>
        Health(windows, windows.View(tenant, window));

    /// <summary><c>GET /api/v1/health</c> from a view already taken (a page drawing more of the same view).</summary>
    public static HealthResponse Health(RollingWindows windows, TenantView view)
    {
        var (tenant, window) = (view.Tenant, view.Window);
        var system = windows.TenantReport(tenant, window);
        var (byBand, critical, warning) = view.Memo("health", static v =>
        {
            var bands = new Dictionary<string, int>(StringComparer.Ordinal)
            {
                ["excellent"] = 0, ["good"] = 0, ["fair"] = 0, ["poor"] = 0,
            };
            foreach (var agent in v.Reports)
            {
                if (agent.HealthBand is { } band)
                {
                    bands[band]++;
                }
            }
            return Tuple.Create<IReadOnlyDictionary<string, int>, int, int>(bands,
                v.Breaches.Count(b => b.Level == ThresholdEvaluator.Critical), v.Breaches.Count(b => b.Level == ThresholdEvaluator.Warning));
        });
        return new HealthResponse(TenantHealthStatus.Of(system, critical, warning), tenant, windows.Windows[window].Name,
            windows.Now, system.HealthScore, system.HealthBand, view.Agents.Count, system.Invocations, byBand, critical, warning);
    }

    /// <summary><c>GET /api/v1/metrics/agents</c>.</summary>
    public static AgentListResponse AgentList(RollingWindows windows, string tenant, int window) =>
        AgentList(windows, windows.View(tenant, window));

    /// <summary><c>GET /api/v1/metrics/agents</c> from a view already taken.</summary>
    public static AgentListResponse AgentList(RollingWindows windows, TenantView view)
    {
        var name = windows.Windows[view.Window].Name;
        return view.Memo("agent-list", v => new AgentListResponse(v.Tenant, name, v.Reports
            .Select(r => new AgentSummary(r.Agent!, r.Invocations, r.SuccessRate, r.ErrorRate, r.LatencyP95Seconds,
                r.Accuracy, r.Quality, r.Calibration.ExpectedCalibrationError, r.CostPerInvocationUsd, r.HealthScore, r.HealthBand,
                r.Anomaly.Score, r.AgentType, r.LastSeen, r.Status))
            .ToList()));
    }

    /// <summary>
    /// <c>GET /api/v1/metrics/agents/{agent}</c>: every window, or only the one given; null for an unknown agent. The
    /// agent's standing is among the tenant's agents with data in each window (itself included, with or without).
    /// </summary>
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
                var view = windows.View(tenant, w);
                var inView = view.ReportOf(agent);
                var report = inView ?? windows.Report(found, w);
                return report with { Standing = view.Peers.Standing(report, inTable: inView is not null) };
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

    /// <summary>The thresholds the agents breach, critical first, then by agent (the tenant-wide pass is <see cref="TenantView.Breaches"/>).</summary>
    public static List<ThresholdBreach> Breaches(RollingWindows windows, string tenant, IEnumerable<AgentReport> agents) =>
        agents
            .SelectMany(r => ThresholdEvaluator.Evaluate(r, windows.ThresholdsFor(tenant, r.Agent), windows.Options.AnomalyThreshold))
            .OrderBy(b => b.Level == ThresholdEvaluator.Critical ? 0 : 1)
            .ThenBy(b => b.Agent, StringComparer.Ordinal)
            .ToList();
}

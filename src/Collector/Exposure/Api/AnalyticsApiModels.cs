using PerfOtel.Collector.Records;
using PerfOtel.Collector.Derived.Analytics.Formulas;
using PerfOtel.Collector.Derived.Analytics.Reports;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Derived.Thresholds;

namespace PerfOtel.Collector.Exposure.Api;

/// <summary><c>GET /api/v1/health</c>. <see cref="Status"/> is <see cref="TenantHealthStatus"/>'s verdict.</summary>
public sealed record HealthResponse(
    string Status, string Tenant, string Window, DateTimeOffset Time, double? HealthScore, string? HealthBand,
    int Agents, long Invocations, IReadOnlyDictionary<string, int> AgentsByBand, int CriticalAlerts, int WarningAlerts);

/// <summary><c>GET /api/v1/metrics/system</c>: the tenant-wide report.</summary>
public sealed record SystemMetricsResponse(string Tenant, string Window, int Agents, AgentReport Metrics);

/// <summary>One agent in <c>GET /api/v1/metrics/agents</c>.</summary>
public sealed record AgentSummary(
    string Agent, long Invocations, double? SuccessRate, double? ErrorRate, double? LatencyP95Seconds, double? Accuracy,
    double? Quality, double? CalibrationError, double? CostPerInvocationUsd, double? HealthScore, string? HealthBand, double? AnomalyScore,
    string? AgentType, DateTimeOffset? LastSeen, string? Status);

/// <summary><c>GET /api/v1/metrics/agents</c>.</summary>
public sealed record AgentListResponse(string Tenant, string Window, IReadOnlyList<AgentSummary> Agents);

/// <summary><c>GET /api/v1/metrics/agents/{agent}</c>: one report per window.</summary>
public sealed record AgentMetricsResponse(string Tenant, string Agent, IReadOnlyList<AgentReport> Windows);

/// <summary><c>GET /api/v1/alerts</c>: the open alerts of the window and the alerts resolved since <c>ResolvedSince</c> (any window), newest first.</summary>
public sealed record AlertsResponse(string Tenant, string Window, DateTimeOffset Time, IReadOnlyList<AlertRecord> Alerts,
    DateTimeOffset ResolvedSince, IReadOnlyList<AlertRecord> Resolved, bool HistoryKept);

/// <summary><c>GET /api/v1/report</c> as JSON; <c>WorstRuns</c> are the runs behind each breach.</summary>
public sealed record ReportResponse(
    string Tenant, string Window, DateTimeOffset GeneratedAt, AgentReport System, IReadOnlyList<AgentReport> Agents,
    IReadOnlyList<ThresholdBreach> Breaches, IReadOnlyList<string> Recommendations, ThresholdSet Thresholds,
    IReadOnlyList<PerfOtel.Collector.Derived.Runs.WorstRun> WorstRuns);

/// <summary><c>GET /api/v1/agents/{agent}/prediction</c>.</summary>
public sealed record PredictionResponse(
    string Tenant, string Agent, string? TaskType, string Window, long Invocations, long Successes,
    double Alpha, double Beta, double Mean, double Lower90, double Upper90)
{
    public static PredictionResponse From(string tenant, string agent, string? taskType, string window, SuccessPredictionResult p) =>
        new(tenant, agent, taskType, window, p.Successes + p.Failures, p.Successes, p.Alpha, p.Beta, p.Mean, p.Lower, p.Upper);
}

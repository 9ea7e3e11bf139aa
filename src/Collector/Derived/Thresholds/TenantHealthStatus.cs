using PerfOtel.Collector.Derived.Analytics.Reports;

namespace PerfOtel.Collector.Derived.Thresholds;

/// <summary>
/// The one-word verdict of <c>GET /api/v1/health</c> for a tenant over a window, from its health band and the
/// threshold breaches of its agents now (docs/collector/rest-api.md):
/// <c>critical</c> when any agent breaches a critical threshold or the tenant's band is poor;
/// <c>degraded</c> when any agent breaches a warning threshold or the band is fair;
/// <c>ok</c> when the tenant has invocations in the window and neither holds;
/// <c>no_data</c> when it has none (nothing to judge).
/// </summary>
public static class TenantHealthStatus
{
    public const string Critical = "critical";
    public const string Degraded = "degraded";
    public const string Ok = "ok";
    public const string NoData = "no_data";

    /// <summary>The verdict for a tenant report and the counts of its agents' current breaches.</summary>
    public static string Of(AgentReport tenant, int criticalBreaches, int warningBreaches)
    {
        ArgumentNullException.ThrowIfNull(tenant);
        if (criticalBreaches > 0 || tenant.HealthBand == "poor")
        {
            return Critical;
        }
        if (warningBreaches > 0 || tenant.HealthBand == "fair")
        {
            return Degraded;
        }
        return tenant.Invocations > 0 ? Ok : NoData;
    }
}

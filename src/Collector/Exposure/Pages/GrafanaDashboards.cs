using System.Globalization;

namespace PerfOtel.Collector.Exposure.Pages;

/// <summary>
/// The Grafana dashboards (dashboards/grafana, by uid) that show what each page shows; a test checks every uid here
/// against the dashboard files, so a renamed dashboard cannot leave dead links behind.
/// </summary>
internal static class GrafanaDashboards
{
    public const string Overview = "perfotel-overview";
    public const string Agent = "perfotel-agent";
    public const string Quality = "perfotel-quality";
    public const string Cost = "perfotel-cost";
    public const string Providers = "perfotel-providers";
    public const string Experiments = "perfotel-experiments";

    public static readonly IReadOnlyList<string> All = [Overview, Agent, Quality, Cost, Providers, Experiments];

    /// <summary>The dashboard's address for a tenant (and agent), optionally over a time range.</summary>
    public static string Link(string grafanaUrl, string uid, string tenant, string? agent = null,
        DateTimeOffset? from = null, DateTimeOffset? to = null, string? experiment = null)
    {
        var link = $"{grafanaUrl.TrimEnd('/')}/d/{uid}?var-tenant={Uri.EscapeDataString(tenant)}";
        if (agent is not null)
        {
            link += "&var-agent=" + Uri.EscapeDataString(agent);
        }
        if (experiment is not null)
        {
            link += "&var-experiment=" + Uri.EscapeDataString(experiment);
        }
        if (from is { } start && to is { } end)
        {
            link += string.Create(CultureInfo.InvariantCulture, $"&from={start.ToUnixTimeMilliseconds()}&to={end.ToUnixTimeMilliseconds()}");
        }
        return link;
    }
}

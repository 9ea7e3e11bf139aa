using Microsoft.Extensions.Options;
using OxyPlot;
using OxyPlot.Series;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Budgets;
using PerfOtel.Collector.Derived.Thresholds;
using PerfOtel.Collector.Exposure.Api;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Exposure.Pages;

/// <summary>
/// <c>/ui/</c>: the tenant's health, its agents by band, the thresholds breached now and spend against budgets; the
/// answers of <c>/api/v1/health</c>, <c>/api/v1/metrics/agents</c>, <c>/api/v1/alerts</c> and <c>/api/v1/budgets</c>.
/// </summary>
internal static class OverviewPage
{
    public static readonly IReadOnlyList<string> Bands = ["excellent", "good", "fair", "poor"];

    public static async Task<IResult> HandleAsync(HttpContext context, RollingWindows windows, BudgetTracker budgets, AlertTracker alerts,
        TimeProvider clock, IOptions<UiOptions> options)
    {
        if (PageScope.Read(context, windows, options.Value, out var error) is not { } scope)
        {
            return error;
        }
        var evaluated = await alerts.EvaluateAsync(scope.Tenant, context.RequestAborted).ConfigureAwait(false);
        return UiEndpoints.Html(context, Render(scope, windows, budgets, evaluated, clock.GetUtcNow()));
    }

    /// <summary>The page for a scope (separate from the request so the benchmark measures exactly this).</summary>
    public static string Render(PageScope scope, RollingWindows windows, BudgetTracker budgetTracker, IReadOnlyList<AlertRecord> evaluatedAlerts,
        DateTimeOffset now)
    {
        var health = AnalyticsQueries.Health(windows, scope.Tenant, scope.Window);
        var agents = AnalyticsQueries.AgentList(windows, scope.Tenant, scope.Window);
        var alertWindow = windows.Windows[scope.Window].Name;
        var alerts = AnalyticsQueries.OpenAlerts(evaluatedAlerts, alertWindow);
        var budgets = CostEndpoints.Budgets(budgetTracker, scope.Tenant, now);

        var page = new PageWriter("Overview", scope.Tenant, scope.Carry, scope.SignedIn);
        page.Sources(scope.Rest("/api/v1/health", ("window", health.Window)), scope.Grafana(GrafanaDashboards.Overview), "PerfOtel / Overview");
        WindowChoice(page, scope, windows, "/ui/");
        page.Raw("<section aria-labelledby=\"health\">").Heading($"Tenant health ({health.Window})", "health").Figures()
            .Raw("<div class=\"figure\"><dt>Status</dt><dd data-metric=\"status\" data-value=\"").Raw(PageWriter.Attribute(health.Status))
            .Raw("\" class=\"").Raw(StatusClass(health.Status)).Raw("\">").Text(health.Status.Replace('_', ' ')).Raw("</dd></div>")
            .Figure("Health score" + (health.HealthBand is { } band ? $" ({band})" : string.Empty), "healthScore", health.HealthScore, NumberFormat.Score)
            .Figure("Agents", "agents", health.Agents, NumberFormat.Count)
            .Figure("Invocations", "invocations", health.Invocations, NumberFormat.Count)
            .Figure("Critical alerts", "criticalAlerts", health.CriticalAlerts, NumberFormat.Count)
            .Figure("Warning alerts", "warningAlerts", health.WarningAlerts, NumberFormat.Count)
            .EndFigures().Raw("</section>");

        page.Raw("<section aria-labelledby=\"bands\">").Heading("Agents by band", "bands");
        var (model, series) = Charts.Bars(Bands, "Agents", 0, null, "0", counts: true);
        foreach (var name in Bands)
        {
            series.Items.Add(new BarItem(health.AgentsByBand.GetValueOrDefault(name)) { Color = BandColor(name) });
        }
        series.LabelFormatString = "{0}";
        var bandSummary = string.Join(", ", Bands.Select(b => $"{b} {health.AgentsByBand.GetValueOrDefault(b)}"));
        page.Chart(Charts.Svg(model, Charts.BarsHeight(Bands.Count), "chart-bands", "Agents by health band",
                $"Number of agents in each health band over {health.Window}: {bandSummary}."),
            "Agents per health band (90+ excellent, 70-89 good, 50-69 fair, below 50 poor); every agent is in the table below.");
        page.Sources(scope.Rest("/api/v1/metrics/agents", ("window", agents.Window)), null, null);
        page.Table($"Agents of tenant {scope.Tenant} over {agents.Window}", "Agent", "Band", "Health", "Invocations", "Success",
            "Errors", "p95 latency", "Accuracy", "Cost / invocation", "Status");
        foreach (var agent in agents.Agents.OrderBy(a => a.HealthScore ?? double.MaxValue).ThenBy(a => a.Agent, StringComparer.Ordinal))
        {
            page.Row(agent.Agent).RowHeader(agent.Agent, scope.Page("/ui/agents/" + Uri.EscapeDataString(agent.Agent)))
                .Cell(agent.HealthBand, agent.HealthBand is null ? null : "band-" + agent.HealthBand)
                .Number("healthScore", agent.HealthScore, NumberFormat.Score)
                .Number("invocations", agent.Invocations, NumberFormat.Count)
                .Number("successRate", agent.SuccessRate, NumberFormat.Percent)
                .Number("errorRate", agent.ErrorRate, NumberFormat.Percent)
                .Number("latencyP95Seconds", agent.LatencyP95Seconds, NumberFormat.Seconds)
                .Number("accuracy", agent.Accuracy, NumberFormat.Percent)
                .Number("costPerInvocationUsd", agent.CostPerInvocationUsd, NumberFormat.Usd)
                .Cell(agent.Status).EndRow();
        }
        page.EndTable().Raw("</section>");

        page.Raw("<section aria-labelledby=\"breaches\">").Heading("Current breaches", "breaches")
            .Sources(scope.Rest("/api/v1/alerts", ("window", alertWindow)), scope.Grafana(GrafanaDashboards.Overview), "PerfOtel / Overview (firing alerts)");
        if (alerts.Count == 0)
        {
            page.Paragraph($"No agent breaches a threshold over {alertWindow}.", "ok");
        }
        else
        {
            page.Table($"Thresholds breached over {alertWindow}, critical first", "Agent", "Level", "Metric", "Value", "Threshold", "What it means");
            foreach (var breach in alerts)
            {
                page.Row(breach.Agent + "/" + breach.Metric).RowHeader(breach.Agent, scope.Page("/ui/agents/" + Uri.EscapeDataString(breach.Agent)))
                    .Cell(breach.Level, breach.Level).Cell(breach.Metric)
                    .Number("value", breach.Value, NumberFormat.Plain).Number("threshold", breach.Threshold, NumberFormat.Plain)
                    .Cell(breach.Message + ". " + breach.Recommendation).EndRow();
            }
            page.EndTable();
        }
        page.Raw("</section>");

        page.Raw("<section aria-labelledby=\"budgets\">").Heading("Spend against budgets", "budgets")
            .Sources(scope.Rest("/api/v1/budgets"), scope.Grafana(GrafanaDashboards.Cost), "PerfOtel / Cost and budgets");
        var periods = budgets.Budgets.SelectMany(b => b.Periods.Select(p => (Scope: b.Agent ?? "whole tenant", Period: p))).ToList();
        if (periods.Count == 0)
        {
            page.Paragraph("No budget is configured for this tenant (Budgets:Tenants).");
        }
        else
        {
            var labels = periods.Select(p => $"{p.Scope} · {p.Period.Period}").ToList();
            var (budgetModel, budgetSeries) = Charts.Bars(labels, "Share of the limit spent", 0,
                Math.Max(1.2, periods.Max(p => p.Period.Utilization) * 1.1), "0%");
            foreach (var (_, period) in periods)
            {
                budgetSeries.Items.Add(new BarItem(period.Utilization)
                {
                    Color = period.Status switch { "critical" => Charts.Red, "warning" => Charts.Amber, _ => Charts.Green },
                });
            }
            budgetSeries.LabelFormatString = "{0:0%}";
            var budgetSummary = string.Join("; ", periods.Select(p =>
                $"{p.Scope} {p.Period.Period}: {PageWriter.Show(p.Period.SpendUsd, NumberFormat.Usd)} of {PageWriter.Show(p.Period.LimitUsd, NumberFormat.Usd)} ({p.Period.Status})"));
            page.Chart(Charts.Svg(budgetModel, Charts.BarsHeight(labels.Count), "chart-budgets", "Spend against budgets",
                    $"Share of each budget spent in its current period; warning at {budgets.WarningRatio:0%}, critical at {budgets.CriticalRatio:0%}. {budgetSummary}."),
                "Share of each budget limit spent in the current period; the table below has the amounts.");
            page.Table("Budgets in their current period", "Scope", "Period", "Spend", "Limit", "Used", "Status", "Month projected");
            foreach (var budget in budgets.Budgets)
            {
                foreach (var period in budget.Periods)
                {
                    page.Row((budget.Agent ?? "") + "/" + period.Period).RowHeader(budget.Agent ?? "whole tenant").Cell(period.Period)
                        .Number("spendUsd", period.SpendUsd, NumberFormat.Usd).Number("limitUsd", period.LimitUsd, NumberFormat.Usd)
                        .Number("utilization", period.Utilization, NumberFormat.Percent).Cell(period.Status, period.Status)
                        .Number("projectedMonthSpendUsd", budget.ProjectedMonthSpendUsd, NumberFormat.Usd).EndRow();
                }
            }
            page.EndTable();
        }
        page.Raw("</section>");
        return page.Finish(now);
    }

    /// <summary>Links to the same page over each configured window.</summary>
    public static void WindowChoice(PageWriter page, PageScope scope, RollingWindows windows, string path)
    {
        page.Raw("<nav aria-label=\"Window\" class=\"sources\">Window: ");
        var tenant = scope.Carry.TrimStart('?').Split('&').FirstOrDefault(p => p.StartsWith("tenant=", StringComparison.Ordinal));
        for (var i = 0; i < windows.Windows.Count; i++)
        {
            var name = windows.Windows[i].Name;
            var query = "?" + (tenant is null ? string.Empty : tenant + "&") + "window=" + Uri.EscapeDataString(name);
            if (i == scope.Window)
            {
                page.Raw("<strong aria-current=\"page\">").Text(name).Raw("</strong> ");
            }
            else
            {
                page.Link(path + query, name).Raw(" ");
            }
        }
        page.Raw("</nav>");
    }

    public static string StatusClass(string status) => status switch
    {
        "critical" => "critical",
        "degraded" => "warning",
        "ok" => "ok",
        _ => string.Empty,
    };

    public static OxyColor BandColor(string band) => band switch
    {
        "excellent" => Charts.Green,
        "good" => Charts.Blue,
        "fair" => Charts.Amber,
        _ => Charts.Red,
    };
}

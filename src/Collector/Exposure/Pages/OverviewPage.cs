using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using OxyPlot;
using OxyPlot.Series;
using PerfOtel.Collector.Derived.Analytics.Reports;
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
        // One view of the tenant's agents for the whole page: the figures, the bands and the table agree with each other.
        var view = windows.View(scope.Tenant, scope.Window);
        var health = AnalyticsQueries.Health(windows, view);
        var agents = AnalyticsQueries.AgentList(windows, view);
        var alertWindow = windows.Windows[scope.Window].Name;
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
        page.Raw(view.Memo("ui/overview/bands", _ => BandChart(health)));
        page.Sources(scope.Rest("/api/v1/metrics/agents", ("window", agents.Window)), null, null);
        // The table of every agent is most of the page: kept with the tenant's view, so it is written once per change of
        // the data (and per query carried in its links), and a new view after new data writes it anew.
        page.Raw(view.Memo("ui/overview/agents" + scope.Carry, v => AgentTable(scope, v, agents)));
        page.Raw("</section>");

        page.Raw("<section aria-labelledby=\"breaches\">").Heading("Current breaches", "breaches")
            .Sources(scope.Rest("/api/v1/alerts", ("window", alertWindow)), scope.Grafana(GrafanaDashboards.Overview), "PerfOtel / Overview (firing alerts)");
        // The alert tracker answers with the same list until an evaluation changes the open alerts: the breaches table
        // is kept with that list.
        var kept = BreachTables.GetValue(evaluatedAlerts, static _ => new ConcurrentDictionary<string, string>(StringComparer.Ordinal));
        var breachKey = alertWindow + "\n" + scope.Carry;
        if (!kept.TryGetValue(breachKey, out var breachTable))
        {
            breachTable = BreachTable(scope, AnalyticsQueries.OpenAlerts(evaluatedAlerts, alertWindow), alertWindow);
            if (kept.Count < 64)
            {
                kept.TryAdd(breachKey, breachTable);
            }
        }
        page.Raw(breachTable).Raw("</section>");

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

    private static readonly ConditionalWeakTable<IReadOnlyList<AlertRecord>, ConcurrentDictionary<string, string>> BreachTables = new();


    /// <summary>A row of the agents' table, kept with the report it shows (and the query its link carries).</summary>
    private static readonly ConditionalWeakTable<AgentReport, KeptRow> AgentRows = new();

    /// <summary>A row of the breaches' table, kept with the alert it shows (an alert whose value moves is a new record).</summary>
    private static readonly ConditionalWeakTable<AlertRecord, KeptRow> BreachRows = new();

    /// <summary>The bands chart by what it draws (the window and the four counts): the counts rarely change.</summary>
    private static readonly ConcurrentDictionary<string, string> BandCharts = new(StringComparer.Ordinal);

    private sealed record KeptRow(string Carry, string Html);

    private static string BandChart(HealthResponse health)
    {
        var key = health.Window + "|" + string.Join(',', Bands.Select(b => health.AgentsByBand.GetValueOrDefault(b)));
        if (BandCharts.TryGetValue(key, out var kept))
        {
            return kept;
        }
        var (model, series) = Charts.Bars(Bands, "Agents", 0, null, "0", counts: true);
        foreach (var name in Bands)
        {
            series.Items.Add(new BarItem(health.AgentsByBand.GetValueOrDefault(name)) { Color = BandColor(name) });
        }
        series.LabelFormatString = "{0}";
        var bandSummary = string.Join(", ", Bands.Select(b => $"{b} {health.AgentsByBand.GetValueOrDefault(b)}"));
        var chart = PageWriter.Fragment(8 * 1024).Chart(Charts.Svg(model, Charts.BarsHeight(Bands.Count), "chart-bands", "Agents by health band",
                $"Number of agents in each health band over {health.Window}: {bandSummary}."),
            "Agents per health band (90+ excellent, 70-89 good, 50-69 fair, below 50 poor); every agent is in the table below.").Markup();
        if (BandCharts.Count > 256)
        {
            BandCharts.Clear();
        }
        BandCharts[key] = chart;
        return chart;
    }

    /// <summary>The agents' table: <paramref name="agents"/> is the answer drawn from <paramref name="view"/>, one summary per report.</summary>
    private static string AgentTable(PageScope scope, TenantView view, AgentListResponse agents)
    {
        var page = PageWriter.Fragment(agents.Agents.Count * 1100 + 1024);
        page.Table($"Agents of tenant {scope.Tenant} over {agents.Window}", "Agent", "Band", "Health", "Invocations", "Success",
            "Errors", "p95 latency", "Accuracy", "Cost / invocation", "Status");
        var rows = agents.Agents.Select((summary, i) => (Summary: summary, Report: view.Reports[i]))
            .OrderBy(r => r.Summary.HealthScore ?? double.MaxValue).ThenBy(r => r.Summary.Agent, StringComparer.Ordinal);
        foreach (var (agent, report) in rows)
        {
            if (!AgentRows.TryGetValue(report, out var row) || row.Carry != scope.Carry)
            {
                var cells = PageWriter.Fragment(1200);
                cells.Row(agent.Agent).RowHeader(agent.Agent, scope.Page("/ui/agents/" + Uri.EscapeDataString(agent.Agent)))
                    .Cell(agent.HealthBand, agent.HealthBand is null ? null : "band-" + agent.HealthBand)
                    .Number("healthScore", agent.HealthScore, NumberFormat.Score)
                    .Number("invocations", agent.Invocations, NumberFormat.Count)
                    .Number("successRate", agent.SuccessRate, NumberFormat.Percent)
                    .Number("errorRate", agent.ErrorRate, NumberFormat.Percent)
                    .Number("latencyP95Seconds", agent.LatencyP95Seconds, NumberFormat.Seconds)
                    .Number("accuracy", agent.Accuracy, NumberFormat.Percent)
                    .Number("costPerInvocationUsd", agent.CostPerInvocationUsd, NumberFormat.Usd)
                    .Cell(agent.Status).EndRow();
                row = new KeptRow(scope.Carry, cells.Markup());
                AgentRows.AddOrUpdate(report, row);
            }
            page.Raw(row.Html);
        }
        return page.EndTable().Markup();
    }

    private static string BreachTable(PageScope scope, List<AlertRecord> alerts, string alertWindow)
    {
        var page = PageWriter.Fragment(alerts.Count * 900 + 1024);
        if (alerts.Count == 0)
        {
            page.Paragraph($"No agent breaches a threshold over {alertWindow}.", "ok");
            return page.Markup();
        }
        page.Table($"Thresholds breached over {alertWindow}, critical first", "Agent", "Level", "Metric", "Value", "Threshold", "What it means");
        foreach (var breach in alerts)
        {
            if (!BreachRows.TryGetValue(breach, out var row) || row.Carry != scope.Carry)
            {
                var cells = PageWriter.Fragment(1200);
                cells.Row(breach.Agent + "/" + breach.Metric).RowHeader(breach.Agent, scope.Page("/ui/agents/" + Uri.EscapeDataString(breach.Agent)))
                    .Cell(breach.Level, breach.Level).Cell(breach.Metric)
                    .Number("value", breach.Value, NumberFormat.Plain).Number("threshold", breach.Threshold, NumberFormat.Plain)
                    .Cell(breach.Message + ". " + breach.Recommendation).EndRow();
                row = new KeptRow(scope.Carry, cells.Markup());
                BreachRows.AddOrUpdate(breach, row);
            }
            page.Raw(row.Html);
        }
        return page.EndTable().Markup();
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

using Microsoft.Extensions.Options;
using OxyPlot.Series;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Models;
using PerfOtel.Collector.Exposure.Api;

namespace PerfOtel.Collector.Exposure.Pages;

/// <summary><c>/ui/models</c>: the model comparison and the cheaper-model advice of <c>/api/v1/models</c>.</summary>
internal static class ModelsPage
{
    public static IResult Handle(HttpContext context, RollingWindows windows, ModelComparison comparison,
        IModelRecommendations recommendations, IOptions<UiOptions> options)
    {
        // The model comparison has windows of its own (Models:Windows): read the window here, the rest as on every page.
        string? windowName = context.Request.Query["window"];
        var window = windowName is null ? comparison.Options.Windows[0] : comparison.Window(windowName);
        if (window is null)
        {
            return UiEndpoints.Problem(context, null, StatusCodes.Status400BadRequest, "Bad request",
                $"window must be one of {string.Join(", ", comparison.Options.Windows.Select(w => w.Name))}, was '{windowName}'.");
        }
        if (PageScope.Read(context, windows, options.Value, out var error, extra: ["window"], ignoreWindow: true) is not { } scope)
        {
            return error;
        }
        var models = CostEndpoints.Models(comparison, recommendations, scope.Tenant, window);
        return UiEndpoints.Html(context, Render(scope, models, comparison.Options.Windows.Select(w => w.Name).ToList()));
    }

    public static string Render(PageScope scope, ModelsResponse models, IReadOnlyList<string> windowNames)
    {
        var page = new PageWriter("Models", scope.Tenant, scope.Carry, scope.SignedIn);
        page.Sources(scope.Rest("/api/v1/models", ("window", models.Window)), scope.Grafana(GrafanaDashboards.Cost), "PerfOtel / Cost and budgets (model comparison)");
        page.Raw("<nav aria-label=\"Window\" class=\"sources\">Window: ");
        foreach (var name in windowNames)
        {
            if (name == models.Window)
            {
                page.Raw("<strong aria-current=\"page\">").Text(name).Raw("</strong> ");
            }
            else
            {
                page.Link(scope.Rest("/ui/models", ("window", name)), name).Raw(" ");
            }
        }
        page.Raw("</nav>");

        page.Raw("<section aria-labelledby=\"advice\">").Heading("Cheaper models for the same work", "advice");
        if (models.Recommendations.Count == 0)
        {
            page.Paragraph("No cheaper model has done the same agent's work on the same task type as well as a model in use, with enough invocations to say so (95 % intervals; Models settings).");
        }
        else
        {
            page.Table("Recommendations", "Agent and task type", "Instead of", "Use", "Cost / invocation now", "Cost / invocation then", "Saving",
                "Success now", "Success then", "Difference (95 % interval)", "Why");
            foreach (var advice in models.Recommendations)
            {
                var difference = advice.SuccessRateDifference;
                page.Row($"{advice.Agent}/{advice.TaskType}/{advice.CurrentProvider}/{advice.CurrentModel}")
                    .RowHeader($"{advice.Agent} ({advice.TaskType})")
                    .Cell($"{advice.CurrentProvider} {advice.CurrentModel} ({advice.CurrentInvocations} invocations)")
                    .Cell($"{advice.RecommendedProvider} {advice.RecommendedModel} ({advice.RecommendedInvocations} invocations)")
                    .Number("currentCostPerInvocationUsd", advice.CurrentCostPerInvocationUsd, NumberFormat.Usd)
                    .Number("recommendedCostPerInvocationUsd", advice.RecommendedCostPerInvocationUsd, NumberFormat.Usd)
                    .Number("savingsRatio", advice.SavingsRatio, NumberFormat.Percent)
                    .Number("currentSuccessRate", advice.CurrentSuccessRate.Estimate, NumberFormat.Percent)
                    .Number("recommendedSuccessRate", advice.RecommendedSuccessRate.Estimate, NumberFormat.Percent)
                    .Cell(FormattableString.Invariant($"{difference.Estimate * 100:+0.#;-0.#;0} points [{difference.Lower * 100:0.#}, {difference.Upper * 100:0.#}]"))
                    .Cell(advice.Reason).EndRow();
            }
            page.EndTable();
        }
        if (models.ExperimentAdvice.Count > 0)
        {
            // A defined experiment that compared two models of one agent decides that pair instead of the comparison.
            page.Table("Decided by experiments", "Agent and task type", "Experiment", "Verdict", "Dearer model", "Cheaper model", "Advised", "Why");
            foreach (var decision in models.ExperimentAdvice)
            {
                page.Row($"{decision.Agent}/{decision.TaskType}/{decision.Experiment}/{decision.CandidateVariant}")
                    .RowHeader($"{decision.Agent} ({decision.TaskType})")
                    .Cell(decision.Experiment)
                    .Cell(decision.Verdict)
                    .Cell($"{decision.CurrentProvider} {decision.CurrentModel} (variant {decision.CurrentVariant}, {decision.CurrentInvocations} invocations)")
                    .Cell($"{decision.CandidateProvider} {decision.CandidateModel} (variant {decision.CandidateVariant}, {decision.CandidateInvocations} invocations)")
                    .Cell(decision.Advised ? "yes" : "no")
                    .Cell(decision.Reason).EndRow();
            }
            page.EndTable();
        }
        page.Raw("</section>");

        page.Raw("<section aria-labelledby=\"comparison\">").Heading($"Comparison over {models.Window}", "comparison");
        if (models.Models.Count == 0)
        {
            page.Paragraph("No provider call in this window.");
        }
        else
        {
            var labels = models.Models.Select(m => $"{m.Provider} {m.Model}").ToList();
            var (model, series) = Charts.Bars(labels, "Cost per invocation (USD)", 0, null, "0.####");
            foreach (var stats in models.Models)
            {
                series.Items.Add(new BarItem(stats.CostPerInvocationUsd ?? 0));
            }
            page.Chart(Charts.Svg(model, Charts.BarsHeight(labels.Count), "chart-models", "Cost per invocation by model",
                    "Cost per invocation served: " + string.Join("; ", models.Models.Select(m =>
                        $"{m.Provider} {m.Model} {PageWriter.Show(m.CostPerInvocationUsd, NumberFormat.Usd)}, success {PageWriter.Show(m.SuccessRate, NumberFormat.Percent)}")) + "."),
                "Cost per invocation each model served (no bar: no fully priced invocation); the table compares quality, latency and cost.");
            page.Table($"Models over {models.Window}", "Model", "Calls", "Error rate", "p95 latency", "Invocations", "Success", "Accuracy", "Cost / invocation", "Cost / call", "Cost");
            foreach (var stats in models.Models)
            {
                page.Row($"{stats.Provider}/{stats.Model}").RowHeader($"{stats.Provider} {stats.Model}")
                    .Number("calls", stats.Calls, NumberFormat.Count)
                    .Number("errorRate", stats.ErrorRate, NumberFormat.Percent)
                    .Number("latencyP95Seconds", stats.LatencyP95Seconds, NumberFormat.Seconds)
                    .Number("invocations", stats.Invocations, NumberFormat.Count)
                    .Number("successRate", stats.SuccessRate, NumberFormat.Percent)
                    .Number("accuracy", stats.Accuracy, NumberFormat.Percent)
                    .Number("costPerInvocationUsd", stats.CostPerInvocationUsd, NumberFormat.Usd)
                    .Number("costPerCallUsd", stats.CostPerCallUsd, NumberFormat.Usd)
                    .Number("costUsd", stats.CostUsd, NumberFormat.Usd).EndRow();
            }
            page.EndTable();
        }
        page.Raw("</section>");
        return page.Finish(models.AsOf);
    }
}

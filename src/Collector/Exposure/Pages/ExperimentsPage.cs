using Microsoft.Extensions.Options;
using OxyPlot.Axes;
using OxyPlot.Series;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Experiments;
using PerfOtel.Collector.Exposure.Api;

namespace PerfOtel.Collector.Exposure.Pages;

/// <summary><c>/ui/experiments</c>: every experiment of <c>/api/v1/experiments</c>, its variants, intervals and verdict.</summary>
internal static class ExperimentsPage
{
    public static IResult Handle(HttpContext context, RollingWindows windows, ExperimentRegistry registry, TimeProvider clock,
        IOptions<UiOptions> options)
    {
        if (PageScope.Read(context, windows, options.Value, out var error) is not { } scope)
        {
            return error;
        }
        return UiEndpoints.Html(context, Render(scope, CostEndpoints.ExperimentList(registry, scope.Tenant), clock.GetUtcNow()));
    }

    public static string Render(PageScope scope, ExperimentsResponse experiments, DateTimeOffset now)
    {
        var page = new PageWriter("Experiments", scope.Tenant, scope.Carry, scope.SignedIn);
        page.Sources(scope.Rest("/api/v1/experiments"), scope.Grafana(GrafanaDashboards.Quality), "PerfOtel / Quality (success and accuracy by agent)");
        if (experiments.Experiments.Count == 0)
        {
            page.Paragraph("No invocation of this tenant carried perfotel.experiment and perfotel.variant yet.");
        }
        var index = 0;
        foreach (var experiment in experiments.Experiments)
        {
            index++;
            var id = $"experiment-{index}";
            page.Raw($"<section aria-labelledby=\"{id}\">").Heading("Experiment " + experiment.Experiment, id)
                .Sources(scope.Rest("/api/v1/experiments/" + Uri.EscapeDataString(experiment.Experiment)), null, null);
            var verdict = experiment.Analysis is { } analysis
                ? $"Verdict: {analysis.Verdict.Replace('_', ' ')}{(analysis.Winner is { } w ? $" ({w})" : string.Empty)}. {analysis.Reason}"
                : $"State: {experiment.State.Replace('_', ' ')}{(experiment.Winner is { } winner ? $", winner {winner}" : string.Empty)}" +
                  $"{(experiment.PValue is { } p ? $", p = {PageWriter.Show(p, NumberFormat.Plain)}" : string.Empty)}.";
            page.Raw("<p data-metric=\"verdict\" data-value=\"").Raw(PageWriter.Attribute(experiment.Analysis?.Verdict ?? experiment.State))
                .Raw("\">").Text(verdict).Raw("</p>");

            // The primary metric's estimate with its interval per variant when the analysis has them, else the success rate alone.
            var estimates = experiment.Variants.Select(v =>
            {
                var metric = experiment.Analysis?.Variants.FirstOrDefault(a => a.Variant == v.Variant)?.Metrics
                    .FirstOrDefault(m => m.Metric == experiment.Analysis.PrimaryMetric);
                return (v.Variant, Estimate: metric?.Estimate?.Estimate ?? v.SuccessRate, metric?.Estimate?.Lower, metric?.Estimate?.Upper);
            }).ToList();
            var metricName = experiment.Analysis?.PrimaryMetric ?? "success rate";
            var model = Charts.Model();
            model.PlotMargins = Charts.MarginsFor(estimates.Select(e => e.Variant));
            var axis = Charts.Categories(AxisPosition.Left, estimates.Select(e => e.Variant));
            model.Axes.Add(axis);
            model.Axes.Add(Charts.Linear(AxisPosition.Bottom, metricName + " (bar: estimate; whisker: interval)", null, null, null));
            var bars = new BarSeries { FillColor = Charts.Blue, StrokeThickness = 0, LabelFormatString = "{0:0.###}", LabelPlacement = LabelPlacement.Inside };
            var intervals = new IntervalBarSeries
            {
                FillColor = OxyPlot.OxyColor.FromAColor(90, Charts.Amber), StrokeColor = Charts.Amber, StrokeThickness = 1.5, BarWidth = 0.25,
                LabelFormatString = null,
            };
            foreach (var estimate in estimates)
            {
                bars.Items.Add(new BarItem(estimate.Estimate ?? 0));
                intervals.Items.Add(estimate.Lower is { } lower && estimate.Upper is { } upper ? new IntervalBarItem(lower, upper) : new IntervalBarItem(0, 0));
            }
            model.Series.Add(bars);
            if (estimates.Any(e => e.Lower is not null))
            {
                model.Series.Add(intervals);
            }
            page.Chart(Charts.Svg(model, Charts.BarsHeight(estimates.Count), $"chart-{id}", $"{experiment.Experiment}: {metricName} per variant",
                    string.Join("; ", estimates.Select(e => $"{e.Variant}: {PageWriter.Show(e.Estimate, NumberFormat.Plain)}" +
                        (e.Lower is { } l && e.Upper is { } u ? $" (interval {PageWriter.Show(l, NumberFormat.Plain)} to {PageWriter.Show(u, NumberFormat.Plain)})" : string.Empty))) + "."),
                $"Estimate of {metricName} per variant, with its confidence interval where the analysis gives one; the table has the figures.");
            page.Table($"Variants of {experiment.Experiment}", "Variant", "Invocations", "Success rate", "p95 latency", "Cost / invocation", "Quality", "Accuracy", "p against leader");
            foreach (var variant in experiment.Variants)
            {
                page.Row(variant.Variant).RowHeader(variant.Variant)
                    .Number("invocations", variant.Invocations, NumberFormat.Count)
                    .Number("successRate", variant.SuccessRate, NumberFormat.Percent)
                    .Number("latencyP95Seconds", variant.LatencyP95Seconds, NumberFormat.Seconds)
                    .Number("costPerInvocationUsd", variant.CostPerInvocationUsd, NumberFormat.Usd)
                    .Number("meanQuality", variant.MeanQuality, NumberFormat.Plain)
                    .Number("meanAccuracy", variant.MeanAccuracy, NumberFormat.Plain)
                    .Number("pValueAgainstLeader", variant.PValueAgainstLeader, NumberFormat.Plain).EndRow();
            }
            page.EndTable().Raw("</section>");
        }
        return page.Finish(now);
    }
}

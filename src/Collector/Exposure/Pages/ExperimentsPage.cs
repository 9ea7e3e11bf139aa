using Microsoft.Extensions.Options;
using OxyPlot.Axes;
using OxyPlot.Series;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Experiments;
using PerfOtel.Collector.Exposure.Api;

namespace PerfOtel.Collector.Exposure.Pages;

/// <summary>
/// <c>/ui/experiments</c>: every experiment of <c>/api/v1/experiments</c> with its verdict, each variant's estimate of
/// the primary metric with its confidence interval, and every metric's estimate, difference and lift against the control.
/// </summary>
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
        page.Sources(scope.Rest("/api/v1/experiments"), scope.Grafana(GrafanaDashboards.Experiments), "PerfOtel / Experiments");
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
                .Sources(scope.Rest("/api/v1/experiments/" + Uri.EscapeDataString(experiment.Experiment)),
                    scope.Grafana(GrafanaDashboards.Experiments, experiment: experiment.Experiment), "PerfOtel / Experiments (this experiment)");
            if (experiment.Analysis is not { } analysis)
            {
                page.Paragraph("No variant has data yet.").Raw("</section>");
                continue;
            }
            page.Raw("<p data-metric=\"verdict\" data-value=\"").Raw(PageWriter.Attribute(analysis.Verdict)).Raw("\"><strong>")
                .Text(analysis.Verdict.Replace('_', ' ') + (analysis.Winner is { } w ? $" ({w})" : string.Empty)).Raw("</strong>. ")
                .Text(analysis.Reason).Raw("</p>")
                .Paragraph($"Control {analysis.Control}; primary metric {analysis.PrimaryMetric}; {analysis.ConfidenceLevel:0.##%} intervals; " +
                           $"at least {analysis.MinSamplesPerVariant} invocations per variant" +
                           (experiment.Defined ? "." : " (not declared in Experiments:Definitions: defaults apply)."), "sources");
            if (analysis.SampleRatio is { Mismatch: true } srm)
            {
                page.Raw("<p class=\"critical\" role=\"alert\">").Text($"Sample ratio mismatch (p = {PageWriter.Show(srm.PValue, NumberFormat.Plain)}): " +
                    "the variants did not receive the traffic their weights intend, so the comparison is not trustworthy.").Raw("</p>");
            }

            var primary = analysis.Variants.Select(v => (v.Variant, Metric: v.Metrics.FirstOrDefault(m => m.Metric == analysis.PrimaryMetric))).ToList();
            var model = Charts.Model();
            model.PlotMargins = Charts.MarginsFor(primary.Select(p => p.Variant));
            model.Axes.Add(Charts.Categories(AxisPosition.Left, primary.Select(p => p.Variant)));
            model.Axes.Add(Charts.Linear(AxisPosition.Bottom, $"{analysis.PrimaryMetric} (bar: estimate; band: interval)", null, null, null));
            var bars = new BarSeries { FillColor = Charts.Blue, StrokeThickness = 0, BarWidth = 0.5 };
            var intervals = new IntervalBarSeries
            {
                FillColor = OxyPlot.OxyColor.FromAColor(110, Charts.Amber), StrokeColor = Charts.Amber, StrokeThickness = 1.5, BarWidth = 0.25,
                LabelFormatString = null,
            };
            foreach (var (_, metric) in primary)
            {
                bars.Items.Add(new BarItem(metric?.Estimate?.Estimate ?? 0));
                intervals.Items.Add(metric?.Estimate is { } e ? new IntervalBarItem(e.Lower, e.Upper) : new IntervalBarItem(0, 0));
            }
            model.Series.Add(bars);
            model.Series.Add(intervals);
            page.Chart(Charts.Svg(model, Charts.BarsHeight(primary.Count), $"chart-{id}", $"{experiment.Experiment}: {analysis.PrimaryMetric} per variant",
                    string.Join("; ", primary.Select(p => $"{p.Variant}: " + (p.Metric?.Estimate is { } e
                        ? $"{PageWriter.Show(e.Estimate, NumberFormat.Plain)} (interval {PageWriter.Show(e.Lower, NumberFormat.Plain)} to {PageWriter.Show(e.Upper, NumberFormat.Plain)})"
                        : "no estimate yet"))) + "."),
                $"Estimate of {analysis.PrimaryMetric} per variant with its confidence interval; the tables have every metric.");

            page.Table($"Variants of {experiment.Experiment}", "Variant", "Invocations", "Intended weight", "p95 latency", "p95 lower", "p95 upper");
            foreach (var variant in analysis.Variants)
            {
                page.Row(variant.Variant).RowHeader(variant.Variant + (variant.Variant == analysis.Control ? " (control)" : string.Empty))
                    .Number("invocations", variant.Invocations, NumberFormat.Count)
                    .Number("intendedWeight", variant.IntendedWeight, NumberFormat.Plain)
                    .Number("latencyP95", variant.LatencyP95?.Estimate, NumberFormat.Seconds)
                    .Number("latencyP95Lower", variant.LatencyP95?.Lower, NumberFormat.Seconds)
                    .Number("latencyP95Upper", variant.LatencyP95?.Upper, NumberFormat.Seconds).EndRow();
            }
            page.EndTable();
            page.Table($"Metrics of {experiment.Experiment} against the control", "Variant", "Metric", "Samples", "Estimate", "Lower", "Upper",
                "Difference", "Lift", "p-value");
            foreach (var variant in analysis.Variants)
            {
                foreach (var metric in variant.Metrics)
                {
                    page.Row($"{variant.Variant}/{metric.Metric}").RowHeader(variant.Variant).Cell(metric.Metric)
                        .Number("samples", metric.Samples, NumberFormat.Count)
                        .Number("estimate", metric.Estimate?.Estimate, NumberFormat.Plain)
                        .Number("lower", metric.Estimate?.Lower, NumberFormat.Plain)
                        .Number("upper", metric.Estimate?.Upper, NumberFormat.Plain)
                        .Number("difference", metric.Difference?.Estimate, NumberFormat.Plain)
                        .Number("lift", metric.Lift?.Estimate, NumberFormat.Percent)
                        .Number("pValue", metric.PValue, NumberFormat.Plain).EndRow();
                }
            }
            page.EndTable().Raw("</section>");
        }
        return page.Finish(now);
    }
}

using System.Globalization;
using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Series;

namespace PerfOtel.Collector.Exposure.Pages;

/// <summary>
/// The pages' charts: OxyPlot models exported to SVG on the server by OxyPlot's own <see cref="SvgExporter"/>, inlined
/// into the page (no script, no request of its own). Each SVG gets a <c>title</c> and <c>desc</c> (its text
/// alternative, <c>role="img"</c>) and, for charts whose points carry values, the mapping of each axis from data to
/// SVG coordinates in <c>data-x-*</c> / <c>data-y-*</c> attributes, so what is drawn can be read back.
/// </summary>
internal static class Charts
{
    public const double Width = 640;

    private static readonly OxyColor Ink = OxyColor.FromRgb(0x1b, 0x1f, 0x24);
    private static readonly OxyColor Grid = OxyColor.FromRgb(0xe1, 0xe4, 0xe8);
    public static readonly OxyColor Blue = OxyColor.FromRgb(0x0a, 0x4f, 0xb4);
    public static readonly OxyColor Green = OxyColor.FromRgb(0x1a, 0x6b, 0x2d);
    public static readonly OxyColor Amber = OxyColor.FromRgb(0xb3, 0x5c, 0x00);
    public static readonly OxyColor Red = OxyColor.FromRgb(0xa4, 0x00, 0x0f);
    public static readonly OxyColor Grey = OxyColor.FromRgb(0x6a, 0x73, 0x7d);

    /// <summary>A model with the pages' look: no title inside (the page has headings), readable fonts, light grid.</summary>
    public static PlotModel Model() => new()
    {
        Background = OxyColors.White,
        TextColor = Ink,
        PlotAreaBorderColor = Grey,
        DefaultFont = "Arial, Helvetica, sans-serif",
        DefaultFontSize = 12,
        Padding = new OxyThickness(8, 12, 16, 8),
    };

    public static LinearAxis Linear(AxisPosition position, string title, double? minimum = null, double? maximum = null,
        string? format = null) => new()
        {
            Position = position,
            Title = title,
            Minimum = minimum ?? double.NaN,
            Maximum = maximum ?? double.NaN,
            MajorGridlineStyle = LineStyle.Solid,
            MajorGridlineColor = Grid,
            StringFormat = format,
            AxislineColor = Grey,
            TicklineColor = Grey,
            AxisTitleDistance = 10,
            IsPanEnabled = false,
            IsZoomEnabled = false,
        };

    public static CategoryAxis Categories(AxisPosition position, IEnumerable<string> labels)
    {
        var axis = new CategoryAxis { Position = position, IsPanEnabled = false, IsZoomEnabled = false, TicklineColor = Grey, AxislineColor = Grey };
        axis.Labels.AddRange(labels);
        return axis;
    }

    /// <summary>
    /// The model as an inline SVG element with its text alternative. With <paramref name="x"/> and <paramref name="y"/>,
    /// the SVG also states where each axis maps data values (<c>data-x-min</c>, <c>data-x-min-px</c>, ...).
    /// </summary>
    public static string Svg(PlotModel model, double height, string id, string title, string description,
        Axis? x = null, Axis? y = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        // OxyPlot measures text with Helvetica's metrics while browsers may draw a wider font: fixed margins keep axis
        // labels and titles inside the picture whatever font the reader's browser picks.
        if (double.IsNaN(model.PlotMargins.Left))
        {
            model.PlotMargins = new OxyThickness(LinearMargin, double.NaN, 28, 48);
        }
        // Ids inside an inline SVG are the page's: OxyPlot numbers its clip paths from 1 in every chart, so each
        // chart's ids get its own prefix, or the second chart would clip to the first one's rectangle.
        var svg = SvgExporter.ExportToString(model, Width, height, isDocument: false)
            .Replace("id=\"", $"id=\"{id}-", StringComparison.Ordinal)
            .Replace("url(#", $"url(#{id}-", StringComparison.Ordinal);
        // OxyPlot draws a failure into the picture instead of throwing: make it an error of the page instead.
        if (model.GetLastPlotException() is { } failure)
        {
            throw new InvalidOperationException($"chart '{id}' could not be drawn: {failure.Message}", failure);
        }
        var open = svg.IndexOf("<svg", StringComparison.Ordinal);
        var close = svg.IndexOf('>', open);
        var attributes = $" id=\"{id}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" viewBox=\"0 0 {Format(Width)} {Format(height)}\"";
        if (x is not null && y is not null)
        {
            attributes += Mapping("x", x) + Mapping("y", y);
        }
        var accessible = $"<title id=\"{id}-title\">{PageWriter.Encode(title)}</title><desc id=\"{id}-desc\">{PageWriter.Encode(description)}</desc>";
        return svg[open..close] + attributes + svg[close..(close + 1)] + accessible + svg[(close + 1)..];
    }

    private static string Mapping(string name, Axis axis) =>
        $" data-{name}-min=\"{Format(axis.ActualMinimum)}\" data-{name}-max=\"{Format(axis.ActualMaximum)}\"" +
        $" data-{name}-min-px=\"{Format(axis.Transform(axis.ActualMinimum))}\" data-{name}-max-px=\"{Format(axis.Transform(axis.ActualMaximum))}\"";

    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Horizontal bars, one per category (OxyPlot's bar series runs along the value axis).</summary>
    /// <summary>Left margin of charts with a numeric vertical axis: tick labels and the axis title.</summary>
    private const double LinearMargin = 68;

    /// <summary>Left margin that fits the longest category label (about 7.5 px a character at the charts' font size).</summary>
    public static OxyThickness MarginsFor(IEnumerable<string> labels) =>
        new(Math.Clamp(7.5 * labels.Select(l => l.Length).DefaultIfEmpty(4).Max() + 24, 48, 320), double.NaN, 28, 48);

    public static (PlotModel Model, BarSeries Series) Bars(IReadOnlyList<string> categories, string valueTitle, double? minimum, double? maximum,
        string? format, bool counts = false)
    {
        var model = Model();
        model.PlotMargins = MarginsFor(categories);
        model.Axes.Add(Categories(AxisPosition.Left, categories));
        var axis = Linear(AxisPosition.Bottom, valueTitle, minimum, maximum, format);
        if (counts)
        {
            // Whole numbers only: no 0, 0, 1, 1 ticks for a count of one.
            axis.MinimumMajorStep = 1;
            axis.MinimumMinorStep = 1;
        }
        model.Axes.Add(axis);
        var series = new BarSeries { FillColor = Blue, StrokeThickness = 0, LabelPlacement = LabelPlacement.Inside };
        model.Series.Add(series);
        return (model, series);
    }

    public static double BarsHeight(int categories) => Math.Clamp(70 + 28 * categories, 140, 900);
}

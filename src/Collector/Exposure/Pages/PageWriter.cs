using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;

namespace PerfOtel.Collector.Exposure.Pages;

/// <summary>
/// Writes one HTML page: the shared frame (language, landmarks, skip link, navigation, inline style), headings, tables
/// and the links to the REST call and the Grafana dashboard behind the page. Every text goes through the HTML encoder.
/// A number shown also carries its exact value in <c>data-value</c> (round-trip format), so a reader or a test can
/// compare it with the REST API's JSON without parsing the rounded text.
/// </summary>
internal sealed class PageWriter
{
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Default;
    private readonly StringBuilder html;

    /// <summary>Query string (with its <c>?</c>, or empty) that keeps the tenant and window across the pages' links.</summary>
    public string Carry { get; }

    public PageWriter(string title, string tenant, string carry, bool signedIn)
    {
        html = new StringBuilder(16 * 1024);
        Carry = carry;
        html.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
            .Append("<link rel=\"icon\" href=\"data:,\">")
            .Append("<title>").Append(Encode(title)).Append(" · PerfOtel</title><style>").Append(Style).Append("</style></head><body>")
            .Append("<a class=\"skip\" href=\"#main\">Skip to the content</a>")
            .Append("<header><nav aria-label=\"Pages\"><span class=\"brand\">PerfOtel</span>")
            .Append("<a href=\"/ui/").Append(Attribute(carry)).Append("\">Overview</a>")
            .Append("<a href=\"/ui/models").Append(Attribute(carry)).Append("\">Models</a>")
            .Append("<a href=\"/ui/experiments").Append(Attribute(carry)).Append("\">Experiments</a>")
            .Append("<span class=\"tenant\">tenant <strong>").Append(Encode(tenant)).Append("</strong></span>");
        if (signedIn)
        {
            html.Append("<form method=\"post\" action=\"/ui/sign-out\" class=\"inline\"><button type=\"submit\">Sign out</button></form>");
        }
        html.Append("</nav></header><main id=\"main\" tabindex=\"-1\"><h1>").Append(Encode(title)).Append("</h1>");
    }

    private PageWriter(int capacity)
    {
        Carry = string.Empty;
        html = new StringBuilder(capacity);
    }

    /// <summary>A writer for part of a page (no frame), to be kept and written into pages with <see cref="Raw"/>.</summary>
    public static PageWriter Fragment(int capacity = 16 * 1024) => new(capacity);

    /// <summary>The markup written so far (of a <see cref="Fragment"/>).</summary>
    public string Markup() => html.ToString();

    public static string Encode(string? text) => Encoder.Encode(text ?? string.Empty);

    public static string Attribute(string? text) => Encoder.Encode(text ?? string.Empty);

    public PageWriter Raw(string markup)
    {
        html.Append(markup);
        return this;
    }

    public PageWriter Text(string? text)
    {
        html.Append(Encode(text));
        return this;
    }

    public PageWriter Heading(string text, string id)
    {
        html.Append("<h2 id=\"").Append(Attribute(id)).Append("\">").Append(Encode(text)).Append("</h2>");
        return this;
    }

    public PageWriter Paragraph(string text, string? cssClass = null)
    {
        html.Append(cssClass is null ? "<p>" : $"<p class=\"{cssClass}\">").Append(Encode(text)).Append("</p>");
        return this;
    }

    /// <summary>The REST call and the Grafana dashboard that show what this page (or section) shows.</summary>
    public PageWriter Sources(string restPath, string? grafanaLink, string? grafanaTitle)
    {
        html.Append("<p class=\"sources\">Same data: REST <a href=\"").Append(Attribute(restPath)).Append("\"><code>GET ")
            .Append(Encode(restPath)).Append("</code></a>");
        if (grafanaLink is not null)
        {
            html.Append(" · Grafana <a href=\"").Append(Attribute(grafanaLink)).Append("\">").Append(Encode(grafanaTitle)).Append("</a>");
        }
        html.Append("</p>");
        return this;
    }

    public PageWriter Link(string href, string text)
    {
        html.Append("<a href=\"").Append(Attribute(href)).Append("\">").Append(Encode(text)).Append("</a>");
        return this;
    }

    /// <summary>Opens a table with a caption and column headers; close it with <see cref="EndTable"/>.</summary>
    public PageWriter Table(string caption, params string[] headers)
    {
        html.Append("<div class=\"table\"><table><caption>").Append(Encode(caption)).Append("</caption><thead><tr>");
        foreach (var header in headers)
        {
            html.Append("<th scope=\"col\">").Append(Encode(header)).Append("</th>");
        }
        html.Append("</tr></thead><tbody>");
        return this;
    }

    public PageWriter EndTable()
    {
        html.Append("</tbody></table></div>");
        return this;
    }

    public PageWriter Row(string? id = null)
    {
        html.Append(id is null ? "<tr>" : $"<tr data-row=\"{Attribute(id)}\">");
        return this;
    }

    public PageWriter EndRow()
    {
        html.Append("</tr>");
        return this;
    }

    /// <summary>A row header cell (the row's name), optionally a link.</summary>
    public PageWriter RowHeader(string text, string? href = null)
    {
        html.Append("<th scope=\"row\">");
        if (href is null)
        {
            html.Append(Encode(text));
        }
        else
        {
            Link(href, text);
        }
        html.Append("</th>");
        return this;
    }

    public PageWriter Cell(string? text, string? cssClass = null)
    {
        html.Append(cssClass is null ? "<td>" : $"<td class=\"{cssClass}\">").Append(Encode(text ?? "–")).Append("</td>");
        return this;
    }

    /// <summary>A number cell: shown as <paramref name="format"/> says, its exact value in <c>data-value</c>.</summary>
    public PageWriter Number(string metric, double? value, NumberFormat format)
    {
        html.Append("<td class=\"num\" data-metric=\"").Append(metric).Append("\" data-value=\"").Append(Exact(value)).Append("\">")
            .Append(Encode(Show(value, format))).Append("</td>");
        return this;
    }

    /// <summary>A headline figure in the key-figures list.</summary>
    public PageWriter Figure(string label, string metric, double? value, NumberFormat format)
    {
        html.Append("<div class=\"figure\"><dt>").Append(Encode(label)).Append("</dt><dd data-metric=\"").Append(metric)
            .Append("\" data-value=\"").Append(Exact(value)).Append("\">").Append(Encode(Show(value, format))).Append("</dd></div>");
        return this;
    }

    public PageWriter Figures()
    {
        html.Append("<dl class=\"figures\">");
        return this;
    }

    public PageWriter EndFigures()
    {
        html.Append("</dl>");
        return this;
    }

    /// <summary>A chart (SVG from <see cref="Charts"/>) in a figure whose caption points at the table with the same data.</summary>
    public PageWriter Chart(string svg, string caption)
    {
        html.Append("<figure class=\"chart\">").Append(svg).Append("<figcaption>").Append(Encode(caption)).Append("</figcaption></figure>");
        return this;
    }

    public string Finish(DateTimeOffset asOf)
    {
        html.Append("</main><footer><p>PerfOtel collector · read-only pages · numbers as of ")
            .Append(Encode(asOf.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture)))
            .Append("</p></footer></body></html>");
        return html.ToString();
    }

    /// <summary>The exact value as JSON writes it (round-trip), empty for none.</summary>
    public static string Exact(double? value) =>
        value is { } v && double.IsFinite(v) ? v.ToString("R", CultureInfo.InvariantCulture) : string.Empty;

    public static string Show(double? value, NumberFormat format)
    {
        if (value is not { } v || !double.IsFinite(v))
        {
            return "–";
        }
        return format switch
        {
            NumberFormat.Percent => (v * 100).ToString("0.0", CultureInfo.InvariantCulture) + " %",
            NumberFormat.Seconds => v < 1 ? (v * 1000).ToString("0", CultureInfo.InvariantCulture) + " ms" : v.ToString("0.00", CultureInfo.InvariantCulture) + " s",
            NumberFormat.Usd => "$" + v.ToString(v < 1 ? "0.0000" : "#,0.00", CultureInfo.InvariantCulture),
            NumberFormat.Score => v.ToString("0.0", CultureInfo.InvariantCulture),
            NumberFormat.Count => v.ToString("#,0", CultureInfo.InvariantCulture),
            _ => v.ToString("0.000", CultureInfo.InvariantCulture),
        };
    }

    // Colours meet WCAG AA contrast (4.5:1) on their backgrounds; focus is always visible.
    private const string Style =
        "body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;color:#1b1f24;background:#fff}" +
        "a{color:#0a4fb4}a:focus-visible,button:focus-visible,input:focus-visible,main:focus-visible{outline:3px solid #b35c00;outline-offset:2px}" +
        ".skip{position:absolute;left:-9999px;top:0;background:#fff;padding:.5em 1em;z-index:9}.skip:focus{left:.5em}" +
        "header{background:#14213d;color:#fff}header nav{display:flex;flex-wrap:wrap;gap:1.2em;align-items:center;padding:.6em 1.2em}" +
        "header a{color:#fff}header .brand{font-weight:700;letter-spacing:.02em}header .tenant{margin-left:auto}" +
        "header button{background:#fff;color:#14213d;border:0;border-radius:3px;padding:.2em .7em;font:inherit;cursor:pointer}" +
        "main{padding:1em 1.2em;max-width:1180px}h1{font-size:1.6em;margin:.2em 0 .3em}h2{font-size:1.2em;margin:1.4em 0 .4em;border-bottom:1px solid #d0d7de}" +
        ".sources{color:#444c56;font-size:.92em}code{font-size:.92em}" +
        ".figures{display:flex;flex-wrap:wrap;gap:.8em;margin:.6em 0}.figure{border:1px solid #d0d7de;border-radius:6px;padding:.4em .9em;min-width:8.5em}" +
        ".figure dt{font-size:.85em;color:#444c56}.figure dd{margin:0;font-size:1.35em;font-weight:600}" +
        ".table{overflow-x:auto}table{border-collapse:collapse;margin:.5em 0 1em;min-width:50%}caption{text-align:left;font-weight:600;padding:.3em 0}" +
        "th,td{border-bottom:1px solid #d0d7de;padding:.3em .7em;text-align:left;vertical-align:top}td.num{text-align:right;font-variant-numeric:tabular-nums}" +
        "thead th{background:#f3f5f7}.critical{color:#a4000f;font-weight:600}.warning{color:#7a4a00;font-weight:600}.ok{color:#1a6b2d}" +
        ".band-excellent{color:#1a6b2d}.band-good{color:#2f5d8a}.band-fair{color:#7a4a00}.band-poor{color:#a4000f}" +
        "figure.chart{margin:.6em 0 1em}figure.chart svg{max-width:100%;height:auto;border:1px solid #e1e4e8}figcaption{font-size:.9em;color:#444c56}" +
        ".inline{display:inline}.error{border-left:4px solid #a4000f;padding:.3em .8em;background:#fff4f4}" +
        "form.signin label{display:block;margin:.6em 0 .2em}form.signin input{font:inherit;padding:.3em;width:26em;max-width:100%}" +
        "form.signin button{margin-top:.8em;font:inherit;padding:.3em 1em}footer{color:#444c56;font-size:.85em;padding:1em 1.2em;border-top:1px solid #d0d7de}";
}

/// <summary>How a number is shown; its exact value always travels in <c>data-value</c>.</summary>
internal enum NumberFormat
{
    Plain,
    Percent,
    Seconds,
    Usd,
    Score,
    Count,
}

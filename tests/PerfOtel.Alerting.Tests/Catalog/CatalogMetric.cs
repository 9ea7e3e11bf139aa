namespace PerfOtel.Alerting.Tests.Catalog;

/// <summary>A Prometheus series name the code emits, the labels it carries, and which catalog declared it.</summary>
internal sealed record CatalogMetric(string Name, IReadOnlySet<string> Labels, string Source);

/// <summary>
/// Spells OpenTelemetry names the way PerfOtel.Exporter exposes them, following the OpenTelemetry compatibility
/// specification for Prometheus (https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/):
/// characters outside <c>[a-zA-Z0-9_]</c> become <c>_</c> (runs collapse), the unit's word is appended unless the name
/// already contains it, counters end in <c>_total</c>.
/// </summary>
internal static class PrometheusNaming
{
    public static string Label(string attributeKey) => Sanitize(attributeKey);

    public static string Metric(string otelName, string? unit, bool isCounter, bool isGauge)
    {
        var name = Sanitize(otelName);
        var word = UnitWord(unit, isGauge);
        if (word.Length > 0 && !$"_{name}_".Contains($"_{word}_", StringComparison.Ordinal))
        {
            name += "_" + word;
        }
        return isCounter && !name.EndsWith("_total", StringComparison.Ordinal) ? name + "_total" : name;
    }

    private static string UnitWord(string? unit, bool isGauge)
    {
        if (string.IsNullOrWhiteSpace(unit) || unit.StartsWith('{'))
        {
            return "";
        }
        return unit switch
        {
            "1" => isGauge ? "ratio" : "",
            "s" => "seconds",
            "ms" => "milliseconds",
            "By" => "bytes",
            _ => Sanitize(unit),
        };
    }

    private static string Sanitize(string name)
    {
        var chars = new System.Text.StringBuilder(name.Length);
        foreach (var c in name)
        {
            var safe = char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_';
            if (safe == '_' && chars.Length > 0 && chars[^1] == '_')
            {
                continue;
            }
            chars.Append(safe);
        }
        return chars.ToString();
    }
}

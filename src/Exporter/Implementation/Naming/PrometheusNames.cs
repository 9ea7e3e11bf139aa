using System.Text;

namespace PerfOtel.Exporter.Implementation.Naming;

/// <summary>
/// Translates OpenTelemetry metric names, units and attribute keys into Prometheus names, following
/// https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/ (metric metadata, metric attributes).
/// </summary>
internal static class PrometheusNames
{
    // UCUM abbreviations the OpenTelemetry conventions use, spelled the way Prometheus names spell them.
    private static readonly Dictionary<string, string> UnitWords = new(StringComparer.Ordinal)
    {
        ["d"] = "days",
        ["h"] = "hours",
        ["min"] = "minutes",
        ["s"] = "seconds",
        ["ms"] = "milliseconds",
        ["us"] = "microseconds",
        ["ns"] = "nanoseconds",
        ["By"] = "bytes",
        ["KiBy"] = "kibibytes",
        ["MiBy"] = "mebibytes",
        ["GiBy"] = "gibibytes",
        ["TiBy"] = "tibibytes",
        ["KBy"] = "kilobytes",
        ["MBy"] = "megabytes",
        ["GBy"] = "gigabytes",
        ["TBy"] = "terabytes",
        ["m"] = "meters",
        ["V"] = "volts",
        ["A"] = "amperes",
        ["J"] = "joules",
        ["W"] = "watts",
        ["g"] = "grams",
        ["Cel"] = "celsius",
        ["Hz"] = "hertz",
        ["%"] = "percent",
    };

    // After a slash the unit reads as a rate, so it takes the singular ("bytes_per_second").
    private static readonly Dictionary<string, string> PerUnitWords = new(StringComparer.Ordinal)
    {
        ["s"] = "second",
        ["m"] = "minute",
        ["h"] = "hour",
        ["d"] = "day",
        ["w"] = "week",
        ["mo"] = "month",
        ["y"] = "year",
    };

    /// <summary>
    /// The Prometheus unit word for an OpenTelemetry (UCUM) unit, or "" when the unit has no Prometheus spelling:
    /// annotations in braces are dropped, the dimensionless "1" adds nothing (whatever the instrument, as
    /// OpenTelemetry.Exporter.Prometheus names it), "a/b" becomes "a_per_b".
    /// </summary>
    public static string TranslateUnit(string? unit)
    {
        if (string.IsNullOrWhiteSpace(unit))
        {
            return string.Empty;
        }

        var withoutAnnotations = RemoveAnnotations(unit).Trim();
        if (withoutAnnotations.Length == 0)
        {
            return string.Empty;
        }

        if (withoutAnnotations == "1")
        {
            return string.Empty;
        }

        var slash = withoutAnnotations.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            return SanitizeUnitWord(UnitWords.GetValueOrDefault(withoutAnnotations, withoutAnnotations));
        }

        var numerator = withoutAnnotations[..slash].Trim();
        var denominator = withoutAnnotations[(slash + 1)..].Trim();
        var numeratorWord = numerator.Length == 0 || numerator == "1"
            ? string.Empty
            : SanitizeUnitWord(UnitWords.GetValueOrDefault(numerator, numerator));
        var denominatorWord = denominator.Length == 0
            ? string.Empty
            : SanitizeUnitWord(PerUnitWords.GetValueOrDefault(denominator, denominator));
        if (denominatorWord.Length == 0)
        {
            return numeratorWord;
        }

        return numeratorWord.Length == 0 ? "per_" + denominatorWord : numeratorWord + "_per_" + denominatorWord;
    }

    /// <summary>
    /// The full Prometheus family name: sanitised OpenTelemetry name, then the unit unless the name already has it,
    /// then <c>_total</c> for monotonic sums (when <paramref name="addTotalSuffix"/>). Returns the name with and
    /// without the type suffix because OpenMetrics metadata lines name the family without <c>_total</c>.
    /// </summary>
    public static (string FamilyName, string SampleName) TranslateMetricName(
        string otelName, string unitWord, bool isCounter, bool addTotalSuffix)
    {
        var name = SanitizeMetricName(otelName);
        if (unitWord.Length > 0 && !EndsWithUnit(name, unitWord, isCounter))
        {
            name = name + "_" + unitWord;
        }

        if (!isCounter)
        {
            return (name, name);
        }

        var family = name.EndsWith("_total", StringComparison.Ordinal) ? name[..^"_total".Length] : name;
        if (family.Length == 0)
        {
            family = "_";
        }

        return (family, addTotalSuffix || name.EndsWith("_total", StringComparison.Ordinal) ? family + "_total" : family);
    }

    /// <summary>Metric names match [a-zA-Z_:][a-zA-Z0-9_:]*; anything else becomes '_', runs of '_' collapse.</summary>
    public static string SanitizeMetricName(string name) => Sanitize(name, allowColon: true, leadingDigitPrefix: "_");

    /// <summary>Label names match [a-zA-Z_][a-zA-Z0-9_]*; anything else becomes '_', runs of '_' collapse.</summary>
    /// <remarks>Collapsing runs also keeps user labels out of the reserved <c>__</c> prefix.</remarks>
    public static string SanitizeLabelName(string name) => Sanitize(name, allowColon: false, leadingDigitPrefix: "key_");

    private static string Sanitize(string name, bool allowColon, string leadingDigitPrefix)
    {
        if (name.Length == 0)
        {
            return "_";
        }

        var builder = new StringBuilder(name.Length + leadingDigitPrefix.Length);
        if (char.IsAsciiDigit(name[0]))
        {
            builder.Append(leadingDigitPrefix);
        }

        foreach (var c in name)
        {
            var valid = char.IsAsciiLetterOrDigit(c) || c == '_' || (allowColon && c == ':');
            var output = valid ? c : '_';
            if (output == '_' && builder.Length > 0 && builder[^1] == '_')
            {
                continue;
            }

            builder.Append(output);
        }

        return builder.ToString();
    }

    private static string SanitizeUnitWord(string word)
    {
        var sanitized = Sanitize(word, allowColon: false, leadingDigitPrefix: string.Empty).Trim('_');
        return sanitized;
    }

    private static string RemoveAnnotations(string unit)
    {
        if (!unit.Contains('{', StringComparison.Ordinal))
        {
            return unit;
        }

        var builder = new StringBuilder(unit.Length);
        var depth = 0;
        foreach (var c in unit)
        {
            if (c == '{')
            {
                depth++;
            }
            else if (c == '}' && depth > 0)
            {
                depth--;
            }
            else if (depth == 0)
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    // The specification adds the unit "unless the metric name already ends with the unit (before type-specific
    // suffixes)". Read literally, as OpenTelemetry's exporter reads it, so both exporters give one name:
    // "seconds_used" in s becomes "seconds_used_seconds", "x_bytes_total" in By stays "x_bytes_total".
    private static bool EndsWithUnit(string name, string unitWord, bool isCounter) =>
        name.EndsWith(unitWord, StringComparison.Ordinal)
        || (isCounter && name.EndsWith(unitWord + "_total", StringComparison.Ordinal));
}

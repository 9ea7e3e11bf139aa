using PerfOtel.Exporter.Implementation.Serialization;

namespace PerfOtel.Exporter.Implementation.Scraping;

/// <summary>
/// Picks the exposition format from an Accept header. Prometheus 2.x sends
/// <c>application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1</c>;
/// OpenMetrics wins when it has the highest q-value (ties go to the earlier entry), the text format otherwise,
/// including when nothing acceptable is listed, as Prometheus client libraries do.
/// </summary>
internal static class ContentNegotiation
{
    public static ExpositionFormat Choose(string? accept, bool openMetricsEnabled)
    {
        if (!openMetricsEnabled || string.IsNullOrWhiteSpace(accept))
        {
            return ExpositionFormat.PrometheusText;
        }

        var bestQuality = 0.0;
        var best = ExpositionFormat.PrometheusText;
        foreach (var range in accept.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = range.Split(';', StringSplitOptions.TrimEntries);
            var mediaType = parts[0];
            string? version = null;
            var quality = 1.0;
            foreach (var parameter in parts.AsSpan(1))
            {
                var equals = parameter.IndexOf('=', StringComparison.Ordinal);
                if (equals < 0)
                {
                    continue;
                }

                var name = parameter[..equals].Trim();
                var value = parameter[(equals + 1)..].Trim().Trim('"');
                if (name.Equals("q", StringComparison.OrdinalIgnoreCase)
                    && double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var q))
                {
                    quality = Math.Clamp(q, 0, 1);
                }
                else if (name.Equals("version", StringComparison.OrdinalIgnoreCase))
                {
                    version = value;
                }
            }

            ExpositionFormat? candidate = null;
            if (mediaType.Equals("application/openmetrics-text", StringComparison.OrdinalIgnoreCase)
                && (version is null || version is "1.0.0" or "0.0.1"))
            {
                candidate = ExpositionFormat.OpenMetrics;
            }
            else if ((mediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase) && (version is null || version == "0.0.4"))
                || mediaType is "*/*" || mediaType.Equals("text/*", StringComparison.OrdinalIgnoreCase))
            {
                candidate = ExpositionFormat.PrometheusText;
            }

            if (candidate is { } format && quality > bestQuality)
            {
                bestQuality = quality;
                best = format;
            }
        }

        return best;
    }

    /// <summary>Whether an Accept-Encoding header accepts gzip (q-value above zero).</summary>
    public static bool AcceptsGzip(string? acceptEncoding)
    {
        if (string.IsNullOrWhiteSpace(acceptEncoding))
        {
            return false;
        }

        foreach (var coding in acceptEncoding.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = coding.Split(';', StringSplitOptions.TrimEntries);
            if (!parts[0].Equals("gzip", StringComparison.OrdinalIgnoreCase) && parts[0] != "*")
            {
                continue;
            }

            var quality = 1.0;
            foreach (var parameter in parts.AsSpan(1))
            {
                if (parameter.StartsWith("q=", StringComparison.OrdinalIgnoreCase)
                    && double.TryParse(parameter.AsSpan(2), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var q))
                {
                    quality = q;
                }
            }

            if (quality > 0)
            {
                return true;
            }
        }

        return false;
    }
}

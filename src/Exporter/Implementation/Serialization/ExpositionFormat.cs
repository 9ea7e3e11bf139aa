namespace PerfOtel.Exporter.Implementation.Serialization;

/// <summary>The two text formats the exporter answers with.</summary>
internal enum ExpositionFormat
{
    /// <summary>Prometheus text format 0.0.4.</summary>
    PrometheusText = 0,

    /// <summary>OpenMetrics 1.0 text format.</summary>
    OpenMetrics = 1,
}

/// <summary>The exact Content-Type strings of each format (Prometheus compares them, so they are spelled once).</summary>
internal static class ExpositionContentTypes
{
    public const string PrometheusText = "text/plain; version=0.0.4; charset=utf-8";
    public const string OpenMetrics = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    public static string For(ExpositionFormat format) =>
        format == ExpositionFormat.OpenMetrics ? OpenMetrics : PrometheusText;
}

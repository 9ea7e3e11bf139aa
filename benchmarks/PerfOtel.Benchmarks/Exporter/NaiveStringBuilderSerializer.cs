using System.Globalization;
using System.Text;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace PerfOtel.Benchmarks.Exporter;

/// <summary>
/// The baseline: what a straightforward exporter does, building the same text document for the same counter series
/// in a StringBuilder (names and labels sanitised per line, escaping with string.Replace) and encoding it at the end.
/// </summary>
internal static class NaiveStringBuilderSerializer
{
    public static byte[] Serialize(in Batch<Metric> batch)
    {
        var builder = new StringBuilder();
        foreach (var metric in batch)
        {
            var name = Sanitize(metric.Name) + "_total";
            builder.Append("# HELP ").Append(name).Append(' ').Append(metric.Description.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)).Append('\n');
            builder.Append("# TYPE ").Append(name).Append(" counter\n");
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                builder.Append(name).Append('{');
                builder.Append("otel_scope_name=\"").Append(Escape(metric.MeterName)).Append("\",otel_scope_version=\"").Append(Escape(metric.MeterVersion ?? string.Empty)).Append('"');
                foreach (var tag in point.Tags)
                {
                    builder.Append(',').Append(Sanitize(tag.Key)).Append("=\"").Append(Escape(Convert.ToString(tag.Value, CultureInfo.InvariantCulture) ?? string.Empty)).Append('"');
                }

                builder.Append("} ").Append(point.GetSumLong().ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    private static string Sanitize(string name)
    {
        var chars = name.ToCharArray();
        for (var i = 0; i < chars.Length; i++)
        {
            if (!char.IsAsciiLetterOrDigit(chars[i]) && chars[i] != '_')
            {
                chars[i] = '_';
            }
        }

        return new string(chars);
    }

    private static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}

using System.Buffers;
using System.Globalization;
using System.Text;
using PerfOtel.Exporter.Implementation.Naming;
using PerfOtel.Exporter.Implementation.Serialization;

namespace PerfOtel.Exporter;

/// <summary>
/// A gauge family of an <see cref="IPrometheusMetricProducer"/>, named from an OpenTelemetry-style name and unit by the
/// same rules as the MeterProvider's gauges (so <c>perfotel.agent.latency.p95</c> in <c>s</c> becomes
/// <c>perfotel_agent_latency_p95_seconds</c>), with its HELP/TYPE/UNIT lines encoded once for both formats.
/// </summary>
public sealed class PrometheusGaugeFamily
{
    private readonly byte[] nameBytes;

    /// <summary>Creates the family.</summary>
    /// <param name="name">OpenTelemetry-style metric name.</param>
    /// <param name="unit">UCUM unit (annotations such as <c>{score}</c> add nothing to the name), or null.</param>
    /// <param name="description">HELP text, or null.</param>
    public PrometheusGaugeFamily(string name, string? unit, string? description)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var unitWord = PrometheusNames.TranslateUnit(unit);
        Name = PrometheusNames.TranslateMetricName(name, unitWord, isCounter: false, addTotalSuffix: false).FamilyName;
        nameBytes = Encoding.UTF8.GetBytes(Name);
        TextHeader = FamilyHeaders.Text(Name, PrometheusType.Gauge, description);
        OpenMetricsHeader = FamilyHeaders.OpenMetrics(Name, PrometheusType.Gauge, unitWord, description);
    }

    /// <summary>The Prometheus name of the family and of its samples.</summary>
    public string Name { get; }

    internal byte[] TextHeader { get; }

    internal byte[] OpenMetricsHeader { get; }

    /// <summary>Appends one sample line, <c>name{labels} value\n</c>, valid in both exposition formats.</summary>
    /// <param name="destination">Where the line goes.</param>
    /// <param name="labels">Labels encoded by <see cref="PrometheusLabels.Encode"/> (may be empty).</param>
    /// <param name="value">The value (NaN and infinities are written as Prometheus spells them).</param>
    public void WriteSample(IBufferWriter<byte> destination, ReadOnlySpan<byte> labels, double value) =>
        WriteSample(destination, labels, [], value);

    /// <summary>Appends one sample line whose labels are the concatenation of two encoded label sets.</summary>
    /// <param name="destination">Where the line goes.</param>
    /// <param name="labels">Labels encoded by <see cref="PrometheusLabels.Encode"/> (may be empty).</param>
    /// <param name="moreLabels">Further encoded labels (may be empty), for a shared prefix plus a per-sample label.</param>
    /// <param name="value">The value.</param>
    public void WriteSample(IBufferWriter<byte> destination, ReadOnlySpan<byte> labels, ReadOnlySpan<byte> moreLabels, double value)
    {
        ArgumentNullException.ThrowIfNull(destination);
        var length = nameBytes.Length + labels.Length + moreLabels.Length + 4 + 32;
        var span = destination.GetSpan(length);
        nameBytes.CopyTo(span);
        var at = nameBytes.Length;
        if (labels.Length + moreLabels.Length > 0)
        {
            span[at++] = (byte)'{';
            labels.CopyTo(span[at..]);
            at += labels.Length;
            if (labels.Length > 0 && moreLabels.Length > 0)
            {
                span[at++] = (byte)',';
            }

            moreLabels.CopyTo(span[at..]);
            at += moreLabels.Length;
            span[at++] = (byte)'}';
        }

        span[at++] = (byte)' ';
        at += FormatValue(value, span[at..]);
        span[at++] = (byte)'\n';
        destination.Advance(at);
    }

    private static int FormatValue(double value, Span<byte> destination)
    {
        if (double.IsFinite(value))
        {
            value.TryFormat(destination, out var written, default, CultureInfo.InvariantCulture);
            return written;
        }

        var text = double.IsNaN(value) ? "NaN"u8 : value > 0 ? "+Inf"u8 : "-Inf"u8;
        text.CopyTo(destination);
        return text.Length;
    }
}

/// <summary>Encodes label sets for <see cref="PrometheusGaugeFamily.WriteSample(IBufferWriter{byte}, ReadOnlySpan{byte}, double)"/>.</summary>
public static class PrometheusLabels
{
    /// <summary>
    /// The label an OpenTelemetry attribute key becomes (invalid characters to <c>_</c>, runs collapsed, a leading digit
    /// prefixed with <c>key_</c>): the rule the exporter applies to the MeterProvider's attributes.
    /// </summary>
    /// <param name="attributeKey">The attribute key.</param>
    /// <returns>The Prometheus label name.</returns>
    public static string LabelName(string attributeKey)
    {
        ArgumentNullException.ThrowIfNull(attributeKey);
        return PrometheusNames.SanitizeLabelName(attributeKey);
    }

    /// <summary>
    /// The label value of an attribute value as the exporter writes it: strings as they are, booleans <c>true</c> and
    /// <c>false</c>, numbers culture-invariantly (shortest round-trip), arrays as JSON arrays.
    /// </summary>
    /// <param name="value">A string, bool, long, double or an array of them.</param>
    /// <returns>The label value (escaping happens in <see cref="Encode"/>).</returns>
    public static string AttributeText(object? value) => ExpositionSerializer.AttributeValueText(value);

    /// <summary>
    /// Encodes <c>name="value",...</c>: names sanitised as the exporter sanitises attribute keys, values escaped
    /// (backslash, double quote, line feed) the same way in both formats.
    /// </summary>
    /// <param name="labels">Label names and values, in the order they should appear.</param>
    /// <returns>The encoded labels, without braces.</returns>
    public static byte[] Encode(params ReadOnlySpan<KeyValuePair<string, string>> labels)
    {
        using var buffer = new ExpositionBuffer(256);
        for (var i = 0; i < labels.Length; i++)
        {
            if (i > 0)
            {
                buffer.Write((byte)',');
            }

            buffer.Write(LabelKeyCache.ForLabel(labels[i].Key));
            buffer.WriteEscapedLabelValue(labels[i].Value ?? string.Empty);
            buffer.Write((byte)'"');
        }

        return buffer.WrittenSpan.ToArray();
    }
}

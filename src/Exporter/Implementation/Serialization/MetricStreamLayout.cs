using System.Text;
using OpenTelemetry.Metrics;
using PerfOtel.Exporter.Implementation.Naming;

namespace PerfOtel.Exporter.Implementation.Serialization;

/// <summary>The Prometheus metric type a family is exposed as.</summary>
internal enum PrometheusType
{
    Counter,
    Gauge,
    Histogram,
}

/// <summary>
/// Everything about one OpenTelemetry metric stream that does not change between scrapes, encoded once:
/// its Prometheus names as UTF-8, its scope labels and a cache of its encoded label keys.
/// </summary>
internal sealed class MetricStreamLayout
{
    public MetricStreamLayout(Metric metric, bool addTotalSuffix, bool emitScopeLabels)
    {
        Metric = metric;
        Type = metric.MetricType switch
        {
            MetricType.LongSum or MetricType.DoubleSum => PrometheusType.Counter,
            MetricType.Histogram or MetricType.ExponentialHistogram => PrometheusType.Histogram,
            _ => PrometheusType.Gauge,
        };
        IsLong = metric.MetricType is MetricType.LongSum or MetricType.LongSumNonMonotonic or MetricType.LongGauge;
        UnitWord = PrometheusNames.TranslateUnit(metric.Unit, Type == PrometheusType.Gauge);
        (FamilyName, SampleName) = PrometheusNames.TranslateMetricName(
            metric.Name, UnitWord, Type == PrometheusType.Counter, addTotalSuffix);

        SampleNameBytes = Encoding.UTF8.GetBytes(SampleName);
        BucketNameBytes = Encoding.UTF8.GetBytes(FamilyName + "_bucket");
        SumNameBytes = Encoding.UTF8.GetBytes(FamilyName + "_sum");
        CountNameBytes = Encoding.UTF8.GetBytes(FamilyName + "_count");
        ScopeLabels = emitScopeLabels ? EncodeScopeLabels(metric.MeterName, metric.MeterVersion) : [];
    }

    public Metric Metric { get; }

    public PrometheusType Type { get; }

    public bool IsLong { get; }

    public string UnitWord { get; }

    /// <summary>Family name as OpenMetrics metadata lines use it (no <c>_total</c>).</summary>
    public string FamilyName { get; }

    /// <summary>Name of counter and gauge samples (with <c>_total</c> on counters); the text format's family name.</summary>
    public string SampleName { get; }

    public byte[] SampleNameBytes { get; }

    public byte[] BucketNameBytes { get; }

    public byte[] SumNameBytes { get; }

    public byte[] CountNameBytes { get; }

    /// <summary><c>otel_scope_name="..",otel_scope_version=".."</c>, escaped, or empty when disabled.</summary>
    public byte[] ScopeLabels { get; }

    /// <summary>Encoded label keys of this stream, looked up by reference first (the SDK reuses key strings).</summary>
    public LabelKeyCache LabelKeys { get; } = new();

    /// <summary>Encoded label sets of this stream's series, reused while their attributes stay the same.</summary>
    public EncodedSeriesCache Series { get; } = new();

    private static byte[] EncodeScopeLabels(string meterName, string? meterVersion)
    {
        using var buffer = new ExpositionBuffer(256);
        buffer.Write("otel_scope_name=\""u8);
        buffer.WriteEscapedLabelValue(meterName);
        buffer.Write((byte)'"');
        if (!string.IsNullOrEmpty(meterVersion))
        {
            buffer.Write(",otel_scope_version=\""u8);
            buffer.WriteEscapedLabelValue(meterVersion);
            buffer.Write((byte)'"');
        }

        return buffer.WrittenSpan.ToArray();
    }
}

/// <summary>
/// Maps attribute keys to their encoded Prometheus label name (<c>name="</c>). Keys that sanitise to the same label
/// share one byte[] instance, so a series can detect colliding keys by reference.
/// </summary>
internal sealed class LabelKeyCache
{
    private static readonly Dictionary<string, byte[]> SharedBySanitizedName = new(StringComparer.Ordinal);
    private static readonly Lock SharedGate = new();
    private string[] keys = new string[8];
    private byte[][] encoded = new byte[8][];
    private int count;

    public byte[] Get(string key)
    {
        for (var i = 0; i < count; i++)
        {
            if (ReferenceEquals(keys[i], key))
            {
                return encoded[i];
            }
        }

        for (var i = 0; i < count; i++)
        {
            if (string.Equals(keys[i], key, StringComparison.Ordinal))
            {
                return encoded[i];
            }
        }

        var result = EncodeShared(key);
        if (count == keys.Length)
        {
            // A stream whose keys keep changing (dynamic attribute names) should not grow this cache without bound.
            if (count >= 256)
            {
                return result;
            }

            Array.Resize(ref keys, count * 2);
            Array.Resize(ref encoded, count * 2);
        }

        keys[count] = key;
        encoded[count] = result;
        count++;
        return result;
    }

    /// <summary>The shared encoding of a label name that is already valid (for reference comparisons).</summary>
    public static byte[] ForLabel(string labelName) => EncodeShared(labelName);

    private static byte[] EncodeShared(string key)
    {
        var sanitized = PrometheusNames.SanitizeLabelName(key);
        lock (SharedGate)
        {
            if (!SharedBySanitizedName.TryGetValue(sanitized, out var bytes))
            {
                bytes = Encoding.UTF8.GetBytes(sanitized + "=\"");
                if (SharedBySanitizedName.Count < 100_000)
                {
                    SharedBySanitizedName[sanitized] = bytes;
                }
            }

            return bytes;
        }
    }
}

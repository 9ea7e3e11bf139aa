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
        Names = new FamilyNames(metric.Name, metric.Unit, Type, addTotalSuffix);
        (ScopeLabels, ScopeLabelKeys) = emitScopeLabels ? EncodeScopeLabels(metric) : ([], []);
    }

    public Metric Metric { get; }

    public PrometheusType Type { get; }

    public bool IsLong { get; }

    /// <summary>The family's Prometheus names, encoded.</summary>
    public FamilyNames Names { get; }

    public string FamilyName => Names.FamilyName;

    /// <summary>
    /// The scope's labels, escaped, or empty when disabled: <c>otel_scope_name</c>, <c>otel_scope_version</c>,
    /// <c>otel_scope_schema_url</c> and one <c>otel_scope_[attribute]</c> per scope attribute.
    /// </summary>
    public byte[] ScopeLabels { get; }

    /// <summary>The encoded keys (<see cref="LabelKeyCache.ForLabel"/> instances) of <see cref="ScopeLabels"/>.</summary>
    public byte[][] ScopeLabelKeys { get; }

    /// <summary>Encoded label keys of this stream, looked up by reference first (the SDK reuses key strings).</summary>
    public LabelKeyCache LabelKeys { get; } = new();

    /// <summary>Encoded label sets of this stream's series, reused while their attributes stay the same.</summary>
    public EncodedSeriesCache Series { get; } = new();

    // The compatibility specification (Instrumentation Scope): name, version and schema URL as labels, and every scope
    // attribute as otel_scope_<key> with the attribute rules (sanitised; keys that meet on one label have their values
    // joined with ';' in the order of the original keys); an attribute landing on name, version or schema_url is dropped.
    private static (byte[] Labels, byte[][] Keys) EncodeScopeLabels(Metric metric)
    {
        var labels = new List<KeyValuePair<string, string>> { new(ScopeName, metric.MeterName) };
        if (!string.IsNullOrEmpty(metric.MeterVersion))
        {
            labels.Add(new(ScopeVersion, metric.MeterVersion));
        }

        if (!string.IsNullOrEmpty(metric.MeterSchemaUrl))
        {
            labels.Add(new(ScopeSchemaUrl, metric.MeterSchemaUrl));
        }

        if (metric.MeterTags is { } tags)
        {
            var byLabel = new SortedDictionary<string, List<KeyValuePair<string, object?>>>(StringComparer.Ordinal);
            foreach (var tag in tags)
            {
                var label = PrometheusNames.SanitizeLabelName("otel_scope_" + tag.Key);
                if (label is ScopeName or ScopeVersion or ScopeSchemaUrl)
                {
                    PerfOtelExporterEventSource.Log.ReservedLabelDropped(metric.Name, tag.Key);
                    continue;
                }

                if (!byLabel.TryGetValue(label, out var list))
                {
                    list = [];
                    byLabel[label] = list;
                }

                list.Add(tag);
            }

            foreach (var (label, list) in byLabel)
            {
                list.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
                labels.Add(new(label, string.Join(';', list.Select(t => ExpositionSerializer.AttributeValueText(t.Value)))));
            }
        }

        using var buffer = new ExpositionBuffer(256);
        var keys = new byte[labels.Count][];
        for (var i = 0; i < labels.Count; i++)
        {
            if (i > 0)
            {
                buffer.Write((byte)',');
            }

            keys[i] = LabelKeyCache.ForLabel(labels[i].Key);
            buffer.Write(keys[i]);
            buffer.WriteEscapedLabelValue(labels[i].Value);
            buffer.Write((byte)'"');
        }

        return (buffer.WrittenSpan.ToArray(), keys);
    }

    private const string ScopeName = "otel_scope_name";
    private const string ScopeVersion = "otel_scope_version";
    private const string ScopeSchemaUrl = "otel_scope_schema_url";
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

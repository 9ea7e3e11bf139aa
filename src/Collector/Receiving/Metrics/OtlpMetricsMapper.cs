using System.Text;
using Google.Protobuf.Collections;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Metrics.V1;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Receiving.Mapping;
using PerfOtel.Collector.Records;
using PerfOtel.Exporter;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Receiving.Metrics;

/// <summary>
/// Turns an OTLP metrics export into updates of the re-exposed series (docs/collector/otlp-metrics.md): keeps the
/// <c>gen_ai.*</c> and <c>perfotel.*</c> metrics, names them as PerfOtel.Exporter names the same instruments, labels
/// each series with its producer (<c>job</c>, <c>instance</c>), its scope (<c>otel_scope_*</c>), its tenant
/// (<c>tenant</c> and <c>perfotel_tenant</c>) and its attributes, and refuses in partial_success what cannot be
/// re-exposed (exponential histograms, summaries, malformed points).
/// </summary>
internal sealed class OtlpMetricsMapper(LiveMetricSeries series, Func<string, string> foldTenant, CollectorMetrics metrics)
{
    /// <summary>The tenant of data that names none.</summary>
    public const string DefaultTenant = "default";

    private const string JobLabel = "job";
    private const string InstanceLabel = "instance";
    private const string TenantLabel = "tenant";
    private const string ScopeNameLabel = "otel_scope_name";
    private const string ScopeVersionLabel = "otel_scope_version";
    private const string ScopeSchemaUrlLabel = "otel_scope_schema_url";
    private const string BucketBoundLabel = "le";
    private static readonly string PerfOtelTenantLabel = PrometheusLabels.LabelName(PerfOtelAttributes.Tenant);

    private readonly Dictionary<(string Name, string Unit, string Description, PrometheusMetricKind Kind), PrometheusMetricFamily> familyCache = [];
    private readonly Lock familyCacheGate = new();

    /// <summary>Whether a metric of this name is re-exposed.</summary>
    public static bool IsReExposed(string name) =>
        name.StartsWith("gen_ai.", StringComparison.Ordinal)
        || (name.StartsWith("perfotel.", StringComparison.Ordinal) && !name.StartsWith("perfotel.collector.", StringComparison.Ordinal));

    /// <param name="request">The decoded export.</param>
    /// <param name="forcedTenant">The API key's tenant: when set it wins over every <c>perfotel.tenant</c> attribute.</param>
    public MappingResult Map(ExportMetricsServiceRequest request, string? forcedTenant)
    {
        var rejections = new RejectionLog();
        var received = 0L;
        var dropped = new Dictionary<string, long>(StringComparer.Ordinal);
        var updates = new List<MetricPointUpdate>();
        foreach (var resourceMetrics in request.ResourceMetrics)
        {
            var resource = AttributeBag.From(resourceMetrics.Resource?.Attributes);
            var producer = ProducerLabels(resource);
            var resourceTenant = resource.String(PerfOtelAttributes.Tenant);
            foreach (var scopeMetrics in resourceMetrics.ScopeMetrics)
            {
                var scope = ScopeLabels(scopeMetrics.Scope, scopeMetrics.SchemaUrl);
                foreach (var metric in scopeMetrics.Metrics)
                {
                    var points = PointCount(metric);
                    received += points;
                    if (string.IsNullOrEmpty(metric.Name))
                    {
                        Reject(rejections, dropped, points, "metric name is empty");
                        continue;
                    }

                    if (!IsReExposed(metric.Name))
                    {
                        Count(dropped, MetricDropReasons.OtherMetric, points);
                        continue;
                    }

                    var context = new MetricContext(metric, producer, scope, forcedTenant, resourceTenant);
                    switch (metric.DataCase)
                    {
                        case Metric.DataOneofCase.Gauge:
                            foreach (var point in metric.Gauge.DataPoints)
                            {
                                updates.AddIfNotNull(Number(context, PrometheusMetricKind.Gauge, delta: false, point, rejections, dropped));
                            }

                            break;
                        case Metric.DataOneofCase.Sum:
                            var sum = metric.Sum;
                            if (!TemporalityKnown(sum.AggregationTemporality))
                            {
                                Reject(rejections, dropped, points, $"sum {metric.Name}: aggregation_temporality must be cumulative or delta");
                                break;
                            }

                            foreach (var point in sum.DataPoints)
                            {
                                updates.AddIfNotNull(Number(context, sum.IsMonotonic ? PrometheusMetricKind.Counter : PrometheusMetricKind.Gauge,
                                    sum.AggregationTemporality == AggregationTemporality.Delta, point, rejections, dropped));
                            }

                            break;
                        case Metric.DataOneofCase.Histogram:
                            var histogram = metric.Histogram;
                            if (!TemporalityKnown(histogram.AggregationTemporality))
                            {
                                Reject(rejections, dropped, points, $"histogram {metric.Name}: aggregation_temporality must be cumulative or delta");
                                break;
                            }

                            foreach (var point in histogram.DataPoints)
                            {
                                updates.AddIfNotNull(Histogram(context, histogram.AggregationTemporality == AggregationTemporality.Delta, point, rejections, dropped));
                            }

                            break;
                        case Metric.DataOneofCase.ExponentialHistogram:
                            Reject(rejections, dropped, points,
                                $"exponential histogram {metric.Name} is not re-exposed: the Prometheus text formats carry classic buckets only; configure explicit bucket boundaries (the GenAI conventions advise them)");
                            break;
                        case Metric.DataOneofCase.Summary:
                            Reject(rejections, dropped, points, $"summary {metric.Name} is not re-exposed: send a histogram");
                            break;
                    }
                }
            }
        }

        var outcomes = series.Apply(updates);
        for (var i = 0; i < outcomes.Length; i++)
        {
            Record(outcomes[i], updates[i].MetricName, rejections, dropped);
        }

        foreach (var (reason, count) in dropped)
        {
            metrics.MetricPointsDropped(count, reason);
        }

        return new MappingResult(new IngestBatch(), received, rejections.Count, rejections.Message("data points"));
    }

    private MetricPointUpdate? Number(in MetricContext context, PrometheusMetricKind kind, bool delta, NumberDataPoint point,
        RejectionLog rejections, Dictionary<string, long> dropped)
    {
        var value = point.ValueCase switch
        {
            NumberDataPoint.ValueOneofCase.AsDouble => point.AsDouble,
            NumberDataPoint.ValueOneofCase.AsInt => point.AsInt,
            _ => double.NaN,
        };
        var family = Family(context.Metric, kind);
        var (tenant, labels) = Labels(context, point.Attributes, kind);
        var key = Encoding.UTF8.GetString(labels);
        if (NoRecordedValue(point.Flags))
        {
            return new MetricPointUpdate(context.Metric.Name, tenant, family, key, labels, delta, 0, 0, 0, NoRecordedValue: true);
        }

        if (point.ValueCase == NumberDataPoint.ValueOneofCase.None)
        {
            Reject(rejections, dropped, 1, $"{context.Metric.Name}: data point has no value");
            return null;
        }

        return new MetricPointUpdate(context.Metric.Name, tenant, family, key, labels, delta, point.StartTimeUnixNano, point.TimeUnixNano, value);
    }

    private MetricPointUpdate? Histogram(in MetricContext context, bool delta, HistogramDataPoint point, RejectionLog rejections, Dictionary<string, long> dropped)
    {
        var family = Family(context.Metric, PrometheusMetricKind.Histogram);
        var (tenant, labels) = Labels(context, point.Attributes, PrometheusMetricKind.Histogram);
        var key = Encoding.UTF8.GetString(labels);
        if (NoRecordedValue(point.Flags))
        {
            return new MetricPointUpdate(context.Metric.Name, tenant, family, key, labels, delta, 0, 0, 0, NoRecordedValue: true);
        }

        var bounds = point.ExplicitBounds.ToArray();
        if (point.BucketCounts.Count != 0 && point.BucketCounts.Count != bounds.Length + 1)
        {
            Reject(rejections, dropped, 1, $"histogram {context.Metric.Name}: bucket_counts must have one more element than explicit_bounds");
            return null;
        }

        if (!Ascending(bounds))
        {
            Reject(rejections, dropped, 1, $"histogram {context.Metric.Name}: explicit_bounds must be finite and strictly increasing");
            return null;
        }

        var counts = point.BucketCounts.ToArray();
        ulong total = 0;
        foreach (var count in counts)
        {
            total += count;
        }

        if (counts.Length != 0 && total != point.Count)
        {
            Reject(rejections, dropped, 1, $"histogram {context.Metric.Name}: count must equal the sum of bucket_counts");
            return null;
        }

        return new MetricPointUpdate(context.Metric.Name, tenant, family, key, labels, delta, point.StartTimeUnixNano, point.TimeUnixNano, 0,
            bounds, counts, point.HasSum ? point.Sum : null, point.Count);
    }

    private void Record(string? dropReason, string metricName, RejectionLog rejections, Dictionary<string, long> dropped)
    {
        switch (dropReason)
        {
            case null:
                return;
            case MetricDropReasons.SeriesLimit:
                rejections.Add($"{metricName}: the tenant has Cardinality:MaxMetricSeriesPerTenant ({series.MaxSeriesPerTenant}) series already");
                break;
            case MetricDropReasons.ConflictingType:
                rejections.Add($"{metricName}: its Prometheus name is already a family of another type");
                break;
        }

        Count(dropped, dropReason, 1);
    }

    private static void Reject(RejectionLog rejections, Dictionary<string, long> dropped, long points, string message)
    {
        for (var i = 0; i < points; i++)
        {
            rejections.Add(message);
        }

        Count(dropped, MetricDropReasons.Rejected, points);
    }

    private static void Count(Dictionary<string, long> dropped, string reason, long points)
    {
        if (points > 0)
        {
            dropped[reason] = dropped.GetValueOrDefault(reason) + points;
        }
    }

    private PrometheusMetricFamily Family(Metric metric, PrometheusMetricKind kind)
    {
        var key = (metric.Name, metric.Unit ?? string.Empty, metric.Description ?? string.Empty, kind);
        lock (familyCacheGate)
        {
            if (!familyCache.TryGetValue(key, out var family))
            {
                if (familyCache.Count >= 4096)
                {
                    // Names are bounded by the producers' instrumentation; this only stops a hostile sender growing it.
                    familyCache.Clear();
                }

                family = new PrometheusMetricFamily(metric.Name, metric.Unit, metric.Description, kind);
                familyCache[key] = family;
            }

            return family;
        }
    }

    // Labels of one series, in a canonical order so the same series always gets the same key: the producer's job and
    // instance, the scope's labels, the tenant twice (as on the collector's other series, and as the instrumentation's
    // perfotel.tenant attribute becomes, which the dashboards filter on), then the attributes sorted by label. An
    // attribute that would repeat a label the collector writes is dropped (Prometheus refuses repeated labels);
    // attributes that meet on one label have their values joined with ';' in the order of their keys, as in the exporter.
    private (string Tenant, byte[] Labels) Labels(in MetricContext context, RepeatedField<KeyValue> attributes, PrometheusMetricKind kind)
    {
        string? pointTenant = null;
        var byLabel = new SortedDictionary<string, List<(string Key, string Value)>>(StringComparer.Ordinal);
        foreach (var attribute in attributes)
        {
            if (attribute.Key == PerfOtelAttributes.Tenant)
            {
                pointTenant = attribute.Value?.StringValue;
                continue;
            }

            var label = PrometheusLabels.LabelName(attribute.Key);
            if (label is JobLabel or InstanceLabel or TenantLabel || label == PerfOtelTenantLabel
                || (kind == PrometheusMetricKind.Histogram && label == BucketBoundLabel)
                || context.Scope.Any(s => s.Key == label))
            {
                continue;
            }

            if (!byLabel.TryGetValue(label, out var values))
            {
                values = [];
                byLabel[label] = values;
            }

            values.Add((attribute.Key, Text(attribute.Value)));
        }

        var tenant = foldTenant(context.ForcedTenant ?? NonEmpty(pointTenant) ?? NonEmpty(context.ResourceTenant) ?? DefaultTenant);
        var labels = new List<KeyValuePair<string, string>>(context.Producer.Length + context.Scope.Length + byLabel.Count + 2);
        labels.AddRange(context.Producer);
        labels.AddRange(context.Scope);
        labels.Add(new(TenantLabel, tenant));
        labels.Add(new(PerfOtelTenantLabel, tenant));
        foreach (var (label, values) in byLabel)
        {
            values.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
            labels.Add(new(label, values.Count == 1 ? values[0].Value : string.Join(';', values.Select(v => v.Value))));
        }

        return (tenant, PrometheusLabels.Encode(labels.ToArray()));
    }

    // The OpenTelemetry-Prometheus compatibility specification's job and instance: service.namespace/service.name and
    // service.instance.id, left out when the resource lacks them.
    private static KeyValuePair<string, string>[] ProducerLabels(AttributeBag resource)
    {
        var name = resource.String("service.name");
        var space = resource.String("service.namespace");
        var instance = resource.String("service.instance.id");
        var labels = new List<KeyValuePair<string, string>>(2);
        if (!string.IsNullOrEmpty(name))
        {
            labels.Add(new(JobLabel, string.IsNullOrEmpty(space) ? name : space + "/" + name));
        }

        if (!string.IsNullOrEmpty(instance))
        {
            labels.Add(new(InstanceLabel, instance));
        }

        return labels.ToArray();
    }

    // As the exporter writes a meter's scope: name always, version and schema URL when set, each scope attribute as
    // otel_scope_<key> (those landing on name, version or schema_url dropped).
    private static KeyValuePair<string, string>[] ScopeLabels(InstrumentationScope? scope, string? schemaUrl)
    {
        var labels = new List<KeyValuePair<string, string>> { new(ScopeNameLabel, scope?.Name ?? string.Empty) };
        if (!string.IsNullOrEmpty(scope?.Version))
        {
            labels.Add(new(ScopeVersionLabel, scope.Version));
        }

        if (!string.IsNullOrEmpty(schemaUrl))
        {
            labels.Add(new(ScopeSchemaUrlLabel, schemaUrl));
        }

        foreach (var attribute in scope?.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal) ?? Enumerable.Empty<KeyValue>())
        {
            var label = "otel_scope_" + PrometheusLabels.LabelName(attribute.Key);
            if (label is ScopeNameLabel or ScopeVersionLabel or ScopeSchemaUrlLabel || labels.Any(l => l.Key == label))
            {
                continue;
            }

            labels.Add(new(label, Text(attribute.Value)));
        }

        return labels.ToArray();
    }

    private static string Text(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => value.StringValue,
        AnyValue.ValueOneofCase.BoolValue => PrometheusLabels.AttributeText(value.BoolValue),
        AnyValue.ValueOneofCase.IntValue => PrometheusLabels.AttributeText(value.IntValue),
        AnyValue.ValueOneofCase.DoubleValue => PrometheusLabels.AttributeText(value.DoubleValue),
        AnyValue.ValueOneofCase.ArrayValue => PrometheusLabels.AttributeText(value.ArrayValue.Values.Select(Plain).ToArray()),
        AnyValue.ValueOneofCase.BytesValue => Convert.ToBase64String(value.BytesValue.Span),
        AnyValue.ValueOneofCase.KvlistValue => value.KvlistValue.ToString(),
        _ => string.Empty,
    };

    private static object? Plain(AnyValue value) => value.ValueCase switch
    {
        AnyValue.ValueOneofCase.StringValue => value.StringValue,
        AnyValue.ValueOneofCase.BoolValue => value.BoolValue,
        AnyValue.ValueOneofCase.IntValue => value.IntValue,
        AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue,
        _ => Text(value),
    };

    private static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static bool TemporalityKnown(AggregationTemporality temporality) =>
        temporality is AggregationTemporality.Cumulative or AggregationTemporality.Delta;

    // DataPointFlags.FLAG_NO_RECORDED_VALUE: the compatibility specification turns it into a staleness marker.
    private static bool NoRecordedValue(uint flags) => (flags & 1) != 0;

    private static bool Ascending(double[] bounds)
    {
        for (var i = 0; i < bounds.Length; i++)
        {
            if (!double.IsFinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
            {
                return false;
            }
        }

        return true;
    }

    private static long PointCount(Metric metric) => metric.DataCase switch
    {
        Metric.DataOneofCase.Gauge => metric.Gauge.DataPoints.Count,
        Metric.DataOneofCase.Sum => metric.Sum.DataPoints.Count,
        Metric.DataOneofCase.Histogram => metric.Histogram.DataPoints.Count,
        Metric.DataOneofCase.ExponentialHistogram => metric.ExponentialHistogram.DataPoints.Count,
        Metric.DataOneofCase.Summary => metric.Summary.DataPoints.Count,
        _ => 0,
    };

    private readonly record struct MetricContext(
        Metric Metric,
        KeyValuePair<string, string>[] Producer,
        KeyValuePair<string, string>[] Scope,
        string? ForcedTenant,
        string? ResourceTenant);
}

internal static class MetricPointUpdateListExtensions
{
    public static void AddIfNotNull(this List<MetricPointUpdate> updates, MetricPointUpdate? update)
    {
        if (update is { } value)
        {
            updates.Add(value);
        }
    }
}

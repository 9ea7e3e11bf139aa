using System.Collections.Concurrent;
using OpenTelemetry;
using OpenTelemetry.Metrics;

namespace PerfOtel.Testing;

/// <summary>One exported metric point, copied out of the SDK's reused structures.</summary>
public sealed record ExportedPoint(
    IReadOnlyDictionary<string, object?> Tags,
    double Value,
    double Sum,
    long Count,
    double[] BucketBounds,
    long[] BucketCounts,
    IReadOnlyList<(string TraceId, string SpanId)>? Exemplars = null);

/// <summary>One exported metric stream with its points.</summary>
public sealed record ExportedMetric(
    string Name,
    string Unit,
    string Description,
    MetricType Type,
    string MeterName,
    string? MeterVersion,
    IReadOnlyList<ExportedPoint> Points);

/// <summary>
/// A pull-style in-memory metric exporter for tests: build a MeterProvider with <see cref="Attach"/>,
/// record, then call <see cref="Collect"/> to force a collection and read what the SDK exported.
/// </summary>
public sealed class InMemoryMetrics : BaseExporter<Metric>
{
    private readonly ConcurrentQueue<ExportedMetric> exported = new();
    private BaseExportingMetricReader? reader;

    /// <summary>Registers this exporter on a MeterProviderBuilder with cumulative temporality.</summary>
    public MeterProviderBuilder Attach(MeterProviderBuilder builder)
    {
        reader = new BaseExportingMetricReader(this) { TemporalityPreference = MetricReaderTemporalityPreference.Cumulative };
        return builder.AddReader(reader);
    }

    /// <summary>Forces a collection and returns the metrics exported by it.</summary>
    public IReadOnlyList<ExportedMetric> Collect()
    {
        if (reader is null)
        {
            throw new InvalidOperationException("Attach the exporter to a MeterProviderBuilder first.");
        }
        exported.Clear();
        if (!reader.Collect())
        {
            throw new InvalidOperationException("Metric collection failed.");
        }
        return exported.ToArray();
    }

    /// <summary>Collects and returns the single metric of that name (throws if missing).</summary>
    public ExportedMetric Single(string name)
    {
        var all = Collect();
        return all.FirstOrDefault(m => m.Name == name)
            ?? throw new Xunit.Sdk.XunitException($"Metric '{name}' not exported. Exported: {string.Join(", ", all.Select(m => m.Name))}");
    }

    public override ExportResult Export(in Batch<Metric> batch)
    {
        foreach (var metric in batch)
        {
            var points = new List<ExportedPoint>();
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                var tags = new Dictionary<string, object?>();
                foreach (var tag in point.Tags)
                {
                    tags[tag.Key] = tag.Value;
                }

                double value = 0, sum = 0;
                long count = 0;
                var bounds = new List<double>();
                var counts = new List<long>();
                switch (metric.MetricType)
                {
                    case MetricType.LongSum:
                    case MetricType.LongSumNonMonotonic:
                        value = point.GetSumLong();
                        break;
                    case MetricType.DoubleSum:
                    case MetricType.DoubleSumNonMonotonic:
                        value = point.GetSumDouble();
                        break;
                    case MetricType.LongGauge:
                        value = point.GetGaugeLastValueLong();
                        break;
                    case MetricType.DoubleGauge:
                        value = point.GetGaugeLastValueDouble();
                        break;
                    case MetricType.Histogram:
                        sum = point.GetHistogramSum();
                        count = point.GetHistogramCount();
                        foreach (var bucket in point.GetHistogramBuckets())
                        {
                            bounds.Add(bucket.ExplicitBound);
                            counts.Add(bucket.BucketCount);
                        }
                        break;
                    case MetricType.ExponentialHistogram:
                        sum = point.GetHistogramSum();
                        count = point.GetHistogramCount();
                        break;
                }
                var exemplars = new List<(string, string)>();
                if (point.TryGetExemplars(out var kept))
                {
                    foreach (ref readonly var exemplar in kept)
                    {
                        exemplars.Add((exemplar.TraceId.ToHexString(), exemplar.SpanId.ToHexString()));
                    }
                }
                points.Add(new ExportedPoint(tags, value, sum, count, bounds.ToArray(), counts.ToArray(), exemplars));
            }
            exported.Enqueue(new ExportedMetric(metric.Name, metric.Unit, metric.Description, metric.MetricType,
                metric.MeterName, metric.MeterVersion, points));
        }
        return ExportResult.Success;
    }
}

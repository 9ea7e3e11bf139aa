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
/// Metric snapshots for tests, taken by OpenTelemetry's own in-memory exporter (OpenTelemetry.Exporter.InMemory, whose
/// <see cref="MetricSnapshot"/> copies each point with its buckets and exemplars) on a cumulative reader that exports
/// only when asked: build the MeterProvider with <see cref="Build"/>, record, then <see cref="Collect"/>. What this
/// class adds is the flattening of the SDK's points into plain records that assertions read easily.
/// </summary>
public sealed class InMemoryMetrics
{
    private readonly List<MetricSnapshot> snapshots = [];
    private MeterProvider? provider;

    /// <summary>Adds the in-memory exporter to the builder and builds the provider that <see cref="Collect"/> flushes.</summary>
    public MeterProvider Build(MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        provider = builder.AddInMemoryExporter(snapshots, reader =>
        {
            reader.TemporalityPreference = MetricReaderTemporalityPreference.Cumulative;
            reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = Timeout.Infinite;
        }).Build();
        return provider;
    }

    /// <summary>Forces a collection and returns the metrics exported by it.</summary>
    public IReadOnlyList<ExportedMetric> Collect()
    {
        if (provider is null)
        {
            throw new InvalidOperationException("Build the MeterProvider with InMemoryMetrics.Build first.");
        }
        lock (snapshots)
        {
            snapshots.Clear();
            if (!provider.ForceFlush())
            {
                throw new InvalidOperationException("Metric collection failed.");
            }
            return snapshots.Select(Flatten).ToArray();
        }
    }

    /// <summary>Collects and returns the single metric of that name (throws if missing).</summary>
    public ExportedMetric Single(string name)
    {
        var all = Collect();
        return all.FirstOrDefault(m => m.Name == name)
            ?? throw new Xunit.Sdk.XunitException($"Metric '{name}' not exported. Exported: {string.Join(", ", all.Select(m => m.Name))}");
    }

    private static ExportedMetric Flatten(MetricSnapshot metric)
    {
        var points = new List<ExportedPoint>();
        foreach (var point in metric.MetricPoints)
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
        return new ExportedMetric(metric.Name, metric.Unit, metric.Description, metric.MetricType,
            metric.MeterName, metric.MeterVersion, points);
    }
}

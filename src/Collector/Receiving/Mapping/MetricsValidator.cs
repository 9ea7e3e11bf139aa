using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Metrics.V1;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Receiving.Mapping;

/// <summary>
/// Validates an OTLP metrics export. The collector derives its analytics from spans and stores no metric data
/// points: it accepts them so that an SDK pointed at the collector with one endpoint for all signals does not fail.
/// </summary>
internal static class MetricsValidator
{
    public static MappingResult Validate(ExportMetricsServiceRequest request)
    {
        var rejections = new RejectionLog();
        var received = 0L;
        foreach (var resourceMetrics in request.ResourceMetrics)
        {
            foreach (var scopeMetrics in resourceMetrics.ScopeMetrics)
            {
                foreach (var metric in scopeMetrics.Metrics)
                {
                    var points = PointCount(metric);
                    received += points;
                    if (string.IsNullOrEmpty(metric.Name))
                    {
                        for (var i = 0; i < points; i++)
                        {
                            rejections.Add("metric name is empty");
                        }
                    }
                    else if (metric.Histogram is { } histogram)
                    {
                        foreach (var point in histogram.DataPoints)
                        {
                            if (point.BucketCounts.Count != 0 && point.BucketCounts.Count != point.ExplicitBounds.Count + 1)
                            {
                                rejections.Add($"histogram {metric.Name}: bucket_counts must have one more element than explicit_bounds");
                            }
                        }
                    }
                }
            }
        }

        return new MappingResult(new IngestBatch(), received, rejections.Count, rejections.Message("data points"));
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
}

using OpenTelemetry.Metrics;

namespace PerfOtel.Collector.Telemetry;

public static class CollectorMetricsExtensions
{
    /// <summary>Subscribes a MeterProvider to the collector's own metrics (<c>perfotel_collector_*</c> in Prometheus).</summary>
    public static MeterProviderBuilder AddPerfOtelCollectorMetrics(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddMeter(CollectorMetrics.MeterName);
    }
}

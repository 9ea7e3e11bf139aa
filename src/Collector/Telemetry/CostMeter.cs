using System.Diagnostics.Metrics;

namespace PerfOtel.Collector.Telemetry;

/// <summary>The shared meter of cost, budgets, models and experiments.</summary>
internal static class CostMeter
{
    /// <summary>The meter (the factory returns the same instance to every part and disposes it with the host).</summary>
    public static Meter Create(IMeterFactory meterFactory) =>
        meterFactory.Create(CostMetricCatalog.MeterName, typeof(CostMeter).Assembly.GetName().Version?.ToString());
}

using System.Diagnostics.Metrics;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Telemetry;

/// <summary>
/// Instruments created from their <see cref="MetricDefinition"/>: name, unit, description and bucket boundaries come from the
/// catalog, and an instrument of another kind or value type than declared fails at creation.
/// </summary>
internal static class MeterDefinitions
{
    public static Counter<T> CounterOf<T>(this Meter meter, MetricDefinition definition)
        where T : struct
    {
        Require<T>(definition, MetricInstrumentKind.Counter);
        return meter.CreateCounter<T>(definition.Name, definition.Unit, definition.Description);
    }

    public static Histogram<T> HistogramOf<T>(this Meter meter, MetricDefinition definition)
        where T : struct
    {
        Require<T>(definition, MetricInstrumentKind.Histogram);
        var advice = definition.BucketBoundaries is { } bounds
            ? new InstrumentAdvice<T> { HistogramBucketBoundaries = bounds.Select(b => (T)Convert.ChangeType(b, typeof(T), System.Globalization.CultureInfo.InvariantCulture)).ToArray() }
            : null;
        return meter.CreateHistogram(definition.Name, definition.Unit, definition.Description, tags: null, advice);
    }

    public static ObservableGauge<T> GaugeOf<T>(this Meter meter, MetricDefinition definition, Func<IEnumerable<Measurement<T>>> observe)
        where T : struct
    {
        Require<T>(definition, MetricInstrumentKind.Gauge);
        return meter.CreateObservableGauge(definition.Name, observe, definition.Unit, definition.Description);
    }

    public static ObservableGauge<T> GaugeOf<T>(this Meter meter, MetricDefinition definition, Func<T> observe)
        where T : struct
    {
        Require<T>(definition, MetricInstrumentKind.Gauge);
        return meter.CreateObservableGauge(definition.Name, observe, definition.Unit, definition.Description);
    }

    private static void Require<T>(MetricDefinition definition, MetricInstrumentKind kind)
    {
        var valueType = typeof(T) == typeof(long) ? "long" : typeof(T) == typeof(double) ? "double" : typeof(T).Name;
        if (definition.Kind != kind || definition.ValueType != valueType)
        {
            throw new ArgumentException(
                $"{definition.Name} is declared as a {definition.ValueType} {definition.Kind}, not a {valueType} {kind}", nameof(definition));
        }
    }
}

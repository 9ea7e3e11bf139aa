using System.Diagnostics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using PerfOtel.Testing;

namespace PerfOtel.Instrumentation.Tests;

/// <summary>
/// The instruments are process-wide statics, so every test that records runs in this one collection, one at a time,
/// each with its own real MeterProvider and TracerProvider.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class GlobalInstrumentsCollection
{
    public const string Name = "PerfOtel.Agents instruments";
}

/// <summary>A real MeterProvider and TracerProvider with PerfOtel's instrumentation and in-memory exporters.</summary>
public sealed class TelemetryHarness : IDisposable
{
    private readonly MeterProvider meterProvider;
    private readonly TracerProvider? tracerProvider;
    private readonly List<Activity> finishedSpans = [];

    public TelemetryHarness(Action<PerfOtelInstrumentationOptions>? configure = null, bool tracing = true)
    {
        Metrics = new InMemoryMetrics();
        meterProvider = Metrics.Build(Sdk.CreateMeterProviderBuilder().AddPerfOtelInstrumentation(configure));
        if (tracing)
        {
            // OpenTelemetry's in-memory exporter, on a simple (synchronous) processor: a span is listed when it ends.
            tracerProvider = Sdk.CreateTracerProviderBuilder().AddPerfOtelInstrumentation(configure)
                .AddInMemoryExporter(finishedSpans).Build();
        }
    }

    public InMemoryMetrics Metrics { get; }

    /// <summary>The spans ended so far, in end order.</summary>
    public IReadOnlyList<Activity> FinishedSpans => finishedSpans.ToArray();

    public ExportedMetric Metric(string name) => Metrics.Single(name);

    /// <summary>The points of a metric whose tags contain every given tag.</summary>
    /// <remarks>A metric never recorded is not exported at all; it then has no points.</remarks>
    public IReadOnlyList<ExportedPoint> Points(string name, params (string Key, object? Value)[] filter) =>
        (Metrics.Collect().FirstOrDefault(m => m.Name == name)?.Points ?? []).Where(p => filter.All(f => p.Tags.TryGetValue(f.Key, out var v) && Equals(v, f.Value))).ToList();

    public ExportedPoint OnePoint(string name, params (string Key, object? Value)[] filter)
    {
        var points = Points(name, filter);
        return points.Count == 1
            ? points[0]
            : throw new Xunit.Sdk.XunitException($"Expected one point of {name} matching [{string.Join(", ", filter)}], found {points.Count}: "
                + string.Join(" | ", Metric(name).Points.Select(p => string.Join(",", p.Tags.Select(t => $"{t.Key}={t.Value}")))));
    }

    public Activity Span(string displayName) =>
        FinishedSpans.SingleOrDefault(a => a.DisplayName == displayName)
        ?? throw new Xunit.Sdk.XunitException($"No single span '{displayName}'. Finished: {string.Join(", ", FinishedSpans.Select(a => a.DisplayName))}");

    public void Dispose()
    {
        tracerProvider?.Dispose();
        meterProvider.Dispose();
    }
}

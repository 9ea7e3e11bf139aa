using System.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace PerfOtel.Benchmarks.Exporter;

/// <summary>
/// A realistic agent registry: one counter whose series carry agent, model and outcome labels (the cardinality
/// PerfOtel metrics have), collected once so its points can be serialised repeatedly.
/// </summary>
internal sealed class ExporterWorkload : IDisposable
{
    private static readonly string[] Outcomes = ["success", "failure", "partial"];
    private readonly Meter meter;
    private readonly MeterProvider meterProvider;
    private readonly BaseExportingMetricReader captureReader;

    /// <param name="seriesCount">Series of the counter.</param>
    /// <param name="addExporter">Adds the exporter under test to the provider.</param>
    /// <param name="shiftingFirstLine">
    /// Adds a gauge whose family sorts first and whose value alternates between 1 and 10 at every collection, so every
    /// later line of a scrape starts one byte away from where it was in the previous scrape.
    /// </param>
    public ExporterWorkload(int seriesCount, Action<MeterProviderBuilder>? addExporter = null, bool shiftingFirstLine = false)
    {
        meter = new Meter("PerfOtel.Benchmarks.Exporter." + Guid.NewGuid().ToString("N"), "1.0.0");
        var capture = new CapturingExporter();
        captureReader = new BaseExportingMetricReader(capture) { TemporalityPreference = MetricReaderTemporalityPreference.Cumulative };
        var builder = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty())
            .AddMeter(meter.Name)
            .AddView("perfotel.agent.invocations", new MetricStreamConfiguration { CardinalityLimit = seriesCount + 10 })
            .AddReader(captureReader);
        addExporter?.Invoke(builder);
        meterProvider = builder.Build();

        if (shiftingFirstLine)
        {
            var collections = 0;
            meter.CreateObservableGauge("aaa.shifting", () => ++collections % 2 == 0 ? 1L : 10L);
        }

        var invocations = meter.CreateCounter<long>("perfotel.agent.invocations", null, "Agent invocations by outcome");
        for (var i = 0; i < seriesCount; i++)
        {
            invocations.Add(i + 1,
                new KeyValuePair<string, object?>("gen_ai.agent.name", "agent-" + (i / 30)),
                new KeyValuePair<string, object?>("gen_ai.request.model", "model-" + (i / 3 % 10)),
                new KeyValuePair<string, object?>("perfotel.outcome", Outcomes[i % 3]));
        }

        captureReader.Collect();
        Metrics = capture.Captured;
    }

    public MeterProvider MeterProvider => meterProvider;

    /// <summary>The collected metric streams; their points stay readable until the next collection of that reader.</summary>
    public Metric[] Metrics { get; }

    public Batch<Metric> Batch => new(Metrics, Metrics.Length);

    /// <summary>Collects through the capturing reader only (not the exporter under test).</summary>
    public void CollectCaptured() => captureReader.Collect();

    public void Dispose()
    {
        meterProvider.Dispose();
        meter.Dispose();
    }

    private sealed class CapturingExporter : BaseExporter<Metric>
    {
        public Metric[] Captured { get; private set; } = [];

        public override ExportResult Export(in Batch<Metric> batch)
        {
            var list = new List<Metric>();
            foreach (var metric in batch)
            {
                list.Add(metric);
            }

            Captured = list.ToArray();
            return ExportResult.Success;
        }
    }
}

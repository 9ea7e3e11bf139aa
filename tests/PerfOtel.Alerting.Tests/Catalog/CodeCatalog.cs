using System.Diagnostics.Metrics;
using System.Reflection;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Alerting.Tests.Catalog;

/// <summary>
/// Every series the code declares, read from its catalogs: the instrumentation's <see cref="MetricCatalog"/>, the
/// analytics' <see cref="AnalyticsMetricCatalog"/>, the cost and budget <see cref="CostMetricCatalog"/>, and the
/// collector's own <see cref="CollectorMetrics"/> (instantiated, its instruments observed with a MeterListener, since
/// it declares names but not Prometheus names).
/// </summary>
internal static class CodeCatalog
{
    private static readonly Lazy<IReadOnlyDictionary<string, CatalogMetric>> Loaded = new(Load);

    /// <summary>By Prometheus series name (histograms contribute their <c>_bucket</c>, <c>_sum</c> and <c>_count</c>).</summary>
    public static IReadOnlyDictionary<string, CatalogMetric> Metrics => Loaded.Value;

    private static Dictionary<string, CatalogMetric> Load()
    {
        var metrics = new Dictionary<string, CatalogMetric>(StringComparer.Ordinal);
        foreach (var metric in Instrumentation().Concat(AgentProcess()).Concat(Analytics()).Concat(Thresholds()).Concat(Cost()).Concat(CollectorSelfMetrics()))
        {
            Assert.True(metrics.TryAdd(metric.Name, metric), $"{metric.Name} is declared by both {metric.Source} and {metrics.GetValueOrDefault(metric.Name)?.Source}");
        }
        return metrics;
    }

    private static IEnumerable<CatalogMetric> Instrumentation() =>
        MetricCatalog.All.SelectMany(d =>
        {
            var labels = Labels(d.Attributes);
            return d.Kind == MetricInstrumentKind.Histogram
                ? HistogramSeries(d.PrometheusName, labels, nameof(MetricCatalog))
                : [new CatalogMetric(d.PrometheusName, labels, nameof(MetricCatalog))];
        });

    private static IEnumerable<CatalogMetric> Analytics() =>
        AnalyticsMetricCatalog.All.Select(d => new CatalogMetric(d.PrometheusName, Labels(d.Labels), nameof(AnalyticsMetricCatalog)));

    private static IEnumerable<CatalogMetric> AgentProcess() =>
        ProcessMetricCatalog.All.Select(d => new CatalogMetric(d.PrometheusName, Labels(d.Attributes), nameof(ProcessMetricCatalog)));

    private static IEnumerable<CatalogMetric> Thresholds() =>
        ThresholdMetricCatalog.All.Select(d => new CatalogMetric(d.PrometheusName, Labels(d.Labels), nameof(ThresholdMetricCatalog)));

    private static IEnumerable<CatalogMetric> Cost() =>
        CostMetricCatalog.All.Select(d => new CatalogMetric(d.PrometheusName, Labels(d.Labels), nameof(CostMetricCatalog)));

    private static List<CatalogMetric> CollectorSelfMetrics()
    {
        // The class declares its attribute keys as *Attribute constants; any of its instruments may carry them.
        var labels = Labels(typeof(CollectorMetrics).GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.Name.EndsWith("Attribute", StringComparison.Ordinal))
            .Select(f => (string)f.GetRawConstantValue()!));

        using var factory = new ObservingMeterFactory();
        var instruments = new List<Instrument>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, _) =>
            {
                if (factory.Created(instrument.Meter))
                {
                    instruments.Add(instrument);
                }
            },
        };
        listener.Start();
        var collectorMetrics = new CollectorMetrics(factory);
        // The queue's gauges are created when the queue registers its callbacks.
        collectorMetrics.ObserveQueue(() => 0, () => 0);
        // So is the attribution's gauge, when the writer starts holding records back.
        collectorMetrics.ObserveAttribution(() => 0);

        var result = new List<CatalogMetric>();
        foreach (var instrument in instruments)
        {
            var type = instrument.GetType().IsGenericType ? instrument.GetType().GetGenericTypeDefinition() : instrument.GetType();
            var isCounter = type == typeof(Counter<>) || type == typeof(ObservableCounter<>);
            var isHistogram = type == typeof(Histogram<>);
            var name = PrometheusNaming.Metric(instrument.Name, instrument.Unit, isCounter, isGauge: !isCounter && !isHistogram);
            result.AddRange(isHistogram ? HistogramSeries(name, labels, nameof(CollectorMetrics)) : [new CatalogMetric(name, labels, nameof(CollectorMetrics))]);
        }
        Assert.True(result.Count > 0, "CollectorMetrics published no instrument");
        return result;
    }

    private static HashSet<string> Labels(IEnumerable<string> attributeKeys) =>
        attributeKeys.Select(PrometheusNaming.Label).ToHashSet(StringComparer.Ordinal);

    private static IEnumerable<CatalogMetric> HistogramSeries(string family, HashSet<string> labels, string source) =>
    [
        new(family + "_bucket", new HashSet<string>(labels.Append("le"), StringComparer.Ordinal), source),
        new(family + "_sum", labels, source),
        new(family + "_count", labels, source),
    ];

    /// <summary>Creates meters for the instrumented class and remembers them, so the listener picks only their instruments.</summary>
    private sealed class ObservingMeterFactory : IMeterFactory
    {
        private readonly List<Meter> meters = [];

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options);
            meters.Add(meter);
            return meter;
        }

        public bool Created(Meter meter) => meters.Contains(meter);

        public void Dispose()
        {
            foreach (var meter in meters)
            {
                meter.Dispose();
            }
        }
    }
}

using System.Collections;
using System.Diagnostics.Metrics;
using System.Reflection;

namespace PerfOtel.Alerting.Tests.Catalog;

/// <summary>
/// Every series the code declares, read from the catalogs in the instrumentation and collector assemblies: the
/// instrumentation's <c>MetricCatalog</c>, the analytics' <c>AnalyticsMetricCatalog</c>, the cost and budget
/// <c>CostMetricCatalog</c>, and the collector's own
/// <c>CollectorMetrics</c> (instantiated, its instruments observed with a MeterListener). The catalogs are found by
/// name so that this project builds while they are still landing; a catalog that is not in the assemblies yet is
/// replaced by <see cref="PendingCatalogs"/> and listed in <see cref="Unchecked"/>, which the tests print.
/// </summary>
internal sealed class CodeCatalog
{
    public const string InstrumentationCatalogType = "PerfOtel.Instrumentation.Conventions.MetricCatalog";
    public const string AnalyticsCatalogType = "PerfOtel.Collector.Analytics.Metrics.AnalyticsMetricCatalog";
    public const string CollectorMetricsType = "PerfOtel.Collector.Telemetry.CollectorMetrics";
    public const string CostCatalogType = "PerfOtel.Collector.Cost.Metrics.CostMetricCatalog";

    private static readonly Lazy<CodeCatalog> Loaded = new(Load);

    private CodeCatalog(Dictionary<string, CatalogMetric> metrics, List<string> pendingSources)
    {
        Metrics = metrics;
        Unchecked = pendingSources;
    }

    public static CodeCatalog Instance => Loaded.Value;

    /// <summary>By Prometheus series name (histograms contribute their <c>_bucket</c>, <c>_sum</c> and <c>_count</c>).</summary>
    public IReadOnlyDictionary<string, CatalogMetric> Metrics { get; }

    /// <summary>Catalogs that the code does not contain yet, whose names come from <see cref="PendingCatalogs"/>.</summary>
    public IReadOnlyList<string> Unchecked { get; }

    private static Assembly Instrumentation => typeof(PerfOtel.Instrumentation.Conventions.GenAiAttributes).Assembly;

    private static Assembly Collector => typeof(PerfOtel.Collector.Model.AgentInvocation).Assembly;

    private static CodeCatalog Load()
    {
        var metrics = new Dictionary<string, CatalogMetric>(StringComparer.Ordinal);
        var pendingSources = new List<string>();

        void Use(string source, IEnumerable<CatalogMetric>? found, IEnumerable<CatalogMetric> pending)
        {
            if (found is null)
            {
                pendingSources.Add(source);
            }
            foreach (var metric in found ?? pending)
            {
                metrics[metric.Name] = metric;
            }
        }

        Use(InstrumentationCatalogType, ReadInstrumentation(), PendingCatalogs.Instrumentation);
        Use(AnalyticsCatalogType, ReadCollectorCatalog(AnalyticsCatalogType), PendingCatalogs.Analytics);
        Use(CostCatalogType, ReadCollectorCatalog(CostCatalogType), PendingCatalogs.Cost);
        Use(CollectorMetricsType, ReadCollectorMetrics(), PendingCatalogs.CollectorSelfMetrics);
        return new CodeCatalog(metrics, pendingSources);
    }

    private static List<CatalogMetric>? ReadInstrumentation()
    {
        var type = Instrumentation.GetType(InstrumentationCatalogType);
        if (type is null)
        {
            return null;
        }
        var result = new List<CatalogMetric>();
        foreach (var definition in (IEnumerable)StaticProperty(type, "All"))
        {
            var name = (string)Property(definition, "PrometheusName");
            var kind = Property(definition, "Kind").ToString();
            var labels = ((IEnumerable<string>)Property(definition, "Attributes")).Select(PrometheusNaming.Label).ToHashSet(StringComparer.Ordinal);
            result.AddRange(kind == "Histogram" ? HistogramSeries(name, labels, InstrumentationCatalogType) : [new CatalogMetric(name, labels, InstrumentationCatalogType)]);
        }
        return result;
    }

    /// <summary>The collector's catalogs list each series with its Prometheus name and labels.</summary>
    private static List<CatalogMetric>? ReadCollectorCatalog(string typeName)
    {
        var type = Collector.GetType(typeName);
        if (type is null)
        {
            return null;
        }
        return ((IEnumerable)StaticProperty(type, "All")).Cast<object>()
            .Select(d => new CatalogMetric(
                (string)Property(d, "PrometheusName"),
                ((IEnumerable<string>)Property(d, "Labels")).Select(PrometheusNaming.Label).ToHashSet(StringComparer.Ordinal),
                typeName))
            .ToList();
    }

    private static List<CatalogMetric>? ReadCollectorMetrics()
    {
        var type = Collector.GetType(CollectorMetricsType);
        if (type is null)
        {
            return null;
        }
        // The class declares its attribute keys as *Attribute constants; any of its instruments may carry them.
        var labels = type.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.Name.EndsWith("Attribute", StringComparison.Ordinal))
            .Select(f => PrometheusNaming.Label((string)f.GetRawConstantValue()!))
            .ToHashSet(StringComparer.Ordinal);

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
        var collectorMetrics = Activator.CreateInstance(type, factory)!;
        // Gauges observed from other components are created when those components register their callbacks.
        foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance)
                     .Where(m => m.ReturnType == typeof(void) && m.GetParameters().Length > 0 && m.GetParameters().All(p => p.ParameterType == typeof(Func<long>))))
        {
            method.Invoke(collectorMetrics, method.GetParameters().Select(_ => (object)new Func<long>(() => 0)).ToArray());
        }

        var result = new List<CatalogMetric>();
        foreach (var instrument in instruments)
        {
            var generic = instrument.GetType().IsGenericType ? instrument.GetType().GetGenericTypeDefinition() : instrument.GetType();
            var isCounter = generic == typeof(Counter<>) || generic == typeof(ObservableCounter<>);
            var isHistogram = generic == typeof(Histogram<>);
            var name = PrometheusNaming.Metric(instrument.Name, instrument.Unit, isCounter, isGauge: !isCounter && !isHistogram);
            result.AddRange(isHistogram ? HistogramSeries(name, labels, CollectorMetricsType) : [new CatalogMetric(name, labels, CollectorMetricsType)]);
        }
        return result;
    }

    private static IEnumerable<CatalogMetric> HistogramSeries(string family, HashSet<string> labels, string source) =>
    [
        new(family + "_bucket", new HashSet<string>(labels.Append("le"), StringComparer.Ordinal), source),
        new(family + "_sum", labels, source),
        new(family + "_count", labels, source),
    ];

    private static object StaticProperty(Type type, string name) =>
        type.GetProperty(name, BindingFlags.Public | BindingFlags.Static)?.GetValue(null)
        ?? throw new InvalidOperationException($"{type.FullName}.{name} not found: the catalog changed shape, update {nameof(CodeCatalog)}.");

    private static object Property(object instance, string name) =>
        instance.GetType().GetProperty(name)?.GetValue(instance)
        ?? throw new InvalidOperationException($"{instance.GetType().FullName}.{name} not found: the catalog changed shape, update {nameof(CodeCatalog)}.");

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

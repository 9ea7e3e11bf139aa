using System.Diagnostics.Metrics;
using System.Globalization;
using PerfOtel.Collector.Analytics.Reports;
using PerfOtel.Collector.Analytics.Windows;
using PerfOtel.Instrumentation.Conventions;
using C = PerfOtel.Collector.Analytics.Metrics.AnalyticsMetricCatalog;

namespace PerfOtel.Collector.Analytics.Metrics;

/// <summary>
/// The observable instruments of <see cref="AnalyticsMetricCatalog"/>. Nothing is recorded ahead of time: each
/// collection reads the (cached) reports of every agent and window. Values that are withheld (no data, too few
/// calibration samples) are simply not observed, so their series are absent rather than zero.
/// </summary>
internal sealed class AnalyticsMetrics : IDisposable
{
    private static readonly string[] BinNames = Enumerable.Range(0, 100)
        .Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();

    private readonly RollingWindows windows;
    private readonly Meter meter;

    public AnalyticsMetrics(RollingWindows windows, IMeterFactory meterFactory)
        : this(windows, meterFactory, C.MeterName)
    {
    }

    /// <summary>
    /// With another meter name: a MeterProvider subscribes to meters by name across the whole process, so tests that
    /// run several collectors side by side give each its own name to read only its own windows.
    /// </summary>
    internal AnalyticsMetrics(RollingWindows windows, IMeterFactory meterFactory, string meterName)
    {
        this.windows = windows;
        meter = meterFactory.Create(meterName, typeof(AnalyticsMetrics).Assembly.GetName().Version?.ToString());

        Gauge(C.HealthScore, r => r.HealthScore);
        Gauge(C.SuccessRatio, r => r.SuccessRate);
        Gauge(C.ErrorRatio, r => r.ErrorRate);
        Gauge(C.LatencyP95, r => r.LatencyP95Seconds);
        Gauge(C.Accuracy, r => r.Accuracy);
        Gauge(C.CalibrationError, r => r.Calibration.ExpectedCalibrationError);
        Gauge(C.CalibrationMaxError, r => r.Calibration.MaximumCalibrationError);
        Gauge(C.BrierScore, r => r.Calibration.BrierScore);
        Gauge(C.Overconfidence, r => r.Calibration.Overconfidence);
        Gauge(C.ReliabilityScore, r => r.ReliabilityScore);
        Gauge(C.EfficiencyScore, r => r.EfficiencyScore);
        Gauge(C.SpecializationScore, r => r.SpecializationScore);
        Gauge(C.AnomalyScore, r => r.Anomaly.Score);
        Create(C.Trend, Trends);
        BinGauge(C.CalibrationBinSuccessRatio, withheldBelowMinimum: true, b => b.SuccessRate);
        BinGauge(C.CalibrationBinConfidence, withheldBelowMinimum: true, b => b.MeanConfidence);
        BinGauge(C.CalibrationBinSamples, withheldBelowMinimum: false, b => b.Samples);
        BinGauge(C.CalibrationBinConfidenceSum, withheldBelowMinimum: false, b => b.ConfidenceSum);
        BinGauge(C.CalibrationBinSuccesses, withheldBelowMinimum: false, b => b.Successes);
        Gauge(C.BrierSquaredErrorSum, r => r.Calibration.Samples > 0 ? r.Calibration.SquaredErrorSum : null);
        Gauge(C.AccuracySum, r => r.AccuracySamples > 0 ? r.AccuracySum : null);
        Gauge(C.AccuracySamples, r => r.AccuracySamples > 0 ? r.AccuracySamples : null);
        Create(C.Invocations, InvocationsByOutcome);
        Gauge(C.DurationSum, r => r.Invocations > 0 ? r.DurationSumSeconds : null);
        Gauge(C.Tokens, r => r.ProviderCalls > 0 ? r.Tokens : null);
        Gauge(C.CostUsd, r => r.ProviderCalls > 0 ? r.CostUsd : null);
        Create(C.TenantHealthScore, TenantHealth);
    }

    public void Dispose() => meter.Dispose();

    private void Create(AnalyticsMetricDefinition definition, Func<IEnumerable<Measurement<double>>> observe) =>
        meter.CreateObservableGauge(definition.Name, observe, definition.Unit, definition.Description);

    private void Gauge(AnalyticsMetricDefinition definition, Func<AgentReport, double?> value) =>
        Create(definition, () =>
        {
            var entries = Entries();
            var measurements = new List<Measurement<double>>(entries.Count);
            foreach (var entry in entries)
            {
                if (value(entry.Report) is { } v)
                {
                    measurements.Add(new Measurement<double>(v, entry.Tags));
                }
            }
            return measurements;
        });

    private void BinGauge(AnalyticsMetricDefinition definition, bool withheldBelowMinimum, Func<CalibrationBinReport, double?> value) =>
        Create(definition, () =>
        {
            var measurements = new List<Measurement<double>>();
            foreach (var entry in Entries())
            {
                if (withheldBelowMinimum && entry.Report.Calibration.Withheld)
                {
                    continue;
                }
                foreach (var bin in entry.Report.Calibration.Bins)
                {
                    if (bin.Samples > 0 && value(bin) is { } v)
                    {
                        measurements.Add(new Measurement<double>(v, entry.BinTags[bin.Bin]!));
                    }
                }
            }
            return measurements;
        });

    private List<Measurement<double>> Trends()
    {
        var measurements = new List<Measurement<double>>();
        foreach (var entry in Entries())
        {
            foreach (var (metric, direction) in entry.Report.Trends)
            {
                measurements.Add(new Measurement<double>(direction, entry.TrendTags[metric]));
            }
        }
        return measurements;
    }

    private List<Measurement<double>> InvocationsByOutcome()
    {
        var measurements = new List<Measurement<double>>();
        foreach (var entry in Entries())
        {
            var report = entry.Report;
            if (report.Invocations > 0)
            {
                measurements.Add(new Measurement<double>(report.Successes, entry.OutcomeTags[0]));
                measurements.Add(new Measurement<double>(report.Failures, entry.OutcomeTags[1]));
                measurements.Add(new Measurement<double>(report.Partials, entry.OutcomeTags[2]));
            }
        }
        return measurements;
    }

    private List<Measurement<double>> TenantHealth()
    {
        var measurements = new List<Measurement<double>>();
        foreach (var tenant in windows.Tenants())
        {
            for (var w = 0; w < windows.Windows.Count; w++)
            {
                if (windows.TenantReport(tenant, w).HealthScore is { } score)
                {
                    measurements.Add(new Measurement<double>(score,
                        new KeyValuePair<string, object?>(C.TenantLabel, tenant),
                        new KeyValuePair<string, object?>(C.WindowLabel, windows.Windows[w].Name)));
                }
            }
        }
        return measurements;
    }

    /// <summary>
    /// The reports of every (agent, window) with data, with their label sets, shared by all callbacks of a collection
    /// and by later collections until a window changes or the clock enters a new bucket: a scrape of an unchanged fleet
    /// re-derives and re-allocates nothing.
    /// </summary>
    private List<Entry> Entries()
    {
        var now = windows.Now;
        var changes = windows.Changes;
        var tick = now.UtcTicks / TimeSpan.TicksPerSecond;
        lock (entriesGate)
        {
            if (entries is not null && entriesChanges == changes && entriesTick == tick)
            {
                return entries;
            }
        }

        var previous = new Dictionary<(AgentWindows, int), Entry>();
        lock (entriesGate)
        {
            foreach (var entry in entries ?? [])
            {
                previous[(entry.Agent, entry.Window)] = entry;
            }
        }
        var built = new List<Entry>(previous.Count);
        foreach (var agent in windows.AllAgents)
        {
            for (var w = 0; w < windows.Windows.Count; w++)
            {
                var report = windows.Report(agent, w);
                if (report.Invocations == 0 && report.ProviderCalls == 0 && report.AccuracySamples == 0)
                {
                    continue;
                }
                built.Add(previous.TryGetValue((agent, w), out var old) && ReferenceEquals(old.Report, report)
                    ? old
                    : new Entry(agent, w, report));
            }
        }
        lock (entriesGate)
        {
            entries = built;
            entriesChanges = changes;
            entriesTick = tick;
        }
        return built;
    }

    private readonly object entriesGate = new();
    private List<Entry>? entries;
    private long entriesChanges = -1;
    private long entriesTick;

    /// <summary>One (agent, window) report with the label sets its measurements use, built once per report.</summary>
    private sealed class Entry
    {
        private static readonly string[] OutcomeValues = [Outcomes.Success, Outcomes.Failure, Outcomes.Partial];

        public Entry(AgentWindows agent, int window, AgentReport report)
        {
            Agent = agent;
            Window = window;
            Report = report;
            Tags = [new(C.TenantLabel, report.Tenant), new(C.AgentLabel, report.Agent), new(C.WindowLabel, report.Window)];
            BinTags = new KeyValuePair<string, object?>[]?[report.Calibration.Bins.Count];
            foreach (var bin in report.Calibration.Bins)
            {
                if (bin.Samples > 0)
                {
                    BinTags[bin.Bin] = With(C.BinLabel, BinNames[bin.Bin]);
                }
            }
            TrendTags = report.Trends.Keys.ToDictionary(metric => metric, metric => With(C.MetricLabel, metric), StringComparer.Ordinal);
            OutcomeTags = OutcomeValues.Select(outcome => With(C.OutcomeLabel, outcome)).ToArray();
        }

        public AgentWindows Agent { get; }
        public int Window { get; }
        public AgentReport Report { get; }
        public KeyValuePair<string, object?>[] Tags { get; }
        public KeyValuePair<string, object?>[]?[] BinTags { get; }
        public Dictionary<string, KeyValuePair<string, object?>[]> TrendTags { get; }
        public KeyValuePair<string, object?>[][] OutcomeTags { get; }

        private KeyValuePair<string, object?>[] With(string label, string value) => [.. Tags, new(label, value)];
    }
}

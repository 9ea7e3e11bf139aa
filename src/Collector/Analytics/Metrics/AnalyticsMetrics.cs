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
        Create(definition, () => Observe(report => value(report) is { } v
            ? [new Measurement<double>(v, AgentTags(report))]
            : []));

    private void BinGauge(AnalyticsMetricDefinition definition, bool withheldBelowMinimum, Func<CalibrationBinReport, double?> value) =>
        Create(definition, () => Observe(report =>
        {
            if (withheldBelowMinimum && report.Calibration.Withheld)
            {
                return [];
            }
            var measurements = new List<Measurement<double>>();
            foreach (var bin in report.Calibration.Bins)
            {
                if (bin.Samples > 0 && value(bin) is { } v)
                {
                    measurements.Add(new Measurement<double>(v, AgentTags(report, C.BinLabel, BinNames[bin.Bin])));
                }
            }
            return measurements;
        }));

    private IEnumerable<Measurement<double>> Trends() => Observe(report =>
        report.Trends.Select(trend => new Measurement<double>(trend.Value, AgentTags(report, C.MetricLabel, trend.Key))));

    private IEnumerable<Measurement<double>> InvocationsByOutcome() => Observe(report => report.Invocations == 0
        ? []
        :
        [
            new Measurement<double>(report.Successes, AgentTags(report, C.OutcomeLabel, Outcomes.Success)),
            new Measurement<double>(report.Failures, AgentTags(report, C.OutcomeLabel, Outcomes.Failure)),
            new Measurement<double>(report.Partials, AgentTags(report, C.OutcomeLabel, Outcomes.Partial)),
        ]);

    private IEnumerable<Measurement<double>> TenantHealth()
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

    private List<Measurement<double>> Observe(Func<AgentReport, IEnumerable<Measurement<double>>> measure)
    {
        var measurements = new List<Measurement<double>>();
        foreach (var agent in windows.AllAgents)
        {
            for (var w = 0; w < windows.Windows.Count; w++)
            {
                var report = windows.Report(agent, w);
                if (report.Invocations == 0 && report.ProviderCalls == 0 && report.AccuracySamples == 0)
                {
                    continue;
                }
                measurements.AddRange(measure(report));
            }
        }
        return measurements;
    }

    private static KeyValuePair<string, object?>[] AgentTags(AgentReport report) =>
    [
        new(C.TenantLabel, report.Tenant),
        new(C.AgentLabel, report.Agent),
        new(C.WindowLabel, report.Window),
    ];

    private static KeyValuePair<string, object?>[] AgentTags(AgentReport report, string extraLabel, string extraValue) =>
    [
        new(C.TenantLabel, report.Tenant),
        new(C.AgentLabel, report.Agent),
        new(C.WindowLabel, report.Window),
        new(extraLabel, extraValue),
    ];
}

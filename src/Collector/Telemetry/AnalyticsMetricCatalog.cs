using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Telemetry;

/// <summary>
/// Every analytics metric, as <see cref="MetricDefinition"/>s of kind gauge (units: <c>{annotation}</c> adds no Prometheus
/// suffix, <c>1</c> adds nothing, a ratio says <c>_ratio</c> in its name, <c>s</c> adds <c>_seconds</c>): all are read from the rolling windows at scrape time and written into the scrape by
/// <c>Exposure/Metrics/AnalyticsExposition</c> (a PerfOtel.Exporter producer, not an OpenTelemetry Meter). The derived gauges are what dashboards and rules read; the mergeable ones are the
/// additive statistics of the same windows, which PromQL <c>sum by</c> adds across collector replicas and from which the
/// derived gauges are recomputed (docs/collector/analytics.md).
/// </summary>
public static class AnalyticsMetricCatalog
{
    public const string TenantLabel = "tenant";
    public const string AgentLabel = "agent";
    public const string WindowLabel = "window";
    public const string MetricLabel = "metric";
    public const string BinLabel = "bin";
    public const string OutcomeLabel = "outcome";

    private static readonly string[] AgentLabels = [TenantLabel, AgentLabel, WindowLabel];
    private static readonly string[] TrendLabels = [TenantLabel, AgentLabel, WindowLabel, MetricLabel];
    private static readonly string[] BinLabels = [TenantLabel, AgentLabel, WindowLabel, BinLabel];
    private static readonly string[] OutcomeLabels = [TenantLabel, AgentLabel, WindowLabel, OutcomeLabel];
    private static readonly string[] TenantLabels = [TenantLabel, WindowLabel];
    private static readonly string[] LivenessLabels = [TenantLabel, AgentLabel];

    public static readonly MetricDefinition HealthScore = Derived("perfotel.agent.health_score", "{score}",
        "Health score 0-100 of the agent over the window: 100*(40s + 30l + 20(1-e) + 10a + 10q)/(90 + 10[accuracy known] + 10[quality known]).",
        "perfotel_agent_health_score");
    public static readonly MetricDefinition SuccessRatio = Derived("perfotel.agent.success_ratio", "1",
        "Share of the agent's invocations in the window that succeeded.", "perfotel_agent_success_ratio");
    public static readonly MetricDefinition ErrorRatio = Derived("perfotel.agent.error_ratio", "1",
        "Share of the agent's invocations in the window that failed.", "perfotel_agent_error_ratio");
    public static readonly MetricDefinition LatencyP95 = Derived("perfotel.agent.latency.p95", "s",
        "95th percentile of the agent's invocation latency in the window (log-bucketed, within 4.9 %).",
        "perfotel_agent_latency_p95_seconds");
    public static readonly MetricDefinition Accuracy = Derived("perfotel.agent.accuracy", "{accuracy}",
        "Mean accuracy 0-1 of the agent's answers in the window (feedback and accuracy evaluations).",
        "perfotel_agent_accuracy");
    public static readonly MetricDefinition Quality = Derived("perfotel.agent.quality", "{quality}",
        "Mean quality score 0-1 (perfotel.quality) of the agent's invocations in the window.",
        "perfotel_agent_quality");
    public static readonly MetricDefinition CalibrationError = Derived("perfotel.agent.calibration_error", "{error}",
        "Expected calibration error (ECE) of the agent's confidence in the window; absent below the minimum sample count.",
        "perfotel_agent_calibration_error");
    public static readonly MetricDefinition CalibrationMaxError = Derived("perfotel.agent.calibration_max_error", "{error}",
        "Maximum calibration error (MCE) over non-empty confidence bins; absent below the minimum sample count.",
        "perfotel_agent_calibration_max_error");
    public static readonly MetricDefinition BrierScore = Derived("perfotel.agent.brier_score", "{score}",
        "Brier score: mean squared difference of confidence and outcome; absent below the minimum sample count.",
        "perfotel_agent_brier_score");
    public static readonly MetricDefinition Overconfidence = Derived("perfotel.agent.overconfidence", "{difference}",
        "Mean confidence minus success rate over calibration samples; absent below the minimum sample count.",
        "perfotel_agent_overconfidence");
    public static readonly MetricDefinition ReliabilityScore = Derived("perfotel.agent.reliability_score", "{score}",
        "Wilson 95 % lower bound of the agent's success rate in the window.", "perfotel_agent_reliability_score");
    public static readonly MetricDefinition EfficiencyScore = Derived("perfotel.agent.efficiency_score", "{score}",
        "Latency term of the health score times quality (accuracy, else success rate), 0-1.",
        "perfotel_agent_efficiency_score");
    public static readonly MetricDefinition SpecializationScore = Derived("perfotel.agent.specialization_score", "{score}",
        "Success rate on the agent's main task type minus that on its other task types, -1 to 1.",
        "perfotel_agent_specialization_score");
    public static readonly MetricDefinition AnomalyScore = Derived("perfotel.agent.anomaly_score", "{score}",
        "Largest |EWMA z-score| of the latest completed bucket's success rate, latency and cost; 3 or more is an anomaly.",
        "perfotel_agent_anomaly_score");
    public static readonly MetricDefinition Trend = Gauge("perfotel.agent.trend", "{trend}",
        "Trend of a metric against the previous window: -1 degrading, 0 stable (within 5 %), 1 improving.",
        "perfotel_agent_trend", TrendLabels, mergeable: false);
    public static readonly MetricDefinition CalibrationBinSuccessRatio = Gauge("perfotel.agent.calibration.bin.success_ratio", "1",
        "Success rate of the calibration samples in a confidence bin (reliability diagram); absent below the minimum sample count.",
        "perfotel_agent_calibration_bin_success_ratio", BinLabels, mergeable: false);
    public static readonly MetricDefinition CalibrationBinConfidence = Gauge("perfotel.agent.calibration.bin.confidence", "{confidence}",
        "Mean confidence of the calibration samples in a confidence bin; absent below the minimum sample count.",
        "perfotel_agent_calibration_bin_confidence", BinLabels, mergeable: false);
    public static readonly MetricDefinition CalibrationBinSamples = Gauge("perfotel.agent.calibration.bin.samples", "{sample}",
        "Calibration samples in a confidence bin (non-empty bins only; always exposed, mergeable).",
        "perfotel_agent_calibration_bin_samples", BinLabels, mergeable: true);
    public static readonly MetricDefinition CalibrationBinConfidenceSum = Gauge("perfotel.agent.calibration.bin.confidence_sum", "{confidence}",
        "Sum of the confidences of the calibration samples in a bin (mergeable).",
        "perfotel_agent_calibration_bin_confidence_sum", BinLabels, mergeable: true);
    public static readonly MetricDefinition CalibrationBinSuccesses = Gauge("perfotel.agent.calibration.bin.successes", "{success}",
        "Successful calibration samples in a confidence bin (mergeable).",
        "perfotel_agent_calibration_bin_successes", BinLabels, mergeable: true);
    public static readonly MetricDefinition BrierSquaredErrorSum = Sum("perfotel.agent.brier.squared_error_sum", "{error}",
        "Sum of (confidence - outcome)^2 over the calibration samples (mergeable).", "perfotel_agent_brier_squared_error_sum");
    public static readonly MetricDefinition AccuracySum = Sum("perfotel.agent.accuracy.sum", "{accuracy}",
        "Sum of the accuracy samples (mergeable).", "perfotel_agent_accuracy_sum");
    public static readonly MetricDefinition AccuracySamples = Sum("perfotel.agent.accuracy.samples", "{sample}",
        "Number of accuracy samples (mergeable).", "perfotel_agent_accuracy_samples");
    public static readonly MetricDefinition QualitySum = Sum("perfotel.agent.quality.sum", "{quality}",
        "Sum of the quality scores of the agent's invocations in the window (mergeable).", "perfotel_agent_quality_sum");
    public static readonly MetricDefinition QualitySamples = Sum("perfotel.agent.quality.samples", "{sample}",
        "Invocations in the window that carried a quality score (mergeable).", "perfotel_agent_quality_samples");
    public static readonly MetricDefinition Invocations = Gauge("perfotel.agent.window.invocations", "{invocation}",
        "Invocations in the window by outcome (mergeable).", "perfotel_agent_window_invocations", OutcomeLabels, mergeable: true);
    public static readonly MetricDefinition DurationSum = Sum("perfotel.agent.window.duration_sum", "s",
        "Sum of invocation latencies in the window (mergeable).", "perfotel_agent_window_duration_sum_seconds");
    public static readonly MetricDefinition Tokens = Sum("perfotel.agent.window.tokens", "{token}",
        "Input plus output tokens of the agent's provider calls in the window (mergeable).", "perfotel_agent_window_tokens");
    public static readonly MetricDefinition CostUsd = Sum("perfotel.agent.window.cost_usd", "{USD}",
        "Cost in US dollars of the agent's provider calls in the window (mergeable).", "perfotel_agent_window_cost_usd");
    public static readonly MetricDefinition TenantHealthScore = Gauge("perfotel.tenant.health_score", "{score}",
        "Health score 0-100 of the whole tenant over the window, from the summed statistics of all its agents.",
        "perfotel_tenant_health_score", TenantLabels, mergeable: false);

    public static readonly MetricDefinition AgentLastSeen = Gauge("perfotel.agent.last_seen.timestamp", "s",
        "Unix time of the agent's latest record (an invocation's end, a call's start, an evaluation); merge replicas with max().",
        "perfotel_agent_last_seen_timestamp_seconds", LivenessLabels, mergeable: false);

    /// <summary>Every metric, in exposition order.</summary>
    public static IReadOnlyList<MetricDefinition> All { get; } =
    [
        HealthScore, SuccessRatio, ErrorRatio, LatencyP95, Accuracy, Quality, CalibrationError, CalibrationMaxError, BrierScore,
        Overconfidence, ReliabilityScore, EfficiencyScore, SpecializationScore, AnomalyScore, Trend,
        CalibrationBinSuccessRatio, CalibrationBinConfidence, CalibrationBinSamples, CalibrationBinConfidenceSum,
        CalibrationBinSuccesses, BrierSquaredErrorSum, AccuracySum, AccuracySamples, QualitySum, QualitySamples, Invocations, DurationSum, Tokens,
        CostUsd, TenantHealthScore, AgentLastSeen,
    ];

    private static MetricDefinition Derived(string name, string unit, string description, string prometheusName) =>
        Gauge(name, unit, description, prometheusName, AgentLabels, mergeable: false);

    private static MetricDefinition Sum(string name, string unit, string description, string prometheusName) =>
        Gauge(name, unit, description, prometheusName, AgentLabels, mergeable: true);

    /// <summary>A gauge of doubles written by the analytics producer.</summary>
    internal static MetricDefinition Gauge(
        string name, string unit, string description, string prometheusName, IReadOnlyList<string> labels, bool mergeable) =>
        new(name, MetricInstrumentKind.Gauge, "double", unit, description, prometheusName, labels, null) { Mergeable = mergeable };
}

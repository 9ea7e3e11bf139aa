namespace PerfOtel.Alerting.Tests.Catalog;

/// <summary>
/// Names of catalogs that are written in parallel and may not be in the code yet, copied from their authors' work in
/// progress (issues 2, 5, 6 and the collector's self-metrics). <see cref="CodeCatalog"/> uses a list here only while
/// the matching catalog class is missing from the assemblies; once the class lands, the class is the truth and a
/// list here is ignored (delete it then). Only the names the rules and dashboards use are listed.
/// </summary>
internal static class PendingCatalogs
{
    private const string Source = "pending";

    // Instrumentation attribute keys as Prometheus labels.
    private static readonly string[] ProviderCall = ["gen_ai_operation_name", "gen_ai_provider_name", "gen_ai_request_model", "gen_ai_response_model", "perfotel_tenant", "gen_ai_agent_name"];

    public static IEnumerable<CatalogMetric> Instrumentation { get; } =
    [
        .. Histogram("gen_ai_client_token_usage", [.. ProviderCall, "gen_ai_token_type"]),
        .. Histogram("gen_ai_client_operation_duration_seconds", [.. ProviderCall, "error_type"]),
        .. Histogram("gen_ai_invoke_agent_duration_seconds", ["gen_ai_operation_name", "perfotel_tenant", "gen_ai_agent_name", "perfotel_agent_type", "perfotel_outcome", "error_type"]),
        .. Histogram("gen_ai_execute_tool_duration_seconds", ["gen_ai_operation_name", "perfotel_tenant", "gen_ai_agent_name", "gen_ai_tool_name", "error_type"]),
        Metric("perfotel_agent_invocations_total", "perfotel_tenant", "gen_ai_agent_name", "perfotel_agent_type", "perfotel_outcome", "error_type"),
        Metric("perfotel_agent_cost_usd_total", "perfotel_tenant", "gen_ai_agent_name", "perfotel_agent_type", "gen_ai_provider_name", "gen_ai_request_model"),
        .. Histogram("perfotel_agent_confidence", ["perfotel_tenant", "gen_ai_agent_name", "perfotel_agent_type", "perfotel_outcome"]),
        .. Histogram("perfotel_evaluation_score", ["perfotel_tenant", "gen_ai_agent_name", "perfotel_agent_type", "gen_ai_evaluation_name"]),
        Metric("perfotel_provider_retries_total", "perfotel_tenant", "gen_ai_agent_name", "gen_ai_provider_name", "gen_ai_request_model"),
        Metric("perfotel_provider_fallbacks_total", "perfotel_tenant", "gen_ai_agent_name", "gen_ai_provider_name", "gen_ai_request_model"),
        Metric("perfotel_unpriced_tokens_total", "perfotel_tenant", "gen_ai_agent_name", "gen_ai_provider_name", "gen_ai_request_model", "gen_ai_token_type"),
    ];

    public static IEnumerable<CatalogMetric> Analytics { get; } =
    [
        .. Agent("perfotel_agent_health_score", "perfotel_agent_success_ratio", "perfotel_agent_error_ratio",
            "perfotel_agent_latency_p95_seconds", "perfotel_agent_accuracy", "perfotel_agent_calibration_error",
            "perfotel_agent_calibration_max_error", "perfotel_agent_brier_score", "perfotel_agent_overconfidence",
            "perfotel_agent_reliability_score", "perfotel_agent_efficiency_score", "perfotel_agent_specialization_score",
            "perfotel_agent_anomaly_score", "perfotel_agent_brier_squared_error_sum", "perfotel_agent_accuracy_sum",
            "perfotel_agent_accuracy_samples", "perfotel_agent_window_duration_sum_seconds", "perfotel_agent_window_tokens",
            "perfotel_agent_window_cost_usd"),
        Metric("perfotel_agent_trend", "tenant", "agent", "window", "metric"),
        Metric("perfotel_agent_calibration_bin_success_ratio", "tenant", "agent", "window", "bin"),
        Metric("perfotel_agent_calibration_bin_confidence", "tenant", "agent", "window", "bin"),
        Metric("perfotel_agent_calibration_bin_samples", "tenant", "agent", "window", "bin"),
        Metric("perfotel_agent_calibration_bin_confidence_sum", "tenant", "agent", "window", "bin"),
        Metric("perfotel_agent_calibration_bin_successes", "tenant", "agent", "window", "bin"),
        Metric("perfotel_agent_window_invocations", "tenant", "agent", "window", "outcome"),
        Metric("perfotel_tenant_health_score", "tenant", "window"),
    ];

    public static IEnumerable<CatalogMetric> CollectorSelfMetrics { get; } =
        new[]
        {
            "perfotel_collector_spans_received_total", "perfotel_collector_spans_accepted_total",
            "perfotel_collector_spans_rejected_total", "perfotel_collector_log_records_received_total",
            "perfotel_collector_metric_points_received_total", "perfotel_collector_requests_total",
            "perfotel_collector_queue_records", "perfotel_collector_queue_bytes",
            "perfotel_collector_records_committed_total",
        }.Select(n => Metric(n, "reason", "signal", "http_response_status_code", "result"))
        .Concat(Histogram("perfotel_collector_store_write_duration_seconds", ["reason", "signal", "http_response_status_code", "result"]));

    // Issue 6: budgets per tenant (no agent label) or agent, by period; cost roll-ups; model comparison per window.
    public static IEnumerable<CatalogMetric> Cost { get; } =
    [
        Metric("perfotel_budget_spend_usd", "tenant", "agent", "period"),
        Metric("perfotel_budget_limit_usd", "tenant", "agent", "period"),
        Metric("perfotel_budget_utilization_ratio", "tenant", "agent", "period"),
        Metric("perfotel_budget_projected_month_spend_usd", "tenant", "agent"),
        Metric("perfotel_cost_usd_total", "tenant", "agent", "provider", "model"),
        Metric("perfotel_cost_unpriced_tokens_total", "tenant", "agent", "provider", "model"),
        .. new[]
        {
            "perfotel_model_success_ratio", "perfotel_model_latency_p95_seconds", "perfotel_model_cost_per_invocation_usd",
            "perfotel_model_accuracy", "perfotel_model_error_ratio", "perfotel_model_calls",
        }.Select(n => Metric(n, "tenant", "provider", "model", "window")),
    ];

    private static CatalogMetric Metric(string name, params string[] labels) => new(name, labels.ToHashSet(StringComparer.Ordinal), Source);

    private static IEnumerable<CatalogMetric> Agent(params string[] names) => names.Select(n => Metric(n, "tenant", "agent", "window"));

    private static IEnumerable<CatalogMetric> Histogram(string family, string[] labels) =>
    [
        Metric(family + "_bucket", [.. labels, "le"]),
        Metric(family + "_sum", labels),
        Metric(family + "_count", labels),
    ];
}

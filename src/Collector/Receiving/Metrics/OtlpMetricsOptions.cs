using Microsoft.Extensions.Options;

namespace PerfOtel.Collector.Receiving.Metrics;

/// <summary>
/// Configuration section <c>OtlpMetrics</c>: the GenAI and <c>perfotel.*</c> metrics pushed over OTLP and re-exposed on
/// the collector's <c>/metrics</c> (docs/collector/otlp-metrics.md). The number of series per tenant is bounded by the
/// cardinality guard's <c>Cardinality:MaxMetricSeriesPerTenant</c>.
/// </summary>
public sealed class OtlpMetricsOptions
{
    public const string SectionName = "OtlpMetrics";

    /// <summary>
    /// A series that no producer has pushed for this long leaves <c>/metrics</c> (and memory). Longer than the
    /// producers' export interval (60 s by default in the OpenTelemetry SDKs), so one late export does not make a
    /// series flap. Default 5 minutes.
    /// </summary>
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromMinutes(5);
}

internal sealed class OtlpMetricsOptionsValidator : IValidateOptions<OtlpMetricsOptions>
{
    public ValidateOptionsResult Validate(string? name, OtlpMetricsOptions options) =>
        options.StaleAfter < TimeSpan.FromSeconds(1) || options.StaleAfter > TimeSpan.FromDays(1)
            ? ValidateOptionsResult.Fail($"OtlpMetrics:StaleAfter must be between 00:00:01 and 1.00:00:00 (was {options.StaleAfter}).")
            : ValidateOptionsResult.Success;
}

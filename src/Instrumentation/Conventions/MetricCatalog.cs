namespace PerfOtel.Instrumentation.Conventions;

/// <summary>The kind of a metric instrument.</summary>
public enum MetricInstrumentKind
{
    /// <summary>A monotonic counter (a Prometheus counter, exposed with <c>_total</c>).</summary>
    Counter,

    /// <summary>A histogram with explicit bucket boundaries.</summary>
    Histogram,

    /// <summary>
    /// A value read at collection time (an observable gauge, an up-down counter, or a family a producer writes straight
    /// into the scrape): a Prometheus gauge, no suffix for the kind.
    /// </summary>
    Gauge,
}

/// <summary>
/// One metric PerfOtel emits: everything a reader, a dashboard or a rule needs to know about it. The one type every
/// catalog declares its metrics with: the instrumentation's (<see cref="MetricCatalog"/>, <see cref="ProcessMetricCatalog"/>)
/// and every family on the collector's <c>/metrics</c>; instruments and exposition code are created from it.
/// </summary>
/// <param name="Name">OpenTelemetry instrument name.</param>
/// <param name="Kind">Instrument kind.</param>
/// <param name="ValueType"><c>long</c> or <c>double</c>.</param>
/// <param name="Unit">UCUM unit; annotations in braces (<c>{token}</c>) carry no Prometheus suffix.</param>
/// <param name="Description">What it measures.</param>
/// <param name="PrometheusName">
/// The name a Prometheus exporter following the OpenTelemetry compatibility specification gives it: the counter's
/// sample name with <c>_total</c>, the histogram's family name (samples add <c>_bucket</c>, <c>_sum</c>, <c>_count</c>).
/// </param>
/// <param name="Attributes">Every attribute a point may carry, in order; all from the low-cardinality set.</param>
/// <param name="BucketBoundaries">Explicit histogram bucket boundaries; null for counters and gauges, and for a histogram whose
/// producer takes its bounds from elsewhere (the experiments' duration: the kernel's latency histogram).</param>
public sealed record MetricDefinition(
    string Name,
    MetricInstrumentKind Kind,
    string ValueType,
    string Unit,
    string Description,
    string PrometheusName,
    IReadOnlyList<string> Attributes,
    IReadOnlyList<double>? BucketBoundaries)
{
    /// <summary>
    /// True for an additive statistic (a count, a sum) that PromQL <c>sum()</c> merges across processes and replicas, from
    /// which derived values are recomputed.
    /// </summary>
    public bool Mergeable { get; init; }
}

/// <summary>
/// The catalog of every metric the instrumentation emits, declared once: instruments are created from it, and the
/// README's metric table is checked against it. Names follow the OpenTelemetry GenAI conventions
/// (https://opentelemetry.io/docs/specs/semconv/gen-ai/gen-ai-metrics/) where they exist, <c>perfotel.*</c> otherwise.
/// </summary>
public static class MetricCatalog
{
    /// <summary>Name of the Meter and the ActivitySource: <c>PerfOtel.Agents</c>.</summary>
    public const string SourceName = "PerfOtel.Agents";

    /// <summary>Token-count buckets recommended by the GenAI conventions for <c>gen_ai.client.token.usage</c>: powers of 4 from 1 to 4^13.</summary>
    public static readonly IReadOnlyList<double> TokenBuckets =
        [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

    /// <summary>Duration buckets in seconds recommended by the GenAI conventions for operation durations: 10 ms doubling to 81.92 s.</summary>
    public static readonly IReadOnlyList<double> DurationBuckets =
        [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

    /// <summary>
    /// Ten 0.1-wide buckets over [0, 1] for confidence and evaluation scores, so that per-bin counts (and with them
    /// calibration) can be computed in PromQL. Bounds are inclusive upper bounds: a confidence of exactly 0.3 falls in
    /// (0.2, 0.3].
    /// </summary>
    public static readonly IReadOnlyList<double> UnitIntervalBuckets =
        [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

    private static readonly string[] ProviderCallAttributes =
    [
        GenAiAttributes.OperationName, GenAiAttributes.ProviderName, GenAiAttributes.RequestModel,
        GenAiAttributes.ResponseModel, PerfOtelAttributes.Tenant, GenAiAttributes.AgentName,
    ];

    /// <summary><c>gen_ai.client.token.usage</c>: input and output tokens per model call.</summary>
    public static readonly MetricDefinition TokenUsage = new(
        "gen_ai.client.token.usage", MetricInstrumentKind.Histogram, "long", "{token}",
        "Number of input and output tokens used.",
        "gen_ai_client_token_usage",
        [.. ProviderCallAttributes, GenAiAttributes.TokenType],
        TokenBuckets);

    /// <summary><c>gen_ai.client.operation.duration</c>: duration of model calls.</summary>
    public static readonly MetricDefinition OperationDuration = new(
        "gen_ai.client.operation.duration", MetricInstrumentKind.Histogram, "double", "s",
        "GenAI operation duration.",
        "gen_ai_client_operation_duration_seconds",
        [.. ProviderCallAttributes, GenAiAttributes.ErrorType],
        DurationBuckets);

    /// <summary><c>gen_ai.invoke_agent.duration</c>: duration of agent invocations.</summary>
    public static readonly MetricDefinition InvokeAgentDuration = new(
        "gen_ai.invoke_agent.duration", MetricInstrumentKind.Histogram, "double", "s",
        "Duration of GenAI agent invocations.",
        "gen_ai_invoke_agent_duration_seconds",
        [GenAiAttributes.OperationName, PerfOtelAttributes.Tenant, GenAiAttributes.AgentName, PerfOtelAttributes.AgentType,
            PerfOtelAttributes.Outcome, GenAiAttributes.ErrorType],
        DurationBuckets);

    /// <summary><c>gen_ai.execute_tool.duration</c>: duration of tool executions.</summary>
    public static readonly MetricDefinition ExecuteToolDuration = new(
        "gen_ai.execute_tool.duration", MetricInstrumentKind.Histogram, "double", "s",
        "Duration of tool executions by GenAI agents.",
        "gen_ai_execute_tool_duration_seconds",
        [GenAiAttributes.OperationName, PerfOtelAttributes.Tenant, GenAiAttributes.AgentName, GenAiAttributes.ToolName,
            GenAiAttributes.ErrorType],
        DurationBuckets);

    /// <summary><c>perfotel.agent.invocations</c>: agent invocations by outcome.</summary>
    public static readonly MetricDefinition AgentInvocations = new(
        "perfotel.agent.invocations", MetricInstrumentKind.Counter, "long", "{invocation}",
        "Agent invocations, by outcome.",
        "perfotel_agent_invocations_total",
        [PerfOtelAttributes.Tenant, GenAiAttributes.AgentName, PerfOtelAttributes.AgentType, PerfOtelAttributes.Outcome,
            GenAiAttributes.ErrorType],
        null);

    /// <summary><c>perfotel.agent.cost.usd</c>: model cost in US dollars.</summary>
    public static readonly MetricDefinition AgentCost = new(
        "perfotel.agent.cost.usd", MetricInstrumentKind.Counter, "double", "{USD}",
        "Cost of model calls in US dollars, from the pricing catalog or reported by the caller.",
        "perfotel_agent_cost_usd_total",
        [PerfOtelAttributes.Tenant, GenAiAttributes.AgentName, PerfOtelAttributes.AgentType, GenAiAttributes.ProviderName,
            GenAiAttributes.RequestModel],
        null);

    /// <summary><c>perfotel.agent.confidence</c>: the confidence agents state in their answers.</summary>
    public static readonly MetricDefinition AgentConfidence = new(
        "perfotel.agent.confidence", MetricInstrumentKind.Histogram, "double", "1",
        "Confidence an agent stated in its answer, in [0, 1], by outcome (for calibration).",
        "perfotel_agent_confidence",
        [PerfOtelAttributes.Tenant, GenAiAttributes.AgentName, PerfOtelAttributes.AgentType, PerfOtelAttributes.Outcome],
        UnitIntervalBuckets);

    /// <summary><c>perfotel.evaluation.score</c>: evaluation scores (accuracy, quality, judges).</summary>
    public static readonly MetricDefinition EvaluationScore = new(
        "perfotel.evaluation.score", MetricInstrumentKind.Histogram, "double", "1",
        "Evaluation scores of agent outputs in [0, 1], by evaluation name (accuracy, quality, judge names).",
        "perfotel_evaluation_score",
        [PerfOtelAttributes.Tenant, GenAiAttributes.AgentName, PerfOtelAttributes.AgentType, GenAiAttributes.EvaluationName],
        UnitIntervalBuckets);

    /// <summary><c>perfotel.provider.retries</c>: model calls that were retries of an earlier attempt.</summary>
    public static readonly MetricDefinition ProviderRetries = new(
        "perfotel.provider.retries", MetricInstrumentKind.Counter, "long", "{retry}",
        "Model calls that retried an earlier failed attempt (attempt number above 1).",
        "perfotel_provider_retries_total",
        [PerfOtelAttributes.Tenant, GenAiAttributes.AgentName, GenAiAttributes.ProviderName, GenAiAttributes.RequestModel],
        null);

    /// <summary><c>perfotel.provider.fallbacks</c>: model calls made in place of another provider or model.</summary>
    public static readonly MetricDefinition ProviderFallbacks = new(
        "perfotel.provider.fallbacks", MetricInstrumentKind.Counter, "long", "{fallback}",
        "Model calls made as a fallback from another provider or model, by the provider and model fallen back to.",
        "perfotel_provider_fallbacks_total",
        [PerfOtelAttributes.Tenant, GenAiAttributes.AgentName, GenAiAttributes.ProviderName, GenAiAttributes.RequestModel],
        null);

    /// <summary><c>perfotel.unpriced.tokens</c>: tokens of models the pricing catalog has no price for.</summary>
    public static readonly MetricDefinition UnpricedTokens = new(
        "perfotel.unpriced.tokens", MetricInstrumentKind.Counter, "long", "{token}",
        "Tokens used by models without a price in the pricing catalog; their cost is unknown, not 0.",
        "perfotel_unpriced_tokens_total",
        [PerfOtelAttributes.Tenant, GenAiAttributes.AgentName, GenAiAttributes.ProviderName, GenAiAttributes.RequestModel,
            GenAiAttributes.TokenType],
        null);

    /// <summary>Every metric, in README order.</summary>
    public static IReadOnlyList<MetricDefinition> All { get; } =
    [
        TokenUsage, OperationDuration, InvokeAgentDuration, ExecuteToolDuration, AgentInvocations, AgentCost,
        AgentConfidence, EvaluationScore, ProviderRetries, ProviderFallbacks, UnpricedTokens,
    ];
}

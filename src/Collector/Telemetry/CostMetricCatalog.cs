using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Telemetry;

/// <summary>
/// Every metric of cost roll-ups, budgets, model comparison and experiments, declared once as <see cref="MetricDefinition"/>s
/// and written into each scrape by the producers of Exposure/Metrics (not SDK instruments). Names and units are chosen so that the OpenTelemetry-to-Prometheus rules give
/// exactly <see cref="MetricDefinition.PrometheusName"/>: USD is
/// written in the name with the annotation unit <c>{USD}</c> (a bare <c>USD</c> unit would become an upper-case
/// suffix), ratios use unit <c>1</c>, latencies <c>s</c>.
/// </summary>
public static class CostMetricCatalog
{
    public const string TenantLabel = "tenant";
    public const string AgentLabel = "agent";
    public const string ProviderLabel = "provider";
    public const string ModelLabel = "model";
    public const string PeriodLabel = "period";
    public const string WindowLabel = "window";
    public const string ExperimentLabel = "experiment";
    public const string VariantLabel = "variant";
    public const string MetricLabel = "metric";
    public const string VerdictLabel = "verdict";

    private static readonly string[] CostLabels = [TenantLabel, AgentLabel, ProviderLabel, ModelLabel];
    private static readonly string[] BudgetLabels = [TenantLabel, AgentLabel, PeriodLabel];
    private static readonly string[] ProjectionLabels = [TenantLabel, AgentLabel];
    private static readonly string[] ModelLabels = [TenantLabel, ProviderLabel, ModelLabel, WindowLabel];
    private static readonly string[] ExperimentLabels = [TenantLabel, ExperimentLabel, VariantLabel];
    private static readonly string[] ExperimentMetricLabels = [TenantLabel, ExperimentLabel, VariantLabel, MetricLabel];
    private static readonly string[] ExperimentWideLabels = [TenantLabel, ExperimentLabel];

    // Cost roll-ups: counters of what was committed since the process started (a restart is a counter reset, which
    // increase() and rate() handle; replaying history into them would be counted twice by those functions).
    public static readonly MetricDefinition CostUsd = Counter("perfotel.cost.usd", "double", "{USD}",
        "Cost in US dollars of priced provider calls, by tenant, agent, provider and model.", "perfotel_cost_usd_total", CostLabels);
    public static readonly MetricDefinition UnpricedTokens = Counter("perfotel.cost.unpriced_tokens", "long", "{token}",
        "Tokens of provider calls whose model has no price: their cost is unknown, not zero.",
        "perfotel_cost_unpriced_tokens_total", CostLabels);
    public static readonly MetricDefinition CostCalls = Counter("perfotel.cost.calls", "long", "{call}",
        "Provider calls counted into the cost roll-ups (priced or not).", "perfotel_cost_calls_total", CostLabels);

    // Budgets. Tenant-wide budgets carry no agent attribute (in Prometheus an absent label equals agent="").
    public static readonly MetricDefinition BudgetSpend = Gauge("perfotel.budget.spend_usd", "{USD}",
        "Spend in US dollars of the budget's scope in the current UTC calendar period.", "perfotel_budget_spend_usd", BudgetLabels);
    public static readonly MetricDefinition BudgetLimit = Gauge("perfotel.budget.limit_usd", "{USD}",
        "Configured budget limit in US dollars for the period.", "perfotel_budget_limit_usd", BudgetLabels);
    public static readonly MetricDefinition BudgetUtilization = Gauge("perfotel.budget.utilization_ratio", "1",
        "Spend divided by limit in the current period (0.8 warning, 1 critical by default).",
        "perfotel_budget_utilization_ratio", BudgetLabels);
    public static readonly MetricDefinition BudgetProjectedMonthSpend = Gauge("perfotel.budget.projected_month_spend_usd", "{USD}",
        "Month-to-date spend divided by the elapsed fraction of the UTC calendar month.",
        "perfotel_budget_projected_month_spend_usd", ProjectionLabels);

    // Model comparison over the rolling windows.
    public static readonly MetricDefinition ModelCalls = Model("perfotel.model.calls", "{call}",
        "Provider calls to the model in the window (mergeable).", "perfotel_model_calls");
    public static readonly MetricDefinition ModelErrors = Model("perfotel.model.errors", "{call}",
        "Provider calls to the model in the window that ended in an error (mergeable).", "perfotel_model_errors");
    public static readonly MetricDefinition ModelErrorRatio = Model("perfotel.model.error_ratio", "1",
        "Share of the model's provider calls in the window that ended in an error.", "perfotel_model_error_ratio");
    public static readonly MetricDefinition ModelLatencyP95 = Model("perfotel.model.latency.p95", "s",
        "95th percentile of the model's call latency in the window (log-bucketed, within 4.9 %).",
        "perfotel_model_latency_p95_seconds");
    public static readonly MetricDefinition ModelCostUsd = Model("perfotel.model.cost_usd", "{USD}",
        "Cost in US dollars of the model's priced calls in the window (mergeable).", "perfotel_model_cost_usd");
    public static readonly MetricDefinition ModelCostPerCall = Model("perfotel.model.cost_per_call_usd", "{USD}",
        "Mean cost in US dollars of the model's priced calls in the window.", "perfotel_model_cost_per_call_usd");
    public static readonly MetricDefinition ModelCostPerInvocation = Model("perfotel.model.cost_per_invocation_usd", "{USD}",
        "Mean cost in US dollars of the agent invocations the model served in the window.",
        "perfotel_model_cost_per_invocation_usd");
    public static readonly MetricDefinition ModelTokens = Model("perfotel.model.tokens", "{token}",
        "Input plus output tokens of the model's calls in the window (mergeable).", "perfotel_model_tokens");
    public static readonly MetricDefinition ModelUnpricedTokens = Model("perfotel.model.unpriced_tokens", "{token}",
        "Tokens of the model's calls in the window that had no price (mergeable).", "perfotel_model_unpriced_tokens");
    public static readonly MetricDefinition ModelInvocations = Model("perfotel.model.invocations", "{invocation}",
        "Agent invocations the model served in the window: those whose last provider call it answered (mergeable).",
        "perfotel_model_invocations");
    public static readonly MetricDefinition ModelSuccessRatio = Model("perfotel.model.success_ratio", "1",
        "Share of the invocations the model served in the window that succeeded.", "perfotel_model_success_ratio");
    public static readonly MetricDefinition ModelAccuracy = Model("perfotel.model.accuracy", "{accuracy}",
        "Mean accuracy 0-1 of the invocations the model served in the window.", "perfotel_model_accuracy");

    // Experiments (docs/collector/experiments.md, "Metrics"). The mergeable sums behind every estimate, cumulative per
    // variant: replicas add up in Prometheus and the recording rules recompute the estimates with their intervals.
    public static readonly MetricDefinition ExperimentInvocations = Experiment("perfotel.experiment.invocations", "{invocation}",
        "Invocations of the variant counted in the experiment (mergeable).", "perfotel_experiment_invocations");
    public static readonly MetricDefinition ExperimentSuccesses = Experiment("perfotel.experiment.successes", "{invocation}",
        "Successful invocations of the variant (mergeable).", "perfotel_experiment_successes");
    public static readonly MetricDefinition ExperimentSamples = ExperimentMetric("perfotel.experiment.samples", "{sample}",
        "Samples of the mean metric (accuracy, quality, latency in seconds, cost in USD of priced invocations) of the variant (mergeable).",
        "perfotel_experiment_samples");
    public static readonly MetricDefinition ExperimentSum = ExperimentMetric("perfotel.experiment.sum", "{value}",
        "Sum of the mean metric's samples of the variant (mergeable).", "perfotel_experiment_sum");
    public static readonly MetricDefinition ExperimentSumOfSquares = ExperimentMetric("perfotel.experiment.sum_of_squares", "{value}",
        "Sum of the squares of the mean metric's samples of the variant (mergeable).", "perfotel_experiment_sum_of_squares");

    // The definition (configuration, equal on every replica: rules take max()).
    public static readonly MetricDefinition ExperimentIntendedWeight = Experiment("perfotel.experiment.intended_weight", "{share}",
        "Share of the traffic the definition intends for the variant (its weight over the sum of weights).",
        "perfotel_experiment_intended_weight");
    public static readonly MetricDefinition ExperimentControl = Experiment("perfotel.experiment.control", "{variant}",
        "1 on the variant every other is compared against.", "perfotel_experiment_control");
    public static readonly MetricDefinition ExperimentMinSamples = Gauge("perfotel.experiment.min_samples",
        "{invocation}", "Invocations every variant of positive weight needs before any verdict but srm.",
        "perfotel_experiment_min_samples", ExperimentWideLabels);
    public static readonly MetricDefinition ExperimentIntervalZ = Gauge("perfotel.experiment.interval_z",
        "{z}", "Two-sided normal quantile of the confidence level of every interval (1.96 for 95 %).",
        "perfotel_experiment_interval_z", ExperimentWideLabels);
    public static readonly MetricDefinition ExperimentSrmCriticalChiSquare = Gauge("perfotel.experiment.srm_critical_chi_square", "{chi_square}",
        "Chi-square above which the split is a sample-ratio mismatch (upper tail 0.001 at variants of positive weight - 1 degrees of freedom).",
        "perfotel_experiment_srm_critical_chi_square", ExperimentWideLabels);
    public static readonly MetricDefinition ExperimentGuardrailTolerance = Gauge("perfotel.experiment.guardrail_tolerance", "{share}", "Tolerated relative degradation of the guardrail metric (0.1: at most 10 % worse).",
        "perfotel_experiment_guardrail_tolerance", [TenantLabel, ExperimentLabel, MetricLabel]);

    // The verdict of this collector's analysis (a state set: 1 on the current verdict, 0 on the others).
    public static readonly MetricDefinition ExperimentVerdict = Gauge("perfotel.experiment.verdict",
        "{verdict}", "1 on the experiment's current verdict (running, winner, no_difference, guardrail_violated, srm), 0 on the others.",
        "perfotel_experiment_verdict", [TenantLabel, ExperimentLabel, VerdictLabel]);
    public static readonly MetricDefinition ExperimentWinner = Experiment("perfotel.experiment.winner", "{winner}",
        "1 on the variant the verdict names the winner, 0 on the others.", "perfotel_experiment_winner");
    // The variant's invocation durations as a cumulative histogram on the bounds of the one log-bucketed latency
    // histogram, so that histogram_quantile over sum by (le, ...) gives a p95 that adds up across replicas.
    // Its bounds are the kernel's (Derived/Kernel/LatencyHistogram), which its producer writes: none are declared here.
    public static readonly MetricDefinition ExperimentDuration = new("perfotel.experiment.duration", MetricInstrumentKind.Histogram,
        "double", "s", "Durations of the variant's invocations, cumulative, on the log-bucketed latency histogram's bounds (mergeable).",
        "perfotel_experiment_duration_seconds", ExperimentLabels, null) { Mergeable = true };

    /// <summary>Every metric, in exposition order.</summary>
    public static IReadOnlyList<MetricDefinition> All { get; } =
    [
        CostUsd, UnpricedTokens, CostCalls,
        BudgetSpend, BudgetLimit, BudgetUtilization, BudgetProjectedMonthSpend,
        ModelCalls, ModelErrors, ModelErrorRatio, ModelLatencyP95, ModelCostUsd, ModelCostPerCall, ModelCostPerInvocation,
        ModelTokens, ModelUnpricedTokens, ModelInvocations, ModelSuccessRatio, ModelAccuracy,
        ExperimentInvocations, ExperimentSuccesses, ExperimentSamples, ExperimentSum, ExperimentSumOfSquares,
        ExperimentIntendedWeight, ExperimentControl, ExperimentMinSamples, ExperimentIntervalZ, ExperimentSrmCriticalChiSquare,
        ExperimentGuardrailTolerance, ExperimentVerdict, ExperimentWinner, ExperimentDuration,
    ];

    private static MetricDefinition Model(string name, string unit, string description, string prometheusName) =>
        Gauge(name, unit, description, prometheusName, ModelLabels);

    private static MetricDefinition ExperimentMetric(string name, string unit, string description, string prometheusName) =>
        Gauge(name, unit, description, prometheusName, ExperimentMetricLabels);

    private static MetricDefinition Experiment(string name, string unit, string description, string prometheusName) =>
        Gauge(name, unit, description, prometheusName, ExperimentLabels);

    /// <summary>A counter added to as data is committed (Prometheus adds <c>_total</c>).</summary>
    private static MetricDefinition Counter(
        string name, string valueType, string unit, string description, string prometheusName, IReadOnlyList<string> labels) =>
        new(name, MetricInstrumentKind.Counter, valueType, unit, description, prometheusName, labels, null);

    /// <summary>An observable gauge of doubles read from in-memory state at collection time.</summary>
    private static MetricDefinition Gauge(string name, string unit, string description, string prometheusName, IReadOnlyList<string> labels) =>
        new(name, MetricInstrumentKind.Gauge, "double", unit, description, prometheusName, labels, null);
}

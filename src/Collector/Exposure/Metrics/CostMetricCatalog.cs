using PerfOtel.Collector.Derived.Cost;
namespace PerfOtel.Collector.Exposure.Metrics;

/// <summary>The instrument kind of a catalog entry.</summary>
public enum CostInstrumentKind
{
    /// <summary>A monotonic counter, incremented as data is committed (Prometheus adds <c>_total</c>).</summary>
    Counter,

    /// <summary>An observable gauge read from in-memory state at collection time.</summary>
    Gauge,
}

/// <summary>One metric of the meter <c>PerfOtel.Collector.Cost</c>.</summary>
/// <param name="Name">OpenTelemetry instrument name.</param>
/// <param name="Kind">Counter or gauge.</param>
/// <param name="Unit">UCUM unit: <c>{annotation}</c> units add no Prometheus suffix, <c>1</c> adds nothing (a ratio says
/// <c>_ratio</c> in its name), <c>s</c> adds <c>_seconds</c>.</param>
/// <param name="Description">Help text.</param>
/// <param name="PrometheusName">The sample name PerfOtel.Exporter exposes: rules and dashboards depend on it.</param>
/// <param name="Labels">Attribute keys.</param>
public sealed record CostMetricDefinition(
    string Name, CostInstrumentKind Kind, string Unit, string Description, string PrometheusName, IReadOnlyList<string> Labels);

/// <summary>
/// Every metric of cost roll-ups, budgets, model comparison and experiments, declared once. Names and units are chosen
/// so that the OpenTelemetry-to-Prometheus rules give exactly <see cref="CostMetricDefinition.PrometheusName"/>: USD is
/// written in the name with the annotation unit <c>{USD}</c> (a bare <c>USD</c> unit would become an upper-case
/// suffix), ratios use unit <c>1</c>, latencies <c>s</c>.
/// </summary>
public static class CostMetricCatalog
{
    /// <summary>Meter name.</summary>
    public const string MeterName = "PerfOtel.Collector.Cost";

    public const string TenantLabel = "tenant";
    public const string AgentLabel = "agent";
    public const string ProviderLabel = "provider";
    public const string ModelLabel = "model";
    public const string PeriodLabel = "period";
    public const string WindowLabel = "window";
    public const string ExperimentLabel = "experiment";
    public const string VariantLabel = "variant";

    private static readonly string[] CostLabels = [TenantLabel, AgentLabel, ProviderLabel, ModelLabel];
    private static readonly string[] BudgetLabels = [TenantLabel, AgentLabel, PeriodLabel];
    private static readonly string[] ProjectionLabels = [TenantLabel, AgentLabel];
    private static readonly string[] ModelLabels = [TenantLabel, ProviderLabel, ModelLabel, WindowLabel];
    private static readonly string[] ExperimentLabels = [TenantLabel, ExperimentLabel, VariantLabel];

    // Cost roll-ups: counters of what was committed since the process started (a restart is a counter reset, which
    // increase() and rate() handle; replaying history into them would be counted twice by those functions).
    public static readonly CostMetricDefinition CostUsd = new("perfotel.cost.usd", CostInstrumentKind.Counter, "{USD}",
        "Cost in US dollars of priced provider calls, by tenant, agent, provider and model.", "perfotel_cost_usd_total", CostLabels);
    public static readonly CostMetricDefinition UnpricedTokens = new("perfotel.cost.unpriced_tokens", CostInstrumentKind.Counter, "{token}",
        "Tokens of provider calls whose model has no price: their cost is unknown, not zero.",
        "perfotel_cost_unpriced_tokens_total", CostLabels);
    public static readonly CostMetricDefinition CostCalls = new("perfotel.cost.calls", CostInstrumentKind.Counter, "{call}",
        "Provider calls counted into the cost roll-ups (priced or not).", "perfotel_cost_calls_total", CostLabels);

    // Budgets. Tenant-wide budgets carry no agent attribute (in Prometheus an absent label equals agent="").
    public static readonly CostMetricDefinition BudgetSpend = new("perfotel.budget.spend_usd", CostInstrumentKind.Gauge, "{USD}",
        "Spend in US dollars of the budget's scope in the current UTC calendar period.", "perfotel_budget_spend_usd", BudgetLabels);
    public static readonly CostMetricDefinition BudgetLimit = new("perfotel.budget.limit_usd", CostInstrumentKind.Gauge, "{USD}",
        "Configured budget limit in US dollars for the period.", "perfotel_budget_limit_usd", BudgetLabels);
    public static readonly CostMetricDefinition BudgetUtilization = new("perfotel.budget.utilization_ratio", CostInstrumentKind.Gauge, "1",
        "Spend divided by limit in the current period (0.8 warning, 1 critical by default).",
        "perfotel_budget_utilization_ratio", BudgetLabels);
    public static readonly CostMetricDefinition BudgetProjectedMonthSpend = new("perfotel.budget.projected_month_spend_usd",
        CostInstrumentKind.Gauge, "{USD}",
        "Month-to-date spend divided by the elapsed fraction of the UTC calendar month.",
        "perfotel_budget_projected_month_spend_usd", ProjectionLabels);

    // Model comparison over the rolling windows.
    public static readonly CostMetricDefinition ModelCalls = Model("perfotel.model.calls", "{call}",
        "Provider calls to the model in the window (mergeable).", "perfotel_model_calls");
    public static readonly CostMetricDefinition ModelErrors = Model("perfotel.model.errors", "{call}",
        "Provider calls to the model in the window that ended in an error (mergeable).", "perfotel_model_errors");
    public static readonly CostMetricDefinition ModelErrorRatio = Model("perfotel.model.error_ratio", "1",
        "Share of the model's provider calls in the window that ended in an error.", "perfotel_model_error_ratio");
    public static readonly CostMetricDefinition ModelLatencyP95 = Model("perfotel.model.latency.p95", "s",
        "95th percentile of the model's call latency in the window (log-bucketed, within 4.9 %).",
        "perfotel_model_latency_p95_seconds");
    public static readonly CostMetricDefinition ModelCostUsd = Model("perfotel.model.cost_usd", "{USD}",
        "Cost in US dollars of the model's priced calls in the window (mergeable).", "perfotel_model_cost_usd");
    public static readonly CostMetricDefinition ModelCostPerCall = Model("perfotel.model.cost_per_call_usd", "{USD}",
        "Mean cost in US dollars of the model's priced calls in the window.", "perfotel_model_cost_per_call_usd");
    public static readonly CostMetricDefinition ModelCostPerInvocation = Model("perfotel.model.cost_per_invocation_usd", "{USD}",
        "Mean cost in US dollars of the agent invocations the model served in the window.",
        "perfotel_model_cost_per_invocation_usd");
    public static readonly CostMetricDefinition ModelTokens = Model("perfotel.model.tokens", "{token}",
        "Input plus output tokens of the model's calls in the window (mergeable).", "perfotel_model_tokens");
    public static readonly CostMetricDefinition ModelUnpricedTokens = Model("perfotel.model.unpriced_tokens", "{token}",
        "Tokens of the model's calls in the window that had no price (mergeable).", "perfotel_model_unpriced_tokens");
    public static readonly CostMetricDefinition ModelInvocations = Model("perfotel.model.invocations", "{invocation}",
        "Agent invocations the model served in the window: those whose last provider call it answered (mergeable).",
        "perfotel_model_invocations");
    public static readonly CostMetricDefinition ModelSuccessRatio = Model("perfotel.model.success_ratio", "1",
        "Share of the invocations the model served in the window that succeeded.", "perfotel_model_success_ratio");
    public static readonly CostMetricDefinition ModelAccuracy = Model("perfotel.model.accuracy", "{accuracy}",
        "Mean accuracy 0-1 of the invocations the model served in the window.", "perfotel_model_accuracy");

    // Experiments: cumulative per variant.
    public static readonly CostMetricDefinition ExperimentInvocations = Experiment("perfotel.experiment.invocations", "{invocation}",
        "Invocations of the variant since the experiment started (mergeable).", "perfotel_experiment_invocations");
    public static readonly CostMetricDefinition ExperimentSuccesses = Experiment("perfotel.experiment.successes", "{invocation}",
        "Successful invocations of the variant (mergeable).", "perfotel_experiment_successes");
    public static readonly CostMetricDefinition ExperimentSuccessRatio = Experiment("perfotel.experiment.success_ratio", "1",
        "Success rate of the variant.", "perfotel_experiment_success_ratio");
    public static readonly CostMetricDefinition ExperimentLatencyP95 = Experiment("perfotel.experiment.latency.p95", "s",
        "95th percentile of the variant's invocation latency (log-bucketed, within 4.9 %).", "perfotel_experiment_latency_p95_seconds");
    public static readonly CostMetricDefinition ExperimentCostPerInvocation = Experiment("perfotel.experiment.cost_per_invocation_usd", "{USD}",
        "Mean cost in US dollars of the variant's priced invocations.", "perfotel_experiment_cost_per_invocation_usd");
    public static readonly CostMetricDefinition ExperimentQuality = Experiment("perfotel.experiment.quality", "{score}",
        "Mean perfotel.quality of the variant's invocations.", "perfotel_experiment_quality");
    public static readonly CostMetricDefinition ExperimentAccuracy = Experiment("perfotel.experiment.accuracy", "{accuracy}",
        "Mean accuracy 0-1 of the variant's invocations (feedback and accuracy evaluations).", "perfotel_experiment_accuracy");
    public static readonly CostMetricDefinition ExperimentPValue = Experiment("perfotel.experiment.p_value", "{probability}",
        "Two-sided p-value of the two-proportion z-test on success of the leading variant against this one; on the leading variant, the largest of its p-values.",
        "perfotel_experiment_p_value");
    public static readonly CostMetricDefinition ExperimentWinner = Experiment("perfotel.experiment.winner", "{winner}",
        "1 on the variant declared the winner, 0 on the others (p < 0.05 against every other, each with the minimum sample).",
        "perfotel_experiment_winner");

    /// <summary>Every metric, in exposition order.</summary>
    public static IReadOnlyList<CostMetricDefinition> All { get; } =
    [
        CostUsd, UnpricedTokens, CostCalls,
        BudgetSpend, BudgetLimit, BudgetUtilization, BudgetProjectedMonthSpend,
        ModelCalls, ModelErrors, ModelErrorRatio, ModelLatencyP95, ModelCostUsd, ModelCostPerCall, ModelCostPerInvocation,
        ModelTokens, ModelUnpricedTokens, ModelInvocations, ModelSuccessRatio, ModelAccuracy,
        ExperimentInvocations, ExperimentSuccesses, ExperimentSuccessRatio, ExperimentLatencyP95,
        ExperimentCostPerInvocation, ExperimentQuality, ExperimentAccuracy, ExperimentPValue, ExperimentWinner,
    ];

    private static CostMetricDefinition Model(string name, string unit, string description, string prometheusName) =>
        new(name, CostInstrumentKind.Gauge, unit, description, prometheusName, ModelLabels);

    private static CostMetricDefinition Experiment(string name, string unit, string description, string prometheusName) =>
        new(name, CostInstrumentKind.Gauge, unit, description, prometheusName, ExperimentLabels);
}

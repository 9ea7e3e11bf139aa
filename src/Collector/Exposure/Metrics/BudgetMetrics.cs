using PerfOtel.Collector.Derived.Budgets;
using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Derived.Coordination;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Exporter;
using PerfOtel.Instrumentation.Conventions;
using C = PerfOtel.Collector.Telemetry.CostMetricCatalog;

namespace PerfOtel.Collector.Exposure.Metrics;

/// <summary>The budget gauges of <see cref="CostMetricCatalog"/>, read from the tracker at each scrape.</summary>
internal sealed class BudgetMetrics(BudgetTracker tracker, DerivationRole? role = null) : IPrometheusMetricProducer
{
    public void Produce(PrometheusProducerWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        // A replica that does not derive exposes no derived series (docs/collector/scale-out.md).
        if (role is { IsDeriving: false })
        {
            return;
        }
        var statuses = tracker.AllStatuses();
        WritePeriods(writer, statuses, C.BudgetSpend, p => p.SpendUsd);
        WritePeriods(writer, statuses, C.BudgetLimit, p => p.LimitUsd);
        WritePeriods(writer, statuses, C.BudgetUtilization, p => p.Utilization);
        CostFamilies.WriteGauges(writer, C.BudgetProjectedMonthSpend,
            statuses.Select(s => (s.ProjectedMonthSpendUsd, ScopeLabels(s.Scope))));
    }

    private static void WritePeriods(PrometheusProducerWriter writer, IReadOnlyList<BudgetStatus> statuses, MetricDefinition definition,
        Func<BudgetPeriodStatus, double> value) =>
        CostFamilies.WriteGauges(writer, definition, statuses.SelectMany(s => s.Periods.Select(p =>
            (value(p), (KeyValuePair<string, string>[])[.. ScopeLabels(s.Scope), new(C.PeriodLabel, p.Period.Label())]))));

    private static KeyValuePair<string, string>[] ScopeLabels(BudgetScope scope) => scope.Agent is null
        ? [new(C.TenantLabel, scope.Tenant)]
        : [new(C.TenantLabel, scope.Tenant), new(C.AgentLabel, scope.Agent)];
}

using System.Diagnostics.Metrics;
using PerfOtel.Collector.Derived.Budgets;
using PerfOtel.Collector.Derived.Cost;
using C = PerfOtel.Collector.Exposure.Metrics.CostMetricCatalog;

namespace PerfOtel.Collector.Exposure.Metrics;

/// <summary>The budget gauges of <see cref="CostMetricCatalog"/>, read from the tracker at each collection.</summary>
internal sealed class BudgetMetrics
{
    private readonly BudgetTracker tracker;

    public BudgetMetrics(BudgetTracker tracker, IMeterFactory meterFactory)
    {
        this.tracker = tracker;
        var meter = CostMeter.Create(meterFactory);
        Gauge(meter, C.BudgetSpend, p => p.SpendUsd);
        Gauge(meter, C.BudgetLimit, p => p.LimitUsd);
        Gauge(meter, C.BudgetUtilization, p => p.Utilization);
        meter.CreateObservableGauge(C.BudgetProjectedMonthSpend.Name,
            () => tracker.AllStatuses().Select(s => new Measurement<double>(s.ProjectedMonthSpendUsd, ScopeTags(s.Scope))),
            C.BudgetProjectedMonthSpend.Unit, C.BudgetProjectedMonthSpend.Description);
    }

    private void Gauge(Meter meter, CostMetricDefinition definition, Func<BudgetPeriodStatus, double> value) =>
        meter.CreateObservableGauge(definition.Name,
            () => tracker.AllStatuses().SelectMany(s => s.Periods.Select(p =>
                new Measurement<double>(value(p), [.. ScopeTags(s.Scope), new(C.PeriodLabel, p.Period.Label())]))),
            definition.Unit, definition.Description);

    private static KeyValuePair<string, object?>[] ScopeTags(BudgetScope scope) => scope.Agent is null
        ? [new(C.TenantLabel, scope.Tenant)]
        : [new(C.TenantLabel, scope.Tenant), new(C.AgentLabel, scope.Agent)];
}

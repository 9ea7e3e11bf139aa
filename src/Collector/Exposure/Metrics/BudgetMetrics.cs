using PerfOtel.Instrumentation.Conventions;
using System.Diagnostics.Metrics;
using PerfOtel.Collector.Derived.Budgets;
using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Derived.Coordination;
using PerfOtel.Collector.Telemetry;
using C = PerfOtel.Collector.Telemetry.CostMetricCatalog;

namespace PerfOtel.Collector.Exposure.Metrics;

/// <summary>The budget gauges of <see cref="CostMetricCatalog"/>, read from the tracker at each collection.</summary>
internal sealed class BudgetMetrics
{
    private readonly BudgetTracker tracker;
    private readonly DerivationRole? role;

    public BudgetMetrics(BudgetTracker tracker, IMeterFactory meterFactory, DerivationRole? role = null)
    {
        this.tracker = tracker;
        this.role = role;
        var meter = CostMeter.Create(meterFactory);
        Gauge(meter, C.BudgetSpend, p => p.SpendUsd);
        Gauge(meter, C.BudgetLimit, p => p.LimitUsd);
        Gauge(meter, C.BudgetUtilization, p => p.Utilization);
        meter.GaugeOf(C.BudgetProjectedMonthSpend,
            () => Statuses().Select(s => new Measurement<double>(s.ProjectedMonthSpendUsd, ScopeTags(s.Scope))));
    }

    private void Gauge(Meter meter, MetricDefinition definition, Func<BudgetPeriodStatus, double> value) =>
        meter.GaugeOf(definition,
            () => Statuses().SelectMany(s => s.Periods.Select(p =>
                new Measurement<double>(value(p), [.. ScopeTags(s.Scope), new(C.PeriodLabel, p.Period.Label())]))));

    // A replica that does not derive exposes no derived series (docs/collector/scale-out.md).
    private IReadOnlyList<BudgetStatus> Statuses() => role is { IsDeriving: false } ? [] : tracker.AllStatuses();

    private static KeyValuePair<string, object?>[] ScopeTags(BudgetScope scope) => scope.Agent is null
        ? [new(C.TenantLabel, scope.Tenant)]
        : [new(C.TenantLabel, scope.Tenant), new(C.AgentLabel, scope.Agent)];
}

using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Derived;
using PerfOtel.Collector.Derived.Analytics;
using PerfOtel.Collector.Derived.Budgets;
using PerfOtel.Collector.Derived.Cardinality;
using PerfOtel.Collector.Derived.Coordination;
using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Derived.Experiments;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Derived.Models;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Ingest;

namespace PerfOtel.Collector.Hosting;

/// <summary>
/// The one place that knows every derived feature and the order of the seam that feeds them (docs/architecture.md,
/// principle 7): each committed batch, live or replayed, goes through these derivations in this order.
/// </summary>
public static class DerivedComposition
{
    /// <summary>
    /// Registers every derived feature (analytics, cost, budgets, models, experiments, cardinality guard), the
    /// <see cref="DerivationPipeline"/> in the order below and the one start-up <see cref="DerivationReplay"/>. Register the
    /// store first: hosted services start in registration order, and the replay reads the migrated store.
    /// </summary>
    public static IServiceCollection AddPerfOtelDerived(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        // The replay first: hosted services start in order, so the features' own (the analytics exposition refresher,
        // the instruments' activation) start on replayed state and never publish a snapshot taken before it.
        services.AddHostedService<DerivationReplay>();
        // Its shared-store counterpart (replicas on one PostgreSQL): the leader reads the store in commit order instead.
        services.AddOptions<DerivationOptions>().Bind(configuration.GetSection(DerivationOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DerivationOptions>, DerivationOptionsValidator>());
        services.TryAddSingleton<DerivationRole>();
        services.TryAddSingleton<LiveDerivations>();
        services.AddSpanAttribution();
        services.AddHostedService<SharedDerivation>();
        services.AddPerfOtelAnalytics(configuration);
        services.AddPerfOtelCost(configuration);
        // What reads the derived state into /metrics (Exposure depends on Derived, not the other way).
        services.AddPerfOtelAnalyticsExposition();
        services.AddPerfOtelCostExposition();
        services.RemoveAll<DerivationPipeline>();
        services.AddSingleton(sp => new DerivationPipeline(InOrder(sp), sp.GetRequiredService<ILogger<DerivationPipeline>>()));
        return services;
    }

    /// <summary>The derivations, in the order every batch is applied to them.</summary>
    public static IDerivation[] InOrder(IServiceProvider services) =>
    [
        // First: values are admitted in commit order whichever feature keys by them, and an overflow is counted once.
        services.GetRequiredService<CardinalityDerivation>(),
        services.GetRequiredService<AnalyticsDerivation>(),
        // Before the model comparison and the experiments: they read the facts of an invocation, calls of the same
        // batch included.
        services.GetRequiredService<AttributionDerivation>(),
        services.GetRequiredService<CostDerivation>(),
        services.GetRequiredService<BudgetDerivation>(),
        services.GetRequiredService<ModelDerivation>(),
        services.GetRequiredService<ExperimentDerivation>(),
    ];
}

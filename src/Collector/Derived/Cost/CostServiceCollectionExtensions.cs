using Microsoft.Extensions.Options;
using PerfOtel.Collector.Derived.Analytics;
using PerfOtel.Collector.Derived.Budgets;
using PerfOtel.Collector.Derived.Cardinality;
using PerfOtel.Collector.Derived.Experiments;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Derived.Models;
using PerfOtel.Collector.Derived.Thresholds;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Cost;

/// <summary>Wiring of cost roll-ups, budgets, model comparison and experiments into the collector.</summary>
public static class CostServiceCollectionExtensions
{
    /// <summary>
    /// Registers the derivations, their state, the cost counters' running totals (their families, like the budget, model
    /// and experiment gauges, are written into scrapes by Exposure's <c>AddPerfOtelCostExposition</c>), and <see cref="IModelRecommendations"/>. Reads the sections <c>Cost</c>,
    /// <c>Budgets</c>, <c>Thresholds</c> (budget ratios), <c>Models</c>, <c>Analytics:Windows</c> and <c>Experiments</c>;
    /// start-up fails on any invalid setting, naming it. Uses a registered <see cref="TimeProvider"/> or the system clock.
    /// </summary>
    public static IServiceCollection AddPerfOtelCost(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider)))
        {
            services.AddSingleton(TimeProvider.System);
        }
        services.AddMetrics();
        services.AddPerfOtelCardinalityGuard(configuration);

        services.AddOptions<CostOptions>().Bind(configuration.GetSection(CostOptions.SectionName)).ValidateOnStart();
        AddProblemsValidator<CostOptions>(services, o => o.Problems());
        services.AddOptions<BudgetOptions>().Configure(o => BudgetConfiguration.ReadInto(configuration, o)).ValidateOnStart();
        AddProblemsValidator<BudgetOptions>(services, o => o.Problems);
        // The budget ratios are the analytics thresholds; AddPerfOtelAnalytics binds and validates that section. Without
        // it (a collector built without analytics), bind it here so that configured ratios are not silently ignored.
        if (!services.Any(d => d.ServiceType == typeof(IConfigureOptions<ThresholdOptions>)))
        {
            services.AddOptions<ThresholdOptions>().Bind(configuration.GetSection(ThresholdOptions.SectionName)).ValidateOnStart();
            AddProblemsValidator<ThresholdOptions>(services, o => o.Problems());
        }
        // Models are compared over the analytics windows, read from the analytics' own options (AddPerfOtelAnalytics
        // binds and validates them; without it, bind them here).
        if (!services.Any(d => d.ServiceType == typeof(IConfigureOptions<AnalyticsOptions>)))
        {
            services.AddOptions<AnalyticsOptions>().Bind(configuration.GetSection(AnalyticsOptions.SectionName));
        }
        services.AddOptions<ModelComparisonOptions>()
            .Bind(configuration.GetSection(ModelComparisonOptions.SectionName))
            .Configure<IOptions<AnalyticsOptions>>((o, analytics) => o.Windows = analytics.Value.EffectiveWindows
                .Select(w => new ComparisonWindow(w.Name, w.Duration, w.BucketWidth)).ToList())
            .ValidateOnStart();
        AddProblemsValidator<ModelComparisonOptions>(services, o => o.Problems());
        services.AddOptions<ExperimentOptions>().Bind(configuration.GetSection(ExperimentOptions.SectionName)).ValidateOnStart();
        AddProblemsValidator<ExperimentOptions>(services, o => o.Problems());

        services.AddSingleton<CostLedger>();
        services.AddSingleton<BudgetTracker>();
        services.AddSingleton(sp => new InvocationAttribution(sp.GetRequiredService<IOptions<CostOptions>>().Value.AttributionCapacity));
        services.AddSingleton<ModelComparison>();
        services.AddSingleton<IModelRecommendations, ModelRecommendations>();
        services.AddSingleton<ExperimentRegistry>();
        services.AddSingleton<CostCounters>();

        // The derivations; the composition root (Hosting) puts them in the one seam, in its order.
        services.AddSingleton<AttributionDerivation>();
        services.AddSingleton<CostDerivation>();
        services.AddSingleton<BudgetDerivation>();
        services.AddSingleton<ModelDerivation>();
        services.AddSingleton<ExperimentDerivation>();
        return services;
    }

    private static void AddProblemsValidator<TOptions>(IServiceCollection services, Func<TOptions, IEnumerable<string>> problems)
        where TOptions : class =>
        services.AddSingleton<IValidateOptions<TOptions>>(new ProblemsValidator<TOptions>(problems));

    private sealed class ProblemsValidator<TOptions>(Func<TOptions, IEnumerable<string>> problems) : IValidateOptions<TOptions>
        where TOptions : class
    {
        public ValidateOptionsResult Validate(string? name, TOptions options)
        {
            var found = problems(options).ToList();
            return found.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(found);
        }
    }
}

using Microsoft.Extensions.Options;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Cardinality;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Derived.Thresholds;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Analytics;

/// <summary>Wiring of the analytics into the collector.</summary>
public static class AnalyticsServiceCollectionExtensions
{
    /// <summary>
    /// Rolling windows with their derivation (fed by the composition root's one seam) and the thresholds; their gauges'
    /// producers are Exposure's (<c>AddPerfOtelAnalyticsExposition</c>). Options come from the <c>Analytics</c> and <c>Thresholds</c> sections and are validated at
    /// start-up. Needs an <see cref="IExecutionStore"/> registration; uses a registered <see cref="TimeProvider"/>
    /// or the system clock.
    /// </summary>
    public static IServiceCollection AddPerfOtelAnalytics(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddPerfOtelCardinalityGuard(configuration);
        services.TryAddSingletonTimeProvider();
        services.AddOptions<AnalyticsOptions>().Bind(configuration.GetSection(AnalyticsOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AnalyticsOptions>, ProblemsValidator<AnalyticsOptions>>(
            _ => new ProblemsValidator<AnalyticsOptions>(o => o.Problems()));
        services.AddSingleton<IValidateOptions<AnalyticsOptions>, WindowRetentionValidator>();
        services.AddOptions<ThresholdOptions>().Bind(configuration.GetSection(ThresholdOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ThresholdOptions>, ProblemsValidator<ThresholdOptions>>(
            _ => new ProblemsValidator<ThresholdOptions>(o => o.Problems()));

        services.AddSingleton<RollingWindows>();
        services.AddSingleton<AnalyticsDerivation>();
        // After the start-up replay (hosted services start in order, DerivedComposition registers the replay first): alerts open on windows that hold the stored history.
        services.AddSingleton(sp => new AlertTracker(sp.GetRequiredService<RollingWindows>(),
            sp.GetService<IExecutionStore>() as IAlertHistoryStore, sp.GetRequiredService<ILogger<AlertTracker>>()));
        services.AddHostedService<AlertTrackerService>();
        return services;
    }

    private static void TryAddSingletonTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider)))
        {
            services.AddSingleton(TimeProvider.System);
        }
    }

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

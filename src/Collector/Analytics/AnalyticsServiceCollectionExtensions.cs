using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using PerfOtel.Collector.Analytics.Metrics;
using PerfOtel.Collector.Analytics.Windows;
using PerfOtel.Collector.Cardinality;
using PerfOtel.Collector.Model;
using PerfOtel.Collector.Thresholds;

namespace PerfOtel.Collector.Analytics;

/// <summary>Wiring of the analytics into the collector.</summary>
public static class AnalyticsServiceCollectionExtensions
{
    /// <summary>
    /// Rolling windows fed by the ingest observer and rebuilt from the store at start-up, the thresholds, and the
    /// analytics gauges. Options come from the <c>Analytics</c> and <c>Thresholds</c> sections and are validated at
    /// start-up. Needs an <see cref="IExecutionStore"/> registration; uses a registered <see cref="TimeProvider"/>
    /// or the system clock.
    /// </summary>
    public static IServiceCollection AddPerfOtelAnalytics(this IServiceCollection services, IConfiguration configuration)
    {
        // First: its observer and start-up priming must run before the analytics' own.
        services.AddPerfOtelCardinalityGuard(configuration);
        services.TryAddSingletonTimeProvider();
        services.AddOptions<AnalyticsOptions>().Bind(configuration.GetSection(AnalyticsOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AnalyticsOptions>, ProblemsValidator<AnalyticsOptions>>(
            _ => new ProblemsValidator<AnalyticsOptions>(o => o.Problems()));
        services.AddOptions<ThresholdOptions>().Bind(configuration.GetSection(ThresholdOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ThresholdOptions>, ProblemsValidator<ThresholdOptions>>(
            _ => new ProblemsValidator<ThresholdOptions>(o => o.Problems()));

        services.AddSingleton<RollingWindows>();
        services.AddSingleton<IIngestObserver, AnalyticsIngestObserver>();
        services.AddSingleton(provider => new AnalyticsMetrics(
            provider.GetRequiredService<RollingWindows>(), provider.GetRequiredService<IMeterFactory>()));
        services.AddHostedService<AnalyticsRebuildService>();
        services.AddHostedService<AnalyticsMetricsActivation>();
        return services;
    }

    /// <summary>
    /// Subscribes a MeterProvider to the analytics meter, with a cardinality limit that fits every (tenant, agent,
    /// window, bin) series: the SDK default of 2000 points per metric would cut off a fleet of a few hundred agents.
    /// 20 000 fits 1 000 agents x 2 windows x 10 bins; the SDK allocates that many points per metric up front, so a far
    /// larger default (250 000 before) cost hundreds of megabytes per MeterProvider.
    /// </summary>
    public static MeterProviderBuilder AddPerfOtelAnalyticsMetrics(this MeterProviderBuilder builder, int cardinalityLimit = 20_000) =>
        builder.AddPerfOtelAnalyticsMetrics(AnalyticsMetricCatalog.MeterName, cardinalityLimit);

    internal static MeterProviderBuilder AddPerfOtelAnalyticsMetrics(this MeterProviderBuilder builder, string meterName, int cardinalityLimit = 20_000)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddMeter(meterName);
        foreach (var definition in AnalyticsMetricCatalog.All)
        {
            builder.AddView(definition.Name, new MetricStreamConfiguration { CardinalityLimit = cardinalityLimit });
        }
        return builder;
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

    /// <summary>Creates the observable instruments at start-up, so the first scrape already sees them.</summary>
    private sealed class AnalyticsMetricsActivation(AnalyticsMetrics metrics) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            GC.KeepAlive(metrics);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

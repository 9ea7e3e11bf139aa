using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Cardinality;

/// <summary>Wiring of the cardinality guard.</summary>
public static class CardinalityServiceCollectionExtensions
{
    /// <summary>
    /// Registers the guard (section <c>Cardinality</c>, validated at start-up naming the setting) and its derivation,
    /// which the composition root puts first in the seam. Idempotent: the analytics and the cost wiring both call it.
    /// </summary>
    public static IServiceCollection AddPerfOtelCardinalityGuard(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(d => d.ServiceType == typeof(CardinalityGuard)))
        {
            return services;
        }
        services.AddMetrics();
        services.TryAddSingleton<CollectorMetrics>();
        services.AddOptions<CardinalityOptions>().Configure(o => CardinalityOptions.ReadInto(configuration, o)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<CardinalityOptions>, CardinalityOptionsValidator>();
        services.AddSingleton<CardinalityGuard>();
        services.AddSingleton<CardinalityDerivation>();
        services.AddHostedService<CardinalityMetricsActivation>();
        return services;
    }

    private sealed class CardinalityOptionsValidator : IValidateOptions<CardinalityOptions>
    {
        public ValidateOptionsResult Validate(string? name, CardinalityOptions options) =>
            options.Problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(options.Problems);
    }

    /// <summary>Connects the guard to its gauge at start-up, so the first scrape already sees it.</summary>
    private sealed class CardinalityMetricsActivation(CardinalityGuard guard, CollectorMetrics metrics) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            metrics.ObserveCardinality(() => guard.Tracked()
                .Select(t => (t.Tenant, CardinalityDimensions.LabelOf(t.Dimension), t.Values)).ToList());
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

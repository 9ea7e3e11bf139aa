using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Derived;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Derived.Coordination;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Ingest;

public static class IngestPipelineExtensions
{
    /// <summary>The bounded ingest queue, its single store writer and the collector's self-metrics.</summary>
    public static IServiceCollection AddIngestPipeline(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<IngestOptions>().Bind(configuration.GetSection(IngestOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IngestOptions>, IngestOptionsValidator>());
        services.AddMetrics();
        services.TryAddSingleton<CollectorMetrics>();
        services.TryAddSingleton<IngestQueue>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSpanAttribution();
        // No derived feature unless the composition root registers them (AddPerfOtelDerived replaces this one).
        services.TryAddSingleton(sp => new DerivationPipeline([], sp.GetRequiredService<ILogger<DerivationPipeline>>()));
        services.AddOptions<DerivationOptions>();
        services.TryAddSingleton<DerivationRole>();
        services.TryAddSingleton<LiveDerivations>();
        services.AddHostedService<IngestWriter>();
        services.TryAddSingleton<NativeMemoryTrimmer>();
        services.AddHostedService(sp => sp.GetRequiredService<NativeMemoryTrimmer>());
        return services;
    }

    /// <summary>
    /// One attribution per process: the writer resolves with it, the start-up replay splits what is stored with it, and
    /// on replicas sharing a PostgreSQL the derivation leader attributes every replica's records with it.
    /// </summary>
    public static IServiceCollection AddSpanAttribution(this IServiceCollection services)
    {
        services.TryAddSingleton(sp =>
        {
            var ingest = sp.GetRequiredService<IOptions<IngestOptions>>().Value;
            return new SpanAttribution(ingest.AttributionHorizon, ingest.AttributionMaxLinks);
        });
        return services;
    }
}

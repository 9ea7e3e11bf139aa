using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PerfOtel.Instrumentation.Pricing;
using PerfOtel.Collector.Ingest;
using PerfOtel.Collector.Receiving.Http;
using PerfOtel.Collector.Receiving.Mapping;
using PerfOtel.Collector.Receiving.Privacy;

namespace PerfOtel.Collector.Receiving;

public static class OtlpReceiverExtensions
{
    /// <summary>
    /// The OTLP/HTTP receiver, the consumer it shares with OTLP/gRPC (see <see cref="Grpc.OtlpGrpcListener"/>), and the
    /// ingest pipeline behind them (queue, store writer, self-metrics), configured from
    /// the <c>Otlp</c> and <c>Ingest</c> sections and validated at start-up. An <see cref="Records.IExecutionStore"/>
    /// must be registered separately.
    /// </summary>
    public static IServiceCollection AddOtlpReceiver(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<OtlpOptions>().Bind(configuration.GetSection(OtlpOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OtlpOptions>, OtlpOptionsValidator>());
        services.AddIngestPipeline(configuration);

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(provider =>
        {
            var overrides = provider.GetRequiredService<IOptions<OtlpOptions>>().Value.PricingOverridesPath;
            return string.IsNullOrEmpty(overrides) ? PricingCatalog.Default : PricingCatalog.Default.WithOverrides(PricingCatalog.Load(overrides));
        });
        services.TryAddSingleton<IModelPricing, CatalogModelPricing>();
        services.AddPerfOtelPrivacy(configuration);
        services.TryAddSingleton(provider => new SpanMapper(
            provider.GetRequiredService<IModelPricing>(), provider.GetRequiredService<PrivacyPolicy>(), provider.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<RejectionSummary>();
        services.AddHostedService<RejectionSummaryService>();
        services.TryAddSingleton<OtlpConsumer>();
        services.TryAddSingleton<OtlpRequestHandler>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<OtlpSignal, TracesSignal>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<OtlpSignal, MetricsSignal>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<OtlpSignal, LogsSignal>());
        return services;
    }

    /// <summary>Maps <c>/v1/traces</c>, <c>/v1/metrics</c> and <c>/v1/logs</c> (every method: the handler answers 405 itself).</summary>
    public static IEndpointRouteBuilder MapOtlpReceiver(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var handler = endpoints.ServiceProvider.GetRequiredService<OtlpRequestHandler>();
        foreach (var signal in endpoints.ServiceProvider.GetServices<OtlpSignal>())
        {
            endpoints.Map(signal.Path, context => handler.HandleAsync(context, signal));
        }

        return endpoints;
    }
}

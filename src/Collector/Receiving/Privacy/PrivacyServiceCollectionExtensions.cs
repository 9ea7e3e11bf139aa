using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace PerfOtel.Collector.Receiving.Privacy;

public static class PrivacyServiceCollectionExtensions
{
    /// <summary>
    /// The <c>Privacy</c> section (content capture per tenant, user-id hash key, attribute allowlist), validated at
    /// start-up. Called by the OTLP receiver's registration; safe to call again.
    /// </summary>
    public static IServiceCollection AddPerfOtelPrivacy(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<PrivacyOptions>().Bind(configuration.GetSection(PrivacyOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PrivacyOptions>, PrivacyOptionsValidator>());
        services.TryAddSingleton(provider => new PrivacyPolicy(
            provider.GetRequiredService<IOptions<PrivacyOptions>>(), provider.GetRequiredService<IOptions<OtlpOptions>>()));
        return services;
    }
}

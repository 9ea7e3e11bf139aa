using System.Globalization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Receiving;

namespace PerfOtel.Collector.Security;

public static class SecurityExtensions
{
    /// <summary>
    /// API keys (<c>Auth</c>), validated at start-up, and the separate /metrics listener (<c>Metrics:Port</c>). Call
    /// after the collector's configuration sources are added: the metrics listener joins the configured URLs.
    /// </summary>
    public static WebApplicationBuilder AddPerfOtelSecurity(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<AuthOptions>().Bind(builder.Configuration.GetSection(AuthOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AuthOptions>, AuthOptionsValidator>());
        services.AddOptions<MetricsListenerOptions>().Bind(builder.Configuration.GetSection(MetricsListenerOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<MetricsListenerOptions>, MetricsListenerOptionsValidator>());
        services.TryAddSingleton<ApiKeyRegistry>();
        services.TryAddSingleton<RouteAccessPolicy>();
        services.TryAddSingleton<Receiving.RejectionSummary>();

        if (MetricsListenerUrl(builder.Configuration) is { } metricsUrl)
        {
            var urls = builder.Configuration["urls"] ?? OtlpOptions.DefaultUrl;
            builder.WebHost.UseUrls([.. urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), metricsUrl]);
        }

        return builder;
    }

    /// <summary>
    /// Authenticates requests before their endpoint runs, and warns at start-up when authentication is off on an
    /// address other machines can reach. Call before the endpoints are mapped.
    /// </summary>
    public static WebApplication UsePerfOtelSecurity(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseMiddleware<ApiKeyAuthenticationMiddleware>();
        app.Lifetime.ApplicationStarted.Register(() => ExposureWarning.CheckBoundAddresses(app.Services));
        return app;
    }

    private static string? MetricsListenerUrl(IConfiguration configuration)
    {
        var text = configuration[$"{MetricsListenerOptions.SectionName}:Port"];
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
        {
            // The options validator reports it with the other settings; no listener is added for a bad value.
            return null;
        }

        var urls = configuration["urls"] ?? OtlpOptions.DefaultUrl;
        var first = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault()
            ?? OtlpOptions.DefaultUrl;
        // Same host as the main listener: the port, not the interface, is what a network policy opens to Prometheus.
        var host = BindingAddress.Parse(first).Host;
        return $"http://{host}:{port}";
    }
}

internal sealed class MetricsListenerOptionsValidator : IValidateOptions<MetricsListenerOptions>
{
    public ValidateOptionsResult Validate(string? name, MetricsListenerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Port is null or (>= 1 and <= 65535)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Metrics:Port must be a TCP port between 1 and 65535 (was {options.Port}).");
    }
}

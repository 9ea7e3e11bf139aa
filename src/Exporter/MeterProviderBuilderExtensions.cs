using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using PerfOtel.Exporter.Implementation;
using PerfOtel.Exporter.Implementation.Hosting;

namespace PerfOtel.Exporter;

/// <summary>Registers the PerfOtel Prometheus / OpenMetrics pull exporter on a <see cref="MeterProviderBuilder"/>.</summary>
public static class MeterProviderBuilderExtensions
{
    /// <summary>
    /// Adds the pull exporter. Serve it with <c>MapPerfOtelScrapingEndpoint</c> in ASP.NET Core, after registering the
    /// built MeterProvider in the service collection.
    /// </summary>
    /// <param name="builder">The MeterProvider builder.</param>
    /// <returns>The builder, for chaining.</returns>
    public static MeterProviderBuilder AddPerfOtelPrometheusExporter(this MeterProviderBuilder builder) =>
        AddPerfOtelPrometheusExporter(builder, name: null, configure: null);

    /// <summary>Adds the pull exporter with options.</summary>
    /// <param name="builder">The MeterProvider builder.</param>
    /// <param name="configure">Configures the exporter options.</param>
    /// <returns>The builder, for chaining.</returns>
    public static MeterProviderBuilder AddPerfOtelPrometheusExporter(
        this MeterProviderBuilder builder, Action<PerfOtelPrometheusExporterOptions>? configure) =>
        AddPerfOtelPrometheusExporter(builder, name: null, configure);

    /// <summary>Adds the pull exporter with named options (also configurable through the service collection).</summary>
    /// <param name="builder">The MeterProvider builder.</param>
    /// <param name="name">Name of the options instance; null for the default.</param>
    /// <param name="configure">Configures the exporter options.</param>
    /// <returns>The builder, for chaining.</returns>
    public static MeterProviderBuilder AddPerfOtelPrometheusExporter(
        this MeterProviderBuilder builder, string? name, Action<PerfOtelPrometheusExporterOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var optionsName = name ?? Options.DefaultName;
        builder.ConfigureServices(services =>
        {
            services.AddOptions();
            if (configure is not null)
            {
                services.Configure(optionsName, configure);
            }
        });

        return builder.AddReader(serviceProvider =>
        {
            var options = serviceProvider.GetRequiredService<IOptionsMonitor<PerfOtelPrometheusExporterOptions>>().Get(optionsName);
            return CreateReader(new PerfOtelPrometheusExporter(options));
        });
    }

    /// <summary>
    /// Adds the pull exporter served by a standalone HTTP listener (no ASP.NET Core needed), by default on
    /// <c>http://127.0.0.1:9464/metrics</c>. The listener starts when the MeterProvider is built and stops when it is
    /// disposed.
    /// </summary>
    /// <param name="builder">The MeterProvider builder.</param>
    /// <returns>The builder, for chaining.</returns>
    public static MeterProviderBuilder AddPerfOtelPrometheusHttpListener(this MeterProviderBuilder builder) =>
        AddPerfOtelPrometheusHttpListener(builder, name: null, configure: null);

    /// <summary>Adds the pull exporter served by a standalone HTTP listener, with options.</summary>
    /// <param name="builder">The MeterProvider builder.</param>
    /// <param name="configure">Configures the listener and exporter options.</param>
    /// <returns>The builder, for chaining.</returns>
    public static MeterProviderBuilder AddPerfOtelPrometheusHttpListener(
        this MeterProviderBuilder builder, Action<PerfOtelPrometheusHttpListenerOptions>? configure) =>
        AddPerfOtelPrometheusHttpListener(builder, name: null, configure);

    /// <summary>Adds the pull exporter served by a standalone HTTP listener, with named options.</summary>
    /// <param name="builder">The MeterProvider builder.</param>
    /// <param name="name">Name of the options instance; null for the default.</param>
    /// <param name="configure">Configures the listener and exporter options.</param>
    /// <returns>The builder, for chaining.</returns>
    public static MeterProviderBuilder AddPerfOtelPrometheusHttpListener(
        this MeterProviderBuilder builder, string? name, Action<PerfOtelPrometheusHttpListenerOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var optionsName = name ?? Options.DefaultName;
        builder.ConfigureServices(services =>
        {
            services.AddOptions();
            if (configure is not null)
            {
                services.Configure(optionsName, configure);
            }
        });

        return builder.AddReader(serviceProvider =>
        {
            var options = serviceProvider.GetRequiredService<IOptionsMonitor<PerfOtelPrometheusHttpListenerOptions>>().Get(optionsName);
            var exporter = new PerfOtelPrometheusExporter(options);
            var server = new PrometheusHttpListenerServer(exporter, options);
            try
            {
                server.Start();
            }
            catch
            {
                server.Dispose();
                exporter.Dispose();
                throw;
            }

            exporter.OwnedServer = server;
            return CreateReader(exporter);
        });
    }

    private static BaseExportingMetricReader CreateReader(PerfOtelPrometheusExporter exporter) =>
        new(exporter)
        {
            // Prometheus expects counters and histograms to be cumulative.
            TemporalityPreference = MetricReaderTemporalityPreference.Cumulative,
        };
}

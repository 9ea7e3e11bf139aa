using System.Diagnostics.Metrics;
using System.Text;
using System.Text.RegularExpressions;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using PerfOtel.Exporter.Implementation;
using PerfOtel.Exporter.Implementation.Serialization;

namespace PerfOtel.Exporter.Tests.TestSupport;

/// <summary>A real MeterProvider with the exporter attached, a private Meter, and direct access to scrapes.</summary>
internal sealed partial class ExporterHarness : IDisposable
{
    public ExporterHarness(
        Action<PerfOtelPrometheusExporterOptions>? configure = null,
        Action<MeterProviderBuilder>? configureProvider = null,
        string meterName = "PerfOtel.Tests",
        string? meterVersion = "1.2.3",
        ResourceBuilder? resource = null)
    {
        Meter = new Meter(meterName + "." + Guid.NewGuid().ToString("N"), meterVersion);
        MeterName = Meter.Name;
        var builder = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource ?? ResourceBuilder.CreateEmpty())
            .AddMeter(Meter.Name)
            .AddPerfOtelPrometheusExporter(options =>
            {
                // Tests control when collections happen.
                options.ScrapeResponseCacheDuration = TimeSpan.Zero;
                configure?.Invoke(options);
            });
        configureProvider?.Invoke(builder);
        MeterProvider = builder.Build();
        Exporter = PerfOtelPrometheusExporter.FindFor(MeterProvider)
            ?? throw new InvalidOperationException("exporter not found on the provider");
    }

    public Meter Meter { get; }

    public string MeterName { get; }

    public MeterProvider MeterProvider { get; }

    public PerfOtelPrometheusExporter Exporter { get; }

    public string Scrape(ExpositionFormat format)
    {
        using var lease = Exporter.Scrapes.GetAsync(format, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        return Encoding.UTF8.GetString(lease.Content.Span);
    }

    /// <summary>
    /// The scrape with the random meter-name suffix replaced and the wall-clock values of <c>_created</c> samples
    /// shown as <c>&lt;start&gt;</c>, for golden files.
    /// </summary>
    public string ScrapeStable(ExpositionFormat format) =>
        CreatedValue().Replace(Scrape(format).Replace(MeterName, "PerfOtel.Tests", StringComparison.Ordinal), "$1 <start>");

    [GeneratedRegex(@"^(\S+_created(?:\{.*\})?) [0-9]{10}\.[0-9]{3}$", RegexOptions.Multiline)]
    private static partial Regex CreatedValue();

    public void Dispose()
    {
        MeterProvider.Dispose();
        Meter.Dispose();
    }
}

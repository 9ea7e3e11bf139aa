using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace PerfOtel.Exporter.Tests.TestSupport;

/// <summary>
/// A real Kestrel app on 127.0.0.1 (free port) that registers its MeterProvider the way the collector does and maps
/// the scrape endpoint. Records the Accept header of every scrape, to see what Prometheus asked for.
/// </summary>
internal sealed class ScrapeTestApp : IAsyncDisposable
{
    private readonly WebApplication app;

    private readonly bool ownsMeter;

    private ScrapeTestApp(WebApplication app, Meter meter, bool ownsMeter, MeterProvider meterProvider)
    {
        this.app = app;
        this.ownsMeter = ownsMeter;
        Meter = meter;
        MeterProvider = meterProvider;
    }

    public Meter Meter { get; }

    public MeterProvider MeterProvider { get; }

    public Uri BaseAddress { get; private set; } = null!;

    public ConcurrentQueue<string> AcceptHeaders { get; } = new();

    public static async Task<ScrapeTestApp> StartAsync(
        Action<PerfOtelPrometheusExporterOptions>? configure = null,
        Action<MeterProviderBuilder>? configureProvider = null,
        Action<WebApplication, MeterProvider>? map = null,
        Meter? sharedMeter = null)
    {
        var meter = sharedMeter ?? new Meter("PerfOtel.Tests.App." + Guid.NewGuid().ToString("N"), "1.0.0");
        var providerBuilder = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("scrape-test-app"))
            .AddMeter(meter.Name)
            .AddPerfOtelPrometheusExporter(configure);
        configureProvider?.Invoke(providerBuilder);
        var meterProvider = providerBuilder.Build();

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton(meterProvider);
        var app = builder.Build();
        var testApp = new ScrapeTestApp(app, meter, sharedMeter is null, meterProvider);
        app.Use(async (context, next) =>
        {
            testApp.AcceptHeaders.Enqueue(context.Request.Headers.Accept.ToString());
            await next(context);
        });
        if (map is null)
        {
            app.MapPerfOtelScrapingEndpoint();
        }
        else
        {
            map(app, meterProvider);
        }

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        testApp.BaseAddress = new Uri(address);
        return testApp;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
        MeterProvider.Dispose();
        if (ownsMeter)
        {
            Meter.Dispose();
        }
    }
}

using System.Diagnostics.Metrics;
using System.Net;
using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using PerfOtel.Exporter;
using Prometheus;

namespace PerfOtel.Benchmarks.Exporter;

/// <summary>The exposition format a scraper asks for.</summary>
public enum ScrapeFormat
{
    Text,
    OpenMetrics,
}

/// <summary>
/// One real HTTP GET of /metrics through each exporter's own ASP.NET Core endpoint, in one process and one run, on the
/// same series (a counter with agent, model and outcome labels): PerfOtel.Exporter (baseline), OpenTelemetry's
/// Prometheus exporter, prometheus-net with its own registry, and prometheus-net's MeterAdapter reading the same Meter;
/// plus the floor, an endpoint writing PerfOtel's pre-rendered document (what HTTP alone costs for that body). Caches are
/// off everywhere, so every GET collects and serialises.
/// </summary>
[Config(typeof(PeerScrapeConfig))]
public class PeerScrapeBenchmarks
{
    private const string OpenMetricsAccept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
    private const string TextAccept = "text/plain;version=0.0.4";
    private static readonly string[] Outcomes = ["success", "failure", "partial"];

    private WebApplication app = null!;
    private Meter meter = null!;
    private HttpClient client = null!;
    private IDisposable meterAdapter = null!;
    private MeterProvider withoutCreated = null!;
    private byte[] preRendered = [];

    [Params(1_000, 10_000)]
    public int SeriesCount { get; set; }

    [Params(ScrapeFormat.Text, ScrapeFormat.OpenMetrics)]
    public ScrapeFormat Format { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        meter = new Meter("PerfOtel.Benchmarks.Peers." + Guid.NewGuid().ToString("N"), "1.0.0");
        var nativeRegistry = Metrics.NewCustomRegistry();
        var adapterRegistry = Metrics.NewCustomRegistry();
        meterAdapter = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            Registry = adapterRegistry,
            MetricFactory = Metrics.WithCustomRegistry(adapterRegistry),
            InstrumentFilterPredicate = instrument => instrument.Meter == meter,
        });

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(meter.Name)
            .AddView("perfotel.agent.invocations", new MetricStreamConfiguration { CardinalityLimit = SeriesCount + 10 })
            .AddPrometheusExporter(options => options.ScrapeResponseCacheDurationMilliseconds = 0)
            .AddPerfOtelPrometheusExporter(options =>
            {
                options.ScrapeResponseCacheDuration = TimeSpan.Zero;
                options.MaxSeries = int.MaxValue;
            }));
        app = builder.Build();
        // The same exporter with EmitCreatedSeries off, on its own provider over the same meter: OpenMetrics without
        // the _created line of every counter series (text never has one).
        withoutCreated = global::OpenTelemetry.Sdk.CreateMeterProviderBuilder()
            .AddMeter(meter.Name)
            .AddView("perfotel.agent.invocations", new MetricStreamConfiguration { CardinalityLimit = SeriesCount + 10 })
            .AddPerfOtelPrometheusExporter(options =>
            {
                options.ScrapeResponseCacheDuration = TimeSpan.Zero;
                options.MaxSeries = int.MaxValue;
                options.EmitCreatedSeries = false;
            })
            .Build();
        app.MapPerfOtelScrapingEndpoint("/perfotel");
        app.MapPerfOtelScrapingEndpoint(withoutCreated, "/perfotel-without-created");
        app.MapPrometheusScrapingEndpoint("/otel");
        app.MapMetrics("/prometheus-net", nativeRegistry);
        app.MapMetrics("/prometheus-net-meter-adapter", adapterRegistry);
        var contentType = Format == ScrapeFormat.OpenMetrics
            ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
            : "text/plain; version=0.0.4; charset=utf-8";
        app.MapGet("/floor", async (HttpContext context) =>
        {
            context.Response.ContentType = contentType;
            context.Response.ContentLength = preRendered.Length;
            await context.Response.Body.WriteAsync(preRendered);
        });
        // Diagnostic endpoint for scrape-cpu (not a benchmark row): a real PerfOtel collection and serialisation into
        // its buffer, then the floor's pre-rendered bytes sent instead of that buffer. Against the floor it is the
        // collection's wall time; against PerfOtel, the cost of sending from the freshly written buffer.
        var perfOtelExporter = PerfOtelExporterInternals.Find(app.Services.GetRequiredService<MeterProvider>());
        app.MapGet("/collect-then-floor", async (HttpContext context) =>
        {
            using (await perfOtelExporter.Scrapes.GetAsync(ExporterFormat, context.RequestAborted))
            {
            }

            context.Response.ContentType = contentType;
            context.Response.ContentLength = preRendered.Length;
            await context.Response.Body.WriteAsync(preRendered);
        });
        // Diagnostic endpoints that bisect the difference between collect-then-floor and perfotel.
        app.MapGet("/collect-hold-floor", async (HttpContext context) =>
        {
            using (await perfOtelExporter.Scrapes.GetAsync(ExporterFormat, context.RequestAborted))
            {
                context.Response.ContentType = contentType;
                context.Response.ContentLength = preRendered.Length;
                await context.Response.Body.WriteAsync(preRendered);
            }
        });
        app.MapGet("/collect-then-own", async (HttpContext context) =>
        {
            using var lease = await perfOtelExporter.Scrapes.GetAsync(ExporterFormat, context.RequestAborted);
            context.Response.ContentType = contentType;
            context.Response.ContentLength = lease.Content.Length;
            await context.Response.Body.WriteAsync(lease.Content);
        });
        app.StartAsync().GetAwaiter().GetResult();

        var invocations = meter.CreateCounter<long>("perfotel.agent.invocations", null, "Agent invocations by outcome");
        var native = Metrics.WithCustomRegistry(nativeRegistry).CreateCounter(
            "perfotel_agent_invocations_total", "Agent invocations by outcome", "gen_ai_agent_name", "gen_ai_request_model", "perfotel_outcome");
        for (var i = 0; i < SeriesCount; i++)
        {
            var agent = "agent-" + (i / 30);
            var model = "model-" + (i / 3 % 10);
            var outcome = Outcomes[i % 3];
            invocations.Add(i + 1,
                new KeyValuePair<string, object?>("gen_ai.agent.name", agent),
                new KeyValuePair<string, object?>("gen_ai.request.model", model),
                new KeyValuePair<string, object?>("perfotel.outcome", outcome));
            native.WithLabels(agent, model, outcome).Inc(i + 1);
        }

        client = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = DecompressionMethods.None })
        {
            BaseAddress = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()),
        };
        client.DefaultRequestHeaders.TryAddWithoutValidation("Accept", Format == ScrapeFormat.OpenMetrics ? OpenMetricsAccept : TextAccept);

        // Every endpoint must serve the whole workload, or the comparison is void.
        preRendered = GetBytes("/perfotel");
        foreach (var path in new[] { "/perfotel", "/collect-then-floor", "/collect-hold-floor", "/collect-then-own", "/perfotel-without-created", "/otel", "/prometheus-net", "/prometheus-net-meter-adapter", "/floor" })
        {
            var lines = GetBytes(path).Count(b => b == (byte)'\n');
            if (lines < SeriesCount)
            {
                throw new InvalidOperationException($"{path} served {lines} lines for {SeriesCount} series.");
            }
        }
    }

    private global::PerfOtel.Exporter.Implementation.Serialization.ExpositionFormat ExporterFormat =>
        Format == ScrapeFormat.OpenMetrics
            ? global::PerfOtel.Exporter.Implementation.Serialization.ExpositionFormat.OpenMetrics
            : global::PerfOtel.Exporter.Implementation.Serialization.ExpositionFormat.PrometheusText;

    [GlobalCleanup]
    public void Cleanup()
    {
        client.Dispose();
        app.StopAsync().GetAwaiter().GetResult();
        ((IDisposable)app).Dispose();
        meterAdapter.Dispose();
        withoutCreated.Dispose();
        meter.Dispose();
    }

    [Benchmark(Baseline = true, Description = "PerfOtel.Exporter")]
    public Task<int> PerfOtel() => GetAsync("/perfotel");

    [Benchmark(Description = "PerfOtel.Exporter, EmitCreatedSeries = false")]
    public Task<int> PerfOtelWithoutCreated() => GetAsync("/perfotel-without-created");

    [Benchmark(Description = "OpenTelemetry.Exporter.Prometheus.AspNetCore")]
    public Task<int> OpenTelemetry() => GetAsync("/otel");

    [Benchmark(Description = "prometheus-net registry")]
    public Task<int> PrometheusNet() => GetAsync("/prometheus-net");

    [Benchmark(Description = "prometheus-net MeterAdapter")]
    public Task<int> PrometheusNetMeterAdapter() => GetAsync("/prometheus-net-meter-adapter");

    [Benchmark(Description = "HTTP floor (pre-rendered bytes)")]
    public Task<int> HttpFloor() => GetAsync("/floor");

    /// <summary>PerfOtel's collection, then the floor's bytes (diagnostic for <c>scrape-cpu</c>, not a benchmark row).</summary>
    public Task<int> CollectThenFloor() => GetAsync("/collect-then-floor");

    /// <summary>Diagnostic: PerfOtel's collection, the floor's bytes sent while the lease is still held.</summary>
    public Task<int> CollectHoldFloor() => GetAsync("/collect-hold-floor");

    /// <summary>Diagnostic: PerfOtel's collection, its own buffer sent as the floor sends (no negotiation, no Vary).</summary>
    public Task<int> CollectThenOwn() => GetAsync("/collect-then-own");

    /// <summary>Milliseconds from sending the last GET to having its response headers (for <c>scrape-cpu</c>).</summary>
    internal double LastHeadersMilliseconds { get; private set; }

    private async Task<int> GetAsync(string path)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative), HttpCompletionOption.ResponseHeadersRead);
        LastHeadersMilliseconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(64 * 1024);
        var total = 0;
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            total += read;
        }

        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        return total;
    }

    private static class PerfOtelExporterInternals
    {
        public static global::PerfOtel.Exporter.Implementation.PerfOtelPrometheusExporter Find(MeterProvider provider) =>
            global::PerfOtel.Exporter.Implementation.PerfOtelPrometheusExporter.FindFor(provider)
            ?? throw new InvalidOperationException("no PerfOtel exporter");
    }

    private byte[] GetBytes(string path) =>
        client.GetByteArrayAsync(new Uri(path, UriKind.Relative)).GetAwaiter().GetResult();
}

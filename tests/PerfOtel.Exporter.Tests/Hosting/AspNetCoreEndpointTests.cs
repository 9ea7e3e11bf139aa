using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Builder;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using PerfOtel.Exporter.Tests.TestSupport;

namespace PerfOtel.Exporter.Tests.Hosting;

public class AspNetCoreEndpointTests
{
    internal const string Prometheus242Accept =
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

    private static HttpClient Client(ScrapeTestApp app) =>
        new(new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None }) { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task MeterProviderFromServicesServesTheTextFormatByDefault()
    {
        await using var app = await ScrapeTestApp.StartAsync();
        app.Meter.CreateCounter<long>("perfotel.invocations").Add(3);
        using var client = Client(app);

        using var response = await client.GetAsync(new Uri("/metrics", UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.GetValues("Content-Type").Single());
        Assert.Contains("perfotel_invocations_total{", body, StringComparison.Ordinal);
        Assert.Contains("} 3\n", body, StringComparison.Ordinal);
        Assert.Matches("target_info\\{[^}]*service_name=\"scrape-test-app\"", body);
        Assert.DoesNotContain("# EOF", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PrometheusAcceptHeaderGetsOpenMetrics()
    {
        await using var app = await ScrapeTestApp.StartAsync();
        app.Meter.CreateCounter<long>("perfotel.invocations").Add(3);
        using var client = Client(app);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.TryAddWithoutValidation("Accept", Prometheus242Accept);

        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal("application/openmetrics-text; version=1.0.0; charset=utf-8", response.Content.Headers.GetValues("Content-Type").Single());
        Assert.Contains("# TYPE perfotel_invocations counter\n", body, StringComparison.Ordinal);
        Assert.EndsWith("# EOF\n", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DisablingOpenMetricsAnswersTextEvenToPrometheus()
    {
        await using var app = await ScrapeTestApp.StartAsync(options => options.EnableOpenMetrics = false);
        using var client = Client(app);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.TryAddWithoutValidation("Accept", Prometheus242Accept);

        using var response = await client.SendAsync(request);

        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.GetValues("Content-Type").Single());
    }

    [Fact]
    public async Task GzipIsUsedWhenAskedAndDecompressesToTheSameDocument()
    {
        await using var app = await ScrapeTestApp.StartAsync(options => options.ScrapeResponseCacheDuration = TimeSpan.FromHours(1));
        app.Meter.CreateCounter<long>("perfotel.invocations").Add(3);
        using var client = Client(app);

        var plain = await client.GetByteArrayAsync(new Uri("/metrics", UriKind.Relative));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
        using var response = await client.SendAsync(request);
        var compressed = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal("gzip", response.Content.Headers.ContentEncoding.Single());
        using var decompressor = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var decompressed = new MemoryStream();
        await decompressor.CopyToAsync(decompressed);
        Assert.Equal(plain, decompressed.ToArray());
    }

    [Fact]
    public async Task GzipWithZeroQualityIsNotUsed()
    {
        await using var app = await ScrapeTestApp.StartAsync();
        using var client = Client(app);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "gzip;q=0, identity");

        using var response = await client.SendAsync(request);

        Assert.Empty(response.Content.Headers.ContentEncoding);
    }

    [Fact]
    public async Task HeadAnswersTheHeadersOfGetWithoutABody()
    {
        await using var app = await ScrapeTestApp.StartAsync(options => options.ScrapeResponseCacheDuration = TimeSpan.FromHours(1));
        app.Meter.CreateCounter<long>("perfotel.invocations").Add(3);
        using var client = Client(app);

        var getBody = await client.GetByteArrayAsync(new Uri("/metrics", UriKind.Relative));
        using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/metrics"));
        var headBody = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.GetValues("Content-Type").Single());
        Assert.Equal(getBody.Length, response.Content.Headers.ContentLength);
        Assert.Empty(headBody);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task OtherMethodsGet405WithAllow(string method)
    {
        await using var app = await ScrapeTestApp.StartAsync();
        using var client = Client(app);

        using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/metrics"));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("GET, HEAD", string.Join(", ", response.Content.Headers.Allow));
    }

    [Fact]
    public async Task ExplicitMeterProviderAndPathOverloadWorks()
    {
        await using var app = await ScrapeTestApp.StartAsync(map: (web, provider) => web.MapPerfOtelScrapingEndpoint(provider, "/internal/prom"));
        app.Meter.CreateCounter<long>("perfotel.invocations").Add(1);
        using var client = Client(app);

        using var found = await client.GetAsync(new Uri("/internal/prom", UriKind.Relative));
        using var missing = await client.GetAsync(new Uri("/metrics", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task EndpointPathDefaultsToTheOptionsPath()
    {
        await using var app = await ScrapeTestApp.StartAsync(options => options.ScrapeEndpointPath = "/prometheus");
        using var client = Client(app);

        using var response = await client.GetAsync(new Uri("/prometheus", UriKind.Relative));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public void MappingWithoutARegisteredMeterProviderExplainsWhatToDo()
    {
        var app = WebApplication.CreateSlimBuilder().Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.MapPerfOtelScrapingEndpoint());

        Assert.Contains("AddOpenTelemetry().WithMetrics(", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MappingAProviderWithoutTheExporterExplainsWhatToDo()
    {
        using var provider = Sdk.CreateMeterProviderBuilder().AddMeter("none").Build();
        var app = WebApplication.CreateSlimBuilder().Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.MapPerfOtelScrapingEndpoint(provider));

        Assert.Contains("AddPerfOtelPrometheusExporter()", error.Message, StringComparison.Ordinal);
    }
}

using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using PerfOtel.Exporter.Tests.TestSupport;

using PerfOtel.Testing;

namespace PerfOtel.Exporter.Tests.Hosting;

public class HttpListenerTests
{
    [Fact]
    public async Task ListenerServesBothFormatsOnLoopbackAndStopsWithTheProvider()
    {
        using var meter = new Meter("PerfOtel.Tests.Listener." + Guid.NewGuid().ToString("N"));
        var port = TestPorts.GetFree();
        var provider = Sdk.CreateMeterProviderBuilder()
            .AddMeter(meter.Name)
            .AddPerfOtelPrometheusHttpListener(options => options.UriPrefixes = [$"http://127.0.0.1:{port}/"])
            .Build();
        meter.CreateCounter<long>("perfotel.invocations").Add(4);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var metricsUri = new Uri($"http://127.0.0.1:{port}/metrics");
        try
        {
            using var text = await client.GetAsync(metricsUri);
            Assert.Equal(HttpStatusCode.OK, text.StatusCode);
            Assert.Equal("text/plain; version=0.0.4; charset=utf-8", text.Content.Headers.GetValues("Content-Type").Single());
            Assert.Contains("perfotel_invocations_total", await text.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            using var request = new HttpRequestMessage(HttpMethod.Get, metricsUri);
            request.Headers.TryAddWithoutValidation("Accept", AspNetCoreEndpointTests.Prometheus242Accept);
            using var openMetrics = await client.SendAsync(request);
            Assert.Equal("application/openmetrics-text; version=1.0.0; charset=utf-8", openMetrics.Content.Headers.GetValues("Content-Type").Single());
            Assert.EndsWith("# EOF\n", await openMetrics.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, metricsUri));
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);

            using var post = await client.PostAsync(metricsUri, new StringContent(""));
            Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);

            using var elsewhere = await client.GetAsync(new Uri($"http://127.0.0.1:{port}/other"));
            Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);

            using var gzipRequest = new HttpRequestMessage(HttpMethod.Get, metricsUri);
            gzipRequest.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
            using var gzip = await client.SendAsync(gzipRequest);
            Assert.Equal("gzip", gzip.Content.Headers.ContentEncoding.Single());
        }
        finally
        {
            provider.Dispose();
        }

        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(metricsUri));
    }

    [Fact]
    public void APortInUseFailsTheBuildWithTheAddressInTheMessage()
    {
        using var occupant = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        occupant.Start();
        var port = ((IPEndPoint)occupant.LocalEndpoint).Port;
        var builder = Sdk.CreateMeterProviderBuilder()
            .AddPerfOtelPrometheusHttpListener(options => options.UriPrefixes = [$"http://127.0.0.1:{port}/"]);

        var error = Assert.Throws<InvalidOperationException>(() => builder.Build());

        Assert.Contains($"http://127.0.0.1:{port}/", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DefaultPrefixIsLoopbackPort9464()
    {
        var options = new PerfOtelPrometheusHttpListenerOptions();

        Assert.Equal(["http://127.0.0.1:9464/"], options.UriPrefixes);
        Assert.Equal("/metrics", options.ScrapeEndpointPath);
        Assert.Equal(TimeSpan.FromMilliseconds(300), options.ScrapeResponseCacheDuration);
    }

    [Fact]
    public void PrefixesMustBeHttpUris() =>
        Assert.Throws<ArgumentException>(() => new PerfOtelPrometheusHttpListenerOptions { UriPrefixes = ["127.0.0.1:9464"] });
}

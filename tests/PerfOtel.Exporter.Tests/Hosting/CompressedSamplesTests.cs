using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using PerfOtel.Exporter.Tests.Serialization;
using PerfOtel.Exporter.Tests.TestSupport;

namespace PerfOtel.Exporter.Tests.Hosting;

/// <summary>Producer samples that carry their own gzip member, sent as-is inside a multi-member gzip body.</summary>
public class CompressedSamplesTests
{
    private static readonly PrometheusGaugeFamily Health = new("perfotel.agent.health_score", "{score}", "Health");
    private static readonly PrometheusGaugeFamily Success = new("perfotel.agent.success_ratio", "1", "Success");

    private static HttpClient Client(ScrapeTestApp app) =>
        new(new HttpClientHandler { AutomaticDecompression = DecompressionMethods.None }) { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    private static PrometheusCompressedSamples Samples(PrometheusGaugeFamily family, int count, string agentPrefix) =>
        new(ProducerTests.Lines(family, [.. Enumerable.Range(0, count).Select(i => ($"{agentPrefix}-{i}", (double)i))]));

    private static async Task<(byte[] Plain, byte[] Gzip)> ScrapeBothAsync(ScrapeTestApp app, string? accept = null)
    {
        using var client = Client(app);
        using var plainRequest = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        using var gzipRequest = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        if (accept is not null)
        {
            plainRequest.Headers.TryAddWithoutValidation("Accept", accept);
            gzipRequest.Headers.TryAddWithoutValidation("Accept", accept);
        }

        gzipRequest.Headers.AcceptEncoding.Add(new StringWithQualityHeaderValue("gzip"));
        using var plain = await client.SendAsync(plainRequest);
        using var gzip = await client.SendAsync(gzipRequest);
        Assert.Equal("gzip", gzip.Content.Headers.ContentEncoding.Single());
        return (await plain.Content.ReadAsByteArrayAsync(), await gzip.Content.ReadAsByteArrayAsync());
    }

    private static byte[] Gunzip(byte[] body)
    {
        using var decompressor = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
        using var output = new MemoryStream();
        decompressor.CopyTo(output);
        return output.ToArray();
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    [Theory]
    [InlineData(null)]
    [InlineData(AspNetCoreEndpointTests.Prometheus242Accept)]
    public async Task CompressedSamplesAreSentAsTheirOwnMembersAndTheBodyDecompressesToTheDocument(string? accept)
    {
        var health = Samples(Health, 500, "agent");
        var success = Samples(Success, 300, "agent");
        health.Compress();
        Assert.True(health.IsCompressed);
        Assert.False(success.IsCompressed);
        await using var app = await ScrapeTestApp.StartAsync(options =>
        {
            // One collection serves both requests, so both answers are of the same document.
            options.ScrapeResponseCacheDuration = TimeSpan.FromHours(1);
            options.Producers.Add(new ProducerTests.FixedProducer(writer =>
            {
                writer.BeginFamily(Health);
                writer.WriteSamples(health);
                writer.BeginFamily(Success);
                writer.WriteSamples(success);
            }));
        });
        app.Meter.CreateCounter<long>("perfotel.invocations").Add(3);

        var (plain, gzip) = await ScrapeBothAsync(app, accept);

        Assert.Equal(plain, Gunzip(gzip));
        Assert.Contains("perfotel_agent_health_score{agent=\"agent-499\"} 499\n", System.Text.Encoding.UTF8.GetString(plain), StringComparison.Ordinal);
        // The producer's members are in the body byte for byte: they were not compressed again.
        Assert.True(success.IsCompressed, "the first gzip scrape compresses samples that were not compressed yet");
        var healthMember = GetMember(health);
        var successMember = GetMember(success);
        Assert.True(Contains(gzip, healthMember), "the compressed health samples are not in the body as they were");
        Assert.True(Contains(gzip, successMember), "the compressed success samples are not in the body as they were");
    }

    [Fact]
    public async Task SamplesCutByMaxSeriesAreCompressedWithTheRestOfTheDocument()
    {
        var health = Samples(Health, 50, "agent");
        health.Compress();
        await using var app = await ScrapeTestApp.StartAsync(options =>
        {
            options.ScrapeResponseCacheDuration = TimeSpan.FromHours(1);
            options.MaxSeries = 20;
            options.Producers.Add(new ProducerTests.FixedProducer(writer =>
            {
                writer.BeginFamily(Health);
                writer.WriteSamples(health);
            }));
        });

        var (plain, gzip) = await ScrapeBothAsync(app);

        Assert.Equal(plain, Gunzip(gzip));
        Assert.False(Contains(gzip, GetMember(health)));
        // No SDK metric was recorded: the 20 series of MaxSeries are all the producer's.
        Assert.Equal(20, System.Text.Encoding.UTF8.GetString(plain).Split('\n').Count(l => l.StartsWith("perfotel_agent_health_score{", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task CompressedSamplesOfAFailingProducerAreDroppedWithItsOutput()
    {
        var health = Samples(Health, 10, "lost");
        var success = Samples(Success, 10, "kept");
        await using var app = await ScrapeTestApp.StartAsync(options =>
        {
            options.ScrapeResponseCacheDuration = TimeSpan.FromHours(1);
            options.Producers.Add(new ProducerTests.FixedProducer(writer =>
            {
                writer.BeginFamily(Health);
                writer.WriteSamples(health);
                throw new InvalidOperationException("broken producer");
            }));
            options.Producers.Add(new ProducerTests.FixedProducer(writer =>
            {
                writer.BeginFamily(Success);
                writer.WriteSamples(success);
            }));
        });

        var (plain, gzip) = await ScrapeBothAsync(app);

        var text = System.Text.Encoding.UTF8.GetString(Gunzip(gzip));
        Assert.Equal(plain, Gunzip(gzip));
        Assert.DoesNotContain("lost-", text, StringComparison.Ordinal);
        Assert.Contains("kept-9", text, StringComparison.Ordinal);
        Assert.False(health.IsCompressed);
    }

    private static byte[] GetMember(PrometheusCompressedSamples samples) => samples.GzipMember();
}

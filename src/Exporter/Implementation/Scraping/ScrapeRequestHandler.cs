using System.IO.Compression;
using PerfOtel.Exporter.Implementation.Serialization;

namespace PerfOtel.Exporter.Implementation.Scraping;

/// <summary>What a scrape handler needs from an HTTP response, so ASP.NET Core and HttpListener share one handler.</summary>
internal interface IScrapeResponse
{
    void SetStatus(int statusCode);

    void SetHeader(string name, string value);

    void SetContentLength(long length);

    Stream Body { get; }
}

/// <summary>
/// The HTTP behaviour of a scrape endpoint: GET and HEAD only (405 with Allow otherwise), format from Accept,
/// gzip when Accept-Encoding asks for it, exact Content-Type strings.
/// </summary>
internal static class ScrapeRequestHandler
{
    public static async Task HandleAsync(PerfOtelPrometheusExporter exporter, string method, string? accept,
        string? acceptEncoding, IScrapeResponse response, CancellationToken cancellationToken)
    {
        var isHead = string.Equals(method, "HEAD", StringComparison.OrdinalIgnoreCase);
        if (!isHead && !string.Equals(method, "GET", StringComparison.OrdinalIgnoreCase))
        {
            response.SetStatus(405);
            response.SetHeader("Allow", "GET, HEAD");
            return;
        }

        var format = ContentNegotiation.Choose(accept, exporter.Options.EnableOpenMetrics);
        ScrapeLease lease;
        try
        {
            lease = await exporter.Scrapes.GetAsync(format, cancellationToken).ConfigureAwait(false);
        }
        catch (ScrapeCollectionException)
        {
            response.SetStatus(503);
            response.SetHeader("Content-Type", "text/plain; charset=utf-8");
            return;
        }

        using (lease)
        {
            response.SetStatus(200);
            response.SetHeader("Content-Type", ExpositionContentTypes.For(format));
            // A cache between scraper and exporter must not serve one format to a scraper that asked for another.
            response.SetHeader("Vary", "Accept, Accept-Encoding");
            var gzip = ContentNegotiation.AcceptsGzip(acceptEncoding);
            if (gzip)
            {
                response.SetHeader("Content-Encoding", "gzip");
                if (isHead)
                {
                    return;
                }

                // The whole body is made first and sent in one write with its length: many small chunked writes
                // (a member per producer block) cost more in round trips than the compression saves.
                using var body = new MemoryStream(Math.Max(4096, lease.Content.Length / 6));
                await WriteGzipAsync(body, lease.Content, lease.CompressedRanges, cancellationToken).ConfigureAwait(false);
                response.SetContentLength(body.Length);
                await response.Body.WriteAsync(body.GetBuffer().AsMemory(0, (int)body.Length), cancellationToken).ConfigureAwait(false);
                return;
            }

            response.SetContentLength(lease.Content.Length);
            if (!isHead)
            {
                await response.Body.WriteAsync(lease.Content, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The document as a gzip body: ranges a producer compressed already are sent as their own members, everything
    /// between them is compressed into members here. Gzip readers join members into one stream (RFC 1952, 2.2; Go's
    /// gzip.Reader, which Prometheus uses, and .NET's GZipStream both do).
    /// </summary>
    private static async Task WriteGzipAsync(Stream body, ReadOnlyMemory<byte> content, IReadOnlyList<CompressedRange> compressed,
        CancellationToken cancellationToken)
    {
        var at = 0;
        foreach (var range in compressed)
        {
            if (range.Offset > at)
            {
                await WriteMemberAsync(body, content[at..range.Offset], cancellationToken).ConfigureAwait(false);
            }

            await body.WriteAsync(range.Samples.GzipMember(), cancellationToken).ConfigureAwait(false);
            at = range.Offset + range.Samples.Samples.Length;
        }

        if (at < content.Length || compressed.Count == 0)
        {
            await WriteMemberAsync(body, content[at..], cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task WriteMemberAsync(Stream body, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        var compressor = new GZipStream(body, CompressionLevel.Fastest, leaveOpen: true);
        await using (compressor.ConfigureAwait(false))
        {
            await compressor.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
    }
}

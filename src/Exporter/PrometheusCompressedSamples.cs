using System.IO.Compression;

namespace PerfOtel.Exporter;

/// <summary>
/// Sample lines of an <see cref="IPrometheusMetricProducer"/> together with their gzip encoding, made at most once.
/// A scrape that asks for gzip (Prometheus always does) sends the encoding as one member of a multi-member gzip body
/// instead of compressing those bytes again; a producer whose lines change less often than it is scraped, or that can
/// call <see cref="Compress"/> off the scrape path, takes compression off the scrape's time.
/// </summary>
public sealed class PrometheusCompressedSamples
{
    private byte[]? member;
    private readonly Lock gate = new();

    /// <summary>Wraps sample lines (whole lines, each ending with a line feed); they must not change afterwards.</summary>
    /// <param name="samples">The lines.</param>
    public PrometheusCompressedSamples(ReadOnlyMemory<byte> samples)
    {
        Samples = samples;
    }

    /// <summary>The lines.</summary>
    public ReadOnlyMemory<byte> Samples { get; }

    /// <summary>Whether the gzip encoding exists already.</summary>
    public bool IsCompressed => Volatile.Read(ref member) is not null;

    /// <summary>Makes the gzip encoding now if it does not exist yet (it is otherwise made by the first gzip scrape).</summary>
    public void Compress() => _ = GzipMember();

    /// <summary>One complete gzip member holding <see cref="Samples"/>.</summary>
    internal byte[] GzipMember()
    {
        if (Volatile.Read(ref member) is { } made)
        {
            return made;
        }

        lock (gate)
        {
            if (member is null)
            {
                using var output = new MemoryStream(Samples.Length / 4 + 64);
                using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
                {
                    gzip.Write(Samples.Span);
                }

                Volatile.Write(ref member, output.ToArray());
            }

            return member!;
        }
    }
}

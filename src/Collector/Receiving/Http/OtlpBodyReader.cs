using System.Buffers;
using System.IO.Compression;

namespace PerfOtel.Collector.Receiving.Http;

internal enum BodyReadStatus
{
    Ok,
    TooLarge,
    UnsupportedEncoding,
    CorruptCompression,
}

internal readonly record struct BodyReadResult(BodyReadStatus Status, byte[] Buffer, int Length, string? Detail = null)
{
    public ReadOnlySpan<byte> Span => Buffer.AsSpan(0, Length);

    public ReadOnlyMemory<byte> Memory => Buffer.AsMemory(0, Length);
}

/// <summary>
/// Reads an OTLP request body, gunzipping it when asked, and never holds more than the limit plus one byte: a gzip
/// bomb is cut off as soon as its output passes the limit, not after it was inflated.
/// </summary>
internal static class OtlpBodyReader
{
    private const int InitialBuffer = 16 * 1024;

    public static async Task<BodyReadResult> ReadAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        var encoding = request.Headers.ContentEncoding.ToString().Trim();
        var gzip = encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase) || encoding.Equals("x-gzip", StringComparison.OrdinalIgnoreCase);
        if (!gzip && encoding.Length != 0 && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            return new(BodyReadStatus.UnsupportedEncoding, [], 0, $"Content-Encoding '{encoding}' is not supported; use gzip or none");
        }

        if (request.ContentLength > limit)
        {
            return new(BodyReadStatus.TooLarge, [], 0);
        }

        // The receiver enforces its own limit after decompression; Kestrel's default cap on the raw body would only
        // turn a clean 413 into a connection error.
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = null;
        }

        // One byte beyond a known length: the read that finds the end of the body then needs no larger buffer.
        var initial = (int)Math.Min(limit + 1, gzip ? InitialBuffer * 4 : request.ContentLength + 1 ?? InitialBuffer);
        try
        {
            if (gzip)
            {
                var gunzip = new GZipStream(request.Body, CompressionMode.Decompress, leaveOpen: true);
                await using (gunzip.ConfigureAwait(false))
                {
                    return await ReadLimitedAsync(gunzip, limit, Math.Max(initial, 1), cancellationToken).ConfigureAwait(false);
                }
            }

            return await ReadLimitedAsync(request.Body, limit, Math.Max(initial, 1), cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidDataException error) when (gzip)
        {
            return new(BodyReadStatus.CorruptCompression, [], 0, "gzip body is corrupt: " + error.Message);
        }
    }

    /// <summary>Gives a body's buffer back to the pool once nothing refers to it (decoding copies what it keeps).</summary>
    public static void Return(BodyReadResult body)
    {
        if (body.Buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(body.Buffer);
        }
    }

    // Buffers come from the shared pool: OTLP bodies are typically hundreds of KiB, and a fresh array per request would
    // land on the large object heap and cost a gen-2 collection every few hundred requests.
    private static async Task<BodyReadResult> ReadLimitedAsync(Stream source, long limit, int initial, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(initial);
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (length > limit)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        return new(BodyReadStatus.TooLarge, [], 0);
                    }

                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(Math.Max(buffer.Length * 2L, 1024), limit + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await source.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return new(BodyReadStatus.Ok, buffer, length);
                }

                length += read;
                if (length > limit)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return new(BodyReadStatus.TooLarge, [], 0);
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }
}

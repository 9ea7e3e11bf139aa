using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace PerfOtel.Exporter.Implementation.Serialization;

/// <summary>
/// A growable UTF-8 output buffer rented from the array pool and reused across scrapes, so a scrape allocates
/// nothing that grows with the number of series once the buffer has reached its working size.
/// </summary>
internal sealed class ExpositionBuffer : IDisposable
{
    private static readonly SearchValues<char> CharactersToEscapeInLabelValues = SearchValues.Create("\\\"\n");
    private static readonly SearchValues<char> CharactersToEscapeInTextHelp = SearchValues.Create("\\\n");
    private byte[] bytes;

    public ExpositionBuffer(int initialCapacity = 16 * 1024)
    {
        bytes = ArrayPool<byte>.Shared.Rent(initialCapacity);
    }

    /// <summary>Number of bytes written since the last <see cref="Reset"/>.</summary>
    public int Length { get; private set; }

    /// <summary>The written bytes.</summary>
    public ReadOnlyMemory<byte> Written => bytes.AsMemory(0, Length);

    /// <summary>The written bytes as a span.</summary>
    public ReadOnlySpan<byte> WrittenSpan => bytes.AsSpan(0, Length);

    /// <summary>Ranges of the document that come with their own gzip member, in document order.</summary>
    public List<CompressedRange> CompressedRanges { get; } = [];

    /// <summary>Starts a new document, keeping the capacity.</summary>
    public void Reset()
    {
        Length = 0;
        CompressedRanges.Clear();
    }

    /// <summary>Moves the write position back (used to drop a partly written series).</summary>
    public void Truncate(int length)
    {
        Length = length;
        CompressedRanges.RemoveAll(range => range.Offset + range.Samples.Samples.Length > length);
    }

    /// <summary>Records that the bytes from <paramref name="offset"/> are <paramref name="samples"/>' lines.</summary>
    public void MarkCompressed(int offset, PrometheusCompressedSamples samples) => CompressedRanges.Add(new CompressedRange(offset, samples));

    public void Write(ReadOnlySpan<byte> data)
    {
        EnsureFree(data.Length);
        data.CopyTo(bytes.AsSpan(Length));
        Length += data.Length;
    }

    public void Write(byte value)
    {
        EnsureFree(1);
        bytes[Length++] = value;
    }

    public void WriteLong(long value)
    {
        EnsureFree(20);
        Utf8Formatter.TryFormat(value, bytes.AsSpan(Length), out var written);
        Length += written;
    }

    /// <summary>Writes a double the way Prometheus parses it: shortest round-trip, invariant, +Inf/-Inf/NaN.</summary>
    public void WriteDouble(double value)
    {
        if (double.IsFinite(value))
        {
            EnsureFree(32);
            value.TryFormat(bytes.AsSpan(Length), out var written, default, CultureInfo.InvariantCulture);
            Length += written;
        }
        else if (double.IsPositiveInfinity(value))
        {
            Write("+Inf"u8);
        }
        else if (double.IsNegativeInfinity(value))
        {
            Write("-Inf"u8);
        }
        else
        {
            Write("NaN"u8);
        }
    }

    /// <summary>
    /// Writes a double as an OpenMetrics canonical number: like <see cref="WriteDouble"/> but integral values keep a
    /// ".0", as OpenMetrics 1.0 requires for <c>le</c> label values.
    /// </summary>
    public void WriteCanonicalDouble(double value)
    {
        var start = Length;
        WriteDouble(value);
        if (!double.IsFinite(value))
        {
            return;
        }

        var text = bytes.AsSpan(start, Length - start);
        if (text.IndexOfAny(".eEn"u8) < 0)
        {
            Write(".0"u8);
        }
    }

    /// <summary>Writes seconds since the Unix epoch with millisecond precision, as exemplar timestamps are written.</summary>
    public void WriteUnixSeconds(DateTimeOffset timestamp)
    {
        var milliseconds = timestamp.ToUnixTimeMilliseconds();
        WriteLong(milliseconds / 1000);
        Write((byte)'.');
        var fraction = (int)(milliseconds % 1000);
        EnsureFree(3);
        bytes[Length++] = (byte)('0' + (fraction / 100));
        bytes[Length++] = (byte)('0' + (fraction / 10 % 10));
        bytes[Length++] = (byte)('0' + (fraction % 10));
    }

    /// <summary>Writes bytes as lowercase hexadecimal (trace and span ids).</summary>
    public void WriteLowerHex(ReadOnlySpan<byte> data)
    {
        EnsureFree(data.Length * 2);
        var hexDigits = "0123456789abcdef"u8;
        foreach (var b in data)
        {
            bytes[Length++] = hexDigits[b >> 4];
            bytes[Length++] = hexDigits[b & 0xF];
        }
    }

    /// <summary>Writes text as UTF-8 with no escaping (names that are already valid).</summary>
    public void WriteUtf8(string text)
    {
        EnsureFree(Encoding.UTF8.GetMaxByteCount(text.Length));
        Length += Encoding.UTF8.GetBytes(text, bytes.AsSpan(Length));
    }

    /// <summary>Writes a label value: backslash, double quote and line feed are escaped (both formats).</summary>
    public void WriteEscapedLabelValue(ReadOnlySpan<char> text) => WriteEscaped(text, escapeQuote: true);

    /// <summary>
    /// Writes HELP text: the text format escapes backslash and line feed only; OpenMetrics also escapes the quote.
    /// </summary>
    public void WriteEscapedHelp(ReadOnlySpan<char> text, bool escapeQuote) => WriteEscaped(text, escapeQuote);

    private void WriteEscaped(ReadOnlySpan<char> text, bool escapeQuote)
    {
        var special = escapeQuote ? CharactersToEscapeInLabelValues : CharactersToEscapeInTextHelp;
        while (true)
        {
            var next = text.IndexOfAny(special);
            var plain = next < 0 ? text : text[..next];
            if (!plain.IsEmpty)
            {
                EnsureFree(Encoding.UTF8.GetMaxByteCount(plain.Length));
                Length += Encoding.UTF8.GetBytes(plain, bytes.AsSpan(Length));
            }

            if (next < 0)
            {
                return;
            }

            Write(text[next] switch
            {
                '\\' => "\\\\"u8,
                '"' => "\\\""u8,
                _ => "\\n"u8,
            });
            text = text[(next + 1)..];
        }
    }

    /// <summary>Copies bytes already written (a series' label set) to the end, for the next line of the same series.</summary>
    public void CopyWithin(int start, int count)
    {
        EnsureFree(count);
        bytes.AsSpan(start, count).CopyTo(bytes.AsSpan(Length));
        Length += count;
    }

    private void EnsureFree(int count)
    {
        if (bytes.Length - Length >= count)
        {
            return;
        }

        var grown = ArrayPool<byte>.Shared.Rent(Math.Max(bytes.Length * 2, Length + count));
        bytes.AsSpan(0, Length).CopyTo(grown);
        ArrayPool<byte>.Shared.Return(bytes);
        bytes = grown;
    }

    public void Dispose()
    {
        var toReturn = bytes;
        bytes = [];
        Length = 0;
        if (toReturn.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(toReturn);
        }
    }
}

/// <summary>Bytes of a document that are a producer's compressed samples.</summary>
internal readonly record struct CompressedRange(int Offset, PrometheusCompressedSamples Samples);

using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Numerics;
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

    // The previous document's bytes are still in the array at every offset from Length up to this one: everything
    // writes at Length and advances over exactly what it wrote, so a new document overwrites the old one front to back.
    private int retainedEnd;

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

    /// <summary>
    /// Identifies the complete document the buffer holds (set by its writer when the document is finished; 0 when
    /// none, and after <see cref="Reset"/>).
    /// </summary>
    public long DocumentStamp { get; set; }

    /// <summary>Starts a new document, keeping the capacity (and the previous document's bytes, see <see cref="Retains"/>).</summary>
    public void Reset()
    {
        retainedEnd = Length;
        Length = 0;
        DocumentStamp = 0;
        CompressedRanges.Clear();
    }

    /// <summary>
    /// Whether the <paramref name="count"/> bytes at the write position are still those of the document the buffer held
    /// before the last <see cref="Reset"/>, at the same offsets: nothing of the new document has been written there and
    /// the array has not been replaced since.
    /// </summary>
    public bool Retains(int count) => Length + count <= retainedEnd;

    /// <summary>Moves the write position back (used to drop a partly written series).</summary>
    public void Truncate(int length)
    {
        retainedEnd = 0;
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

    /// <summary>The most bytes <see cref="FormatLong"/> or <see cref="FormatDouble"/> write.</summary>
    public const int MaxNumberLength = 32;

    /// <summary>
    /// At least <paramref name="sizeHint"/> free bytes at the write position, for a caller that writes a whole line
    /// with one bounds check and then calls <see cref="Advance"/>.
    /// </summary>
    public Span<byte> GetSpan(int sizeHint)
    {
        EnsureFree(sizeHint);
        return bytes.AsSpan(Length);
    }

    /// <summary>Counts <paramref name="count"/> bytes written into the span of <see cref="GetSpan"/>.</summary>
    public void Advance(int count) => Length += count;

    public void WriteLong(long value)
    {
        EnsureFree(MaxNumberLength);
        Length += FormatLong(value, bytes.AsSpan(Length));
    }

    /// <summary>Writes a double the way Prometheus parses it: shortest round-trip, invariant, +Inf/-Inf/NaN.</summary>
    public void WriteDouble(double value)
    {
        EnsureFree(MaxNumberLength);
        Length += FormatDouble(value, bytes.AsSpan(Length));
    }

    /// <summary>
    /// Writes <paramref name="value"/> in decimal (as <c>long.ToString</c> with the invariant culture) into a span of at
    /// least <see cref="MaxNumberLength"/> bytes and returns the number of bytes written: two digits per step from a
    /// table, with no format string to interpret.
    /// </summary>
    public static int FormatLong(long value, Span<byte> destination)
    {
        if ((ulong)value < 10)
        {
            destination[0] = (byte)('0' + value);
            return 1;
        }

        var sign = 0;
        ulong magnitude;
        if (value < 0)
        {
            destination[0] = (byte)'-';
            sign = 1;
            magnitude = (ulong)(-(value + 1)) + 1;
        }
        else
        {
            magnitude = (ulong)value;
        }

        var length = sign + DigitCount(magnitude);
        var at = length;
        var pairs = TwoDigits;
        while (magnitude >= 100)
        {
            (magnitude, var pair) = Math.DivRem(magnitude, 100);
            at -= 2;
            destination[at] = pairs[(int)pair * 2];
            destination[at + 1] = pairs[((int)pair * 2) + 1];
        }

        if (magnitude >= 10)
        {
            destination[sign] = pairs[(int)magnitude * 2];
            destination[sign + 1] = pairs[((int)magnitude * 2) + 1];
        }
        else
        {
            destination[sign] = (byte)('0' + magnitude);
        }

        return length;
    }

    /// <summary>
    /// Writes a double the way Prometheus parses it (shortest round-trip, invariant, <c>+Inf</c>/<c>-Inf</c>/<c>NaN</c>)
    /// into a span of at least <see cref="MaxNumberLength"/> bytes and returns the number of bytes written. Integral
    /// values below 10^15 in magnitude, which .NET writes as plain digits, take the integer path; the output is the
    /// same as <c>double.TryFormat</c>'s.
    /// </summary>
    public static int FormatDouble(double value, Span<byte> destination)
    {
        if (Math.Abs(value) < 1e15)
        {
            var integral = (long)value;
            if (integral == value && (integral != 0 || !double.IsNegative(value)))
            {
                return FormatLong(integral, destination);
            }

            value.TryFormat(destination, out var written, default, CultureInfo.InvariantCulture);
            return written;
        }

        if (double.IsFinite(value))
        {
            value.TryFormat(destination, out var written, default, CultureInfo.InvariantCulture);
            return written;
        }

        var text = double.IsPositiveInfinity(value) ? "+Inf"u8 : double.IsNegativeInfinity(value) ? "-Inf"u8 : "NaN"u8;
        text.CopyTo(destination);
        return text.Length;
    }

    private static int DigitCount(ulong value)
    {
        // floor(log10) from floor(log2) (1233/4096 is just above log10(2)), corrected by one comparison.
        var estimate = ((BitOperations.Log2(value) + 1) * 1233) >> 12;
        return estimate + 1 - (value < PowersOfTen[estimate] ? 1 : 0);
    }

    private static ReadOnlySpan<ulong> PowersOfTen =>
    [
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000, 10_000_000_000,
        100_000_000_000, 1_000_000_000_000, 10_000_000_000_000, 100_000_000_000_000, 1_000_000_000_000_000,
        10_000_000_000_000_000, 100_000_000_000_000_000, 1_000_000_000_000_000_000, 10_000_000_000_000_000_000,
    ];

    private static ReadOnlySpan<byte> TwoDigits =>
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"u8;

    /// <summary>
    /// Writes a double as an OpenMetrics canonical number, the form Prometheus itself writes and normalises <c>le</c> and
    /// <c>quantile</c> label values to (client_golang's OpenMetrics writer, Prometheus' scrape parser): the shortest
    /// digits that round-trip, in Go's <c>strconv.FormatFloat(f, 'g', -1, 64)</c> layout (exponent form when the decimal
    /// exponent is below -4 or at least 6, with a sign and at least two exponent digits), and ".0" appended when the
    /// result has neither a point nor an exponent. So 1 is "1.0", 1048576 is "1.048576e+06", 0.00001 is "1e-05".
    /// Prometheus keys buckets by the label's text, so another spelling would split a histogram across exporters.
    /// </summary>
    public void WriteCanonicalDouble(double value)
    {
        if (!double.IsFinite(value))
        {
            WriteDouble(value);
            return;
        }

        if (value == 0)
        {
            Write("0.0"u8);
            return;
        }

        // .NET gives the same shortest round-trip digits as Go, only laid out differently ("1048576", "1E-05"):
        // read them back as digits and a decimal point position (value = 0.d1d2... x 10^pointPosition).
        Span<byte> shortest = stackalloc byte[32];
        value.TryFormat(shortest, out var length, default, CultureInfo.InvariantCulture);
        shortest = shortest[..length];
        Span<byte> digits = stackalloc byte[24];
        var digitCount = 0;
        var pointPosition = 0;
        var seenPoint = false;
        var negative = false;
        var exponent = 0;
        for (var i = 0; i < shortest.Length; i++)
        {
            var c = shortest[i];
            if (c == '-')
            {
                negative = true;
            }
            else if (c == '.')
            {
                seenPoint = true;
            }
            else if (c is (byte)'E' or (byte)'e')
            {
                Utf8Parser.TryParse(shortest[(i + 1)..], out exponent, out _);
                break;
            }
            else if (digitCount == 0 && c == '0')
            {
                // A leading zero only moves the point ("0.001").
                if (seenPoint)
                {
                    pointPosition--;
                }
            }
            else
            {
                digits[digitCount++] = c;
                if (!seenPoint)
                {
                    pointPosition++;
                }
            }
        }

        while (digitCount > 1 && digits[digitCount - 1] == '0')
        {
            digitCount--;
        }

        digits = digits[..digitCount];
        pointPosition += exponent;
        EnsureFree(48);
        if (negative)
        {
            bytes[Length++] = (byte)'-';
        }

        var decimalExponent = pointPosition - 1;
        if (decimalExponent < -4 || decimalExponent >= 6)
        {
            bytes[Length++] = digits[0];
            if (digits.Length > 1)
            {
                bytes[Length++] = (byte)'.';
                Write(digits[1..]);
            }

            bytes[Length++] = (byte)'e';
            bytes[Length++] = decimalExponent < 0 ? (byte)'-' : (byte)'+';
            var magnitude = Math.Abs(decimalExponent);
            if (magnitude < 10)
            {
                bytes[Length++] = (byte)'0';
            }

            WriteLong(magnitude);
            return;
        }

        if (pointPosition <= 0)
        {
            Write("0."u8);
            for (var i = pointPosition; i < 0; i++)
            {
                bytes[Length++] = (byte)'0';
            }

            Write(digits);
            return;
        }

        if (digits.Length <= pointPosition)
        {
            Write(digits);
            for (var i = digits.Length; i < pointPosition; i++)
            {
                bytes[Length++] = (byte)'0';
            }

            Write(".0"u8);
            return;
        }

        Write(digits[..pointPosition]);
        bytes[Length++] = (byte)'.';
        Write(digits[pointPosition..]);
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
        retainedEnd = 0;
        ArrayPool<byte>.Shared.Return(bytes);
        bytes = grown;
    }

    public void Dispose()
    {
        var toReturn = bytes;
        bytes = [];
        Length = 0;
        retainedEnd = 0;
        DocumentStamp = 0;
        if (toReturn.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(toReturn);
        }
    }
}

/// <summary>Bytes of a document that are a producer's compressed samples.</summary>
internal readonly record struct CompressedRange(int Offset, PrometheusCompressedSamples Samples);

using System.Globalization;

namespace PerfOtel.Collector.Receiving.Mapping;

/// <summary>
/// How many spans one stored span stands for (its adjusted count), read from what the producer's sampler recorded, in
/// this order (docs/collector/otlp-ingest.md, Sampled traces):
/// <list type="number">
/// <item>the OpenTelemetry consistent-probability threshold <c>th</c> in the span's W3C <c>tracestate</c> (<c>ot=th:…</c>):
/// adjusted count = 2^56 / (2^56 - T), with T the 56-bit threshold (1 to 14 lowercase hex digits, right-padded with
/// zeros), so <c>th:0</c> is 1 and <c>th:8</c> is 2;</item>
/// <item>the older experimental <c>ot=p:N</c> (adjusted count 2^N, N in 0..62; 63 is a zero adjusted count);</item>
/// <item>a <c>SampleRate</c> attribute (1-in-N, as Honeycomb's samplers record it);</item>
/// <item>Jaeger's <c>sampler.type</c> = <c>probabilistic</c> with <c>sampler.param</c> = p: 1/p.</item>
/// </list>
/// Anything unreadable counts the span once (weight 1), as a span from an unsampled producer: a threshold with invalid
/// hex or too many digits, a threshold the span's own randomness contradicts (explicit <c>rv</c>, or the trace id's
/// low 56 bits when the trace flags say it is random, below <c>th</c>: the sampler should have rejected the span, and
/// the specification says such a threshold is to be erased), probabilities outside (0, 1].
/// </summary>
internal static class SamplingWeight
{
    private const int ThresholdDigits = 14;
    private const ulong MaxAdjustedCount = 1UL << 56;
    private const uint RandomTraceIdFlag = 0x02;

    /// <summary>The adjusted count of <paramref name="span"/>: 1 when nothing usable was recorded.</summary>
    public static double Of(SpanInput span)
    {
        ArgumentNullException.ThrowIfNull(span);
        return FromTraceState(span.TraceState, span.TraceId.Span, span.Flags)
            ?? FromSampleRate(span.Attributes)
            ?? FromJaeger(span.Attributes)
            ?? 1.0;
    }

    /// <summary>The adjusted count the <c>ot</c> entry of a W3C tracestate records, or null when it records none usable.</summary>
    internal static double? FromTraceState(string? traceState, ReadOnlySpan<byte> traceId, uint flags)
    {
        if (OtEntry(traceState) is not { } ot)
        {
            return null;
        }

        string? th = null, rv = null, p = null;
        foreach (var part in ot.Split(';'))
        {
            var colon = part.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                continue;
            }

            var (key, value) = (part[..colon], part[(colon + 1)..]);
            switch (key)
            {
                case "th": th = value; break;
                case "rv": rv = value; break;
                case "p": p = value; break;
            }
        }

        if (th is not null)
        {
            if (Threshold(th) is not { } threshold || Contradicted(threshold, rv, traceId, flags))
            {
                return null;
            }

            return MaxAdjustedCount / (double)(MaxAdjustedCount - threshold);
        }

        if (p is not null && int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var exponent) && exponent <= 63)
        {
            return exponent == 63 ? 0.0 : Math.Pow(2, exponent);
        }

        return null;
    }

    /// <summary>The 56-bit rejection threshold of a <c>th</c> value, or null when it is not 1 to 14 lowercase hex digits.</summary>
    internal static ulong? Threshold(string th)
    {
        if (th.Length is 0 or > ThresholdDigits)
        {
            return null;
        }

        ulong value = 0;
        foreach (var c in th)
        {
            var digit = c switch
            {
                >= '0' and <= '9' => c - '0',
                >= 'a' and <= 'f' => c - 'a' + 10,
                _ => -1,
            };
            if (digit < 0)
            {
                return null;
            }

            value = (value << 4) | (uint)digit;
        }

        // Trailing zeros are omitted in the encoding: the digits given are the most significant ones.
        return value << (4 * (ThresholdDigits - th.Length));
    }

    /// <summary>
    /// Whether the span's randomness lies below the threshold, which a consistent sampler would have rejected: the
    /// explicit <c>rv</c> when present, else the trace id's low 56 bits when its flags say they are random.
    /// </summary>
    private static bool Contradicted(ulong threshold, string? rv, ReadOnlySpan<byte> traceId, uint flags)
    {
        if (rv is not null)
        {
            return rv.Length != ThresholdDigits || Threshold(rv) is not { } randomness || randomness < threshold;
        }

        if ((flags & RandomTraceIdFlag) != 0 && traceId.Length == 16)
        {
            ulong randomness = 0;
            for (var i = 9; i < 16; i++)
            {
                randomness = (randomness << 8) | traceId[i];
            }

            return randomness < threshold;
        }

        return false;
    }

    private static string? OtEntry(string? traceState)
    {
        if (string.IsNullOrEmpty(traceState))
        {
            return null;
        }

        foreach (var member in traceState.Split(','))
        {
            var entry = member.Trim();
            if (entry.StartsWith("ot=", StringComparison.Ordinal))
            {
                return entry[3..];
            }
        }

        return null;
    }

    private static double? FromSampleRate(AttributeBag attributes) =>
        attributes.Double(SamplingAttributes.SampleRate) is { } rate && rate >= 1 && double.IsFinite(rate) ? rate : null;

    private static double? FromJaeger(AttributeBag attributes) =>
        string.Equals(attributes.String(SamplingAttributes.JaegerSamplerType), "probabilistic", StringComparison.Ordinal)
        && attributes.Double(SamplingAttributes.JaegerSamplerParam) is { } probability && probability > 0 && probability <= 1
            ? 1 / probability
            : null;
}

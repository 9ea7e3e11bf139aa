using Google.Protobuf;
using PerfOtel.Collector.Receiving.Mapping;
using PerfOtel.Collector.Records;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;

namespace PerfOtel.Collector.Tests.Otlp;

/// <summary>
/// The adjusted count of a sampled span, from the OpenTelemetry tracestate threshold (ot=th), the older ot=p, a
/// SampleRate attribute or Jaeger's sampler tags; everything unreadable counts once.
/// </summary>
public sealed class SamplingWeightTests
{
    private static readonly byte[] AnyTraceId = Convert.FromHexString("0102030405060708090a0b0c0d0e0f10");

    [Theory]
    [InlineData("ot=th:0", 1.0)]
    [InlineData("ot=th:8", 2.0)]
    [InlineData("ot=th:c", 4.0)]
    [InlineData("ot=th:fd70a4", 16777216.0 / (16777216 - 0xfd70a4))] // 1 in 100 to six digits
    [InlineData("vendor=x,ot=th:8;rv:ffffffffffffff,other=y", 2.0)]
    [InlineData("ot=p:3", 8.0)]
    [InlineData("ot=p:63", 0.0)]
    public void Threshold_GivesTheAdjustedCount(string traceState, double expected) =>
        Assert.Equal(expected, SamplingWeight.FromTraceState(traceState, AnyTraceId, flags: 0)!.Value, 12);

    [Fact]
    public void TenPercentThreshold_IsTenToFourDigits_AndCountsTen()
    {
        // 0.1 with the SDKs' default four digits of precision: rejection threshold 0xe666 followed by zeros.
        var weight = SamplingWeight.FromTraceState("ot=th:e666", AnyTraceId, 0)!.Value;
        Assert.Equal(65536.0 / (65536 - 0xe666), weight, 12);
        Assert.Equal(10, SampleWeights.Count(weight));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("vendor=x")]
    [InlineData("ot=rv:ffffffffffffff")]
    [InlineData("ot=th:")]
    [InlineData("ot=th:xyz")]
    [InlineData("ot=th:C")]
    [InlineData("ot=th:123456789abcdef")]
    [InlineData("ot=th:8;rv:00000000000000")]
    [InlineData("ot=th:8;rv:zz")]
    [InlineData("ot=p:64")]
    [InlineData("ot=p:-1")]
    public void Unusable_RecordsNoCount(string? traceState) =>
        Assert.Null(SamplingWeight.FromTraceState(traceState, AnyTraceId, 0));

    [Fact]
    public void TraceIdRandomness_BelowTheThreshold_IsAContradiction_OnlyWhenTheTraceIdIsMarkedRandom()
    {
        // Low 56 bits of this trace id: 0x0a0b0c0d0e0f10, below th:8 (0x80000000000000): a consistent sampler rejects it.
        Assert.Null(SamplingWeight.FromTraceState("ot=th:8", AnyTraceId, flags: 0x02));
        Assert.Equal(2.0, SamplingWeight.FromTraceState("ot=th:8", AnyTraceId, flags: 0));
        var high = Convert.FromHexString("010203040506070809f90b0c0d0e0f10");
        Assert.Equal(2.0, SamplingWeight.FromTraceState("ot=th:8", high, flags: 0x02));
    }

    [Fact]
    public void Attributes_AreReadWhenTheTraceStateHasNoThreshold()
    {
        Assert.Equal(5.0, Weight(null, (SamplingAttributes.SampleRate, 5L)));
        Assert.Equal(4.0, Weight(null, (SamplingAttributes.JaegerSamplerType, "probabilistic"), (SamplingAttributes.JaegerSamplerParam, 0.25)));
        Assert.Equal(1.0, Weight(null, (SamplingAttributes.JaegerSamplerType, "const"), (SamplingAttributes.JaegerSamplerParam, 1.0)));
        Assert.Equal(1.0, Weight(null, (SamplingAttributes.SampleRate, 0L)));
        Assert.Equal(1.0, Weight(null, (SamplingAttributes.JaegerSamplerType, "probabilistic"), (SamplingAttributes.JaegerSamplerParam, 1.5)));
        Assert.Equal(2.0, Weight("ot=th:8", (SamplingAttributes.SampleRate, 5L)));
        Assert.Equal(1.0, Weight(null));
    }

    [Theory]
    [InlineData(1.0, 1)]
    [InlineData(9.99939, 10)]
    [InlineData(3.333, 3)]
    [InlineData(2.5, 3)]
    [InlineData(0.0, 0)]
    [InlineData(double.NaN, 1)]
    [InlineData(-2.0, 1)]
    [InlineData(72057594037927936.0, 1 << 20)]
    public void Count_IsTheRoundedAdjustedCount(double weight, int expected) =>
        Assert.Equal(expected, SampleWeights.Count(weight));

    private static double Weight(string? traceState, params (string Key, object Value)[] attributes)
    {
        var span = Span("chat m", ByteString.CopyFrom(AnyTraceId), SpanId(1), attributes: attributes);
        span.TraceState = traceState ?? string.Empty;
        return SamplingWeight.Of(SpanInput.From(span, AttributeBag.Empty));
    }
}

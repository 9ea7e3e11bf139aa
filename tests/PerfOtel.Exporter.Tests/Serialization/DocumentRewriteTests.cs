using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using PerfOtel.Exporter.Implementation.Serialization;
using Xunit;

namespace PerfOtel.Exporter.Tests.Serialization;

/// <summary>
/// A scrape written into the buffer of an earlier one leaves a steady series' <c>name{labels} </c> where it already is
/// and writes only its value. These tests hold every such document to the one a fresh serializer writes into a fresh
/// buffer from the same collection, byte for byte, while values change length (moving every later line), series
/// appear, the formats alternate, buffers are handed to the other format and grow mid-document, and the series limit
/// cuts the document; and they hold the exporter's number formatting to .NET's.
/// </summary>
public sealed class DocumentRewriteTests
{
    [Theory]
    [InlineData(int.MaxValue, 1)]
    [InlineData(int.MaxValue, 2)]
    [InlineData(40, 3)]
    public void EveryDocumentEqualsAFreshRenderOfTheSameCollection(int maxSeries, int seed)
    {
        var random = new Random(seed);
        using var meter = new Meter("PerfOtel.Tests.Rewrite." + Guid.NewGuid().ToString("N"), "1.0.0");
        var capture = new CapturingExporter();
        using var reader = new BaseExportingMetricReader(capture) { TemporalityPreference = MetricReaderTemporalityPreference.Cumulative };
        using var provider = Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty())
            .AddMeter(meter.Name)
            .AddReader(reader)
            .Build();
        var requests = meter.CreateCounter<long>("requests", null, "Requests");
        var bytes = meter.CreateCounter<double>("transferred", "By");
        var inFlight = meter.CreateUpDownCounter<long>("in_flight");
        var gaugeValues = new double[8];
        meter.CreateObservableGauge("temperature", () => gaugeValues.Select((v, i) =>
            new Measurement<double>(v, new KeyValuePair<string, object?>("room", "r" + i))), "Cel");
        var latency = meter.CreateHistogram<double>("latency", "s");

        var serializer = new ExpositionSerializer(addTotalSuffix: true, emitScopeLabels: true, maxSeries);
        // Small buffers grow while a document is written; a third one is handed to either format now and then, as the
        // coordinator does when a format's own buffer is still being read.
        var buffers = new[] { new ExpositionBuffer(64), new ExpositionBuffer(64), new ExpositionBuffer(64) };
        var routes = 5;
        try
        {
            for (var round = 0; round < 80; round++)
            {
                if (random.Next(4) == 0)
                {
                    routes += random.Next(1, 4);
                }

                for (var i = 0; i < routes; i++)
                {
                    if (random.Next(3) == 0)
                    {
                        // 1, 9, 90, 900 ...: most increments keep the value's length, some make it one digit longer.
                        requests.Add(random.Next(2) == 0 ? 1 : 9 * (long)Math.Pow(10, random.Next(4)), Route(i));
                    }

                    if (random.Next(4) == 0)
                    {
                        bytes.Add(random.Next(3) switch { 0 => 0.5, 1 => 1024, _ => random.NextDouble() }, Route(i));
                        inFlight.Add(random.Next(-3, 4), Route(i));
                    }

                    if (random.Next(5) == 0)
                    {
                        latency.Record(random.NextDouble() * 10, Route(i));
                    }
                }

                for (var i = 0; i < gaugeValues.Length; i++)
                {
                    if (random.Next(3) == 0)
                    {
                        gaugeValues[i] = random.Next(4) switch { 0 => 21, 1 => 21.5, 2 => -3.25, _ => Math.Round(random.NextDouble() * 1000, 3) };
                    }
                }

                reader.Collect();
                var formats = random.Next(3) switch
                {
                    0 => new[] { ExpositionFormat.PrometheusText },
                    1 => [ExpositionFormat.OpenMetrics],
                    _ => [ExpositionFormat.PrometheusText, ExpositionFormat.OpenMetrics],
                };
                foreach (var format in formats)
                {
                    var buffer = random.Next(6) == 0 ? buffers[2] : buffers[(int)format];
                    serializer.Write(buffer, capture.Batch, format, null);
                    var expected = FreshRender(capture.Batch, format, maxSeries);
                    Assert.True(expected == Encoding.UTF8.GetString(buffer.WrittenSpan),
                        $"round {round}, {format}: the rewritten document differs from a fresh render");
                }
            }
        }
        finally
        {
            foreach (var buffer in buffers)
            {
                buffer.Dispose();
            }
        }

        static KeyValuePair<string, object?> Route(int i) => new("route", "/api/v1/items/" + i);
    }

    [Fact]
    public void NumbersAreWrittenAsDotNetWritesThem()
    {
        var random = new Random(7);
        var longs = new List<long> { 0, 1, -1, 9, 10, -10, 99, 100, 999, 1000, long.MaxValue, long.MinValue, long.MinValue + 1 };
        for (var power = 1L; power > 0 && power <= long.MaxValue / 10; power *= 10)
        {
            longs.AddRange([power - 1, power, power + 1, -power, -(power - 1)]);
        }

        for (var i = 0; i < 20_000; i++)
        {
            longs.Add(random.NextInt64(long.MinValue, long.MaxValue) >> random.Next(64));
        }

        Span<byte> destination = stackalloc byte[ExpositionBuffer.MaxNumberLength];
        foreach (var value in longs)
        {
            var written = ExpositionBuffer.FormatLong(value, destination);
            Assert.Equal(value.ToString(CultureInfo.InvariantCulture), Encoding.UTF8.GetString(destination[..written]));
        }

        var doubles = new List<double>
        {
            0, -0.0, 1, -1, 0.5, 1e14, 1e15 - 1, 1e15, -1e15, 1e15 + 2, 1e16, 123456789012345, 999999999999999, 1e21, 1e-5,
            5e-324, double.Epsilon, double.MaxValue, double.MinValue, 4503599627370496, 9007199254740993,
            double.NaN, double.PositiveInfinity, double.NegativeInfinity, 0.1 + 0.2, 262144, 1048576,
        };
        for (var i = 0; i < 20_000; i++)
        {
            doubles.Add(random.Next(4) switch
            {
                0 => Math.Round((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(18))),
                1 => (random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-10, 25)),
                2 => Math.Round(random.NextDouble() * 1000, random.Next(4)),
                _ => BitConverter.Int64BitsToDouble(random.NextInt64()),
            });
        }

        foreach (var value in doubles)
        {
            var written = ExpositionBuffer.FormatDouble(value, destination);
            var expected = double.IsNaN(value) ? "NaN"
                : double.IsPositiveInfinity(value) ? "+Inf"
                : double.IsNegativeInfinity(value) ? "-Inf"
                : value.ToString(CultureInfo.InvariantCulture);
            Assert.Equal(expected, Encoding.UTF8.GetString(destination[..written]));
        }
    }

    private static string FreshRender(Batch<Metric> batch, ExpositionFormat format, int maxSeries)
    {
        using var buffer = new ExpositionBuffer(64);
        new ExpositionSerializer(addTotalSuffix: true, emitScopeLabels: true, maxSeries).Write(buffer, batch, format, null);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private sealed class CapturingExporter : BaseExporter<Metric>
    {
        private Metric[] captured = [];

        public Batch<Metric> Batch => new(captured, captured.Length);

        public override ExportResult Export(in Batch<Metric> batch)
        {
            var list = new List<Metric>();
            foreach (var metric in batch)
            {
                list.Add(metric);
            }

            captured = [.. list];
            return ExportResult.Success;
        }
    }
}

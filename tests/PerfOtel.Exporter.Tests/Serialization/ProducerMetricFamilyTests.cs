using System.Diagnostics.Metrics;
using PerfOtel.Exporter.Implementation.Serialization;
using PerfOtel.Exporter.Tests.TestSupport;

namespace PerfOtel.Exporter.Tests.Serialization;

/// <summary>
/// Counter and histogram families written by a producer (as the collector re-exposes OTLP-pushed metrics) come out
/// exactly as the exporter writes the same instruments of a MeterProvider, in both formats.
/// </summary>
public class ProducerMetricFamilyTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ProducerCounterAndHistogram_AreWrittenAsTheSdkInstruments(bool openMetrics)
    {
        var format = openMetrics ? ExpositionFormat.OpenMetrics : ExpositionFormat.PrometheusText;
        using var sdk = new ExporterHarness();
        var tokens = sdk.Meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}", "Number of input and output tokens used.",
            tags: null, advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 4, 16] });
        var invocations = sdk.Meter.CreateCounter<long>("perfotel.agent.invocations", "{invocation}", "Agent invocations.");
        var duration = sdk.Meter.CreateHistogram<double>("gen_ai.client.operation.duration", "s", "GenAI operation duration.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.5, 1] });
        foreach (var value in new long[] { 3, 10, 10, 20 })
        {
            tokens.Record(value, new KeyValuePair<string, object?>("gen_ai.token.type", "input"));
        }

        invocations.Add(7, new KeyValuePair<string, object?>("perfotel.outcome", "success"));
        duration.Record(0.75);

        var scope = new KeyValuePair<string, string>[] { new("otel_scope_name", "PerfOtel.Tests"), new("otel_scope_version", "1.2.3") };
        var created = DateTimeOffset.UtcNow;
        using var producer = new ExporterHarness(options => options.Producers.Add(new ProducerTests.FixedProducer(writer =>
        {
            writer.BeginFamily(new PrometheusMetricFamily("gen_ai.client.operation.duration", "s", "GenAI operation duration.", PrometheusMetricKind.Histogram));
            writer.WriteHistogram(PrometheusLabels.Encode(scope), [0.5, 1], [0, 1, 0], 0.75, 1, created);
            writer.BeginFamily(new PrometheusMetricFamily("gen_ai.client.token.usage", "{token}", "Number of input and output tokens used.", PrometheusMetricKind.Histogram));
            writer.WriteHistogram(PrometheusLabels.Encode([.. scope, new("gen_ai_token_type", "input")]), [1, 4, 16], [0, 1, 2, 1], 43, 4, created);
            writer.BeginFamily(new PrometheusMetricFamily("perfotel.agent.invocations", "{invocation}", "Agent invocations.", PrometheusMetricKind.Counter));
            writer.WriteCounter(PrometheusLabels.Encode([.. scope, new(PrometheusLabels.LabelName("perfotel.outcome"), "success")]), 7, created);
        })));

        Assert.Equal(sdk.ScrapeStable(format), producer.ScrapeStable(format));
    }

    [Fact]
    public void AFamilyWhoseNameTheSdkAlreadyUses_IsLeftOut_AndASeriesBeyondMaxSeriesIsCounted()
    {
        using var harness = new ExporterHarness(options =>
        {
            options.MaxSeries = 2;
            options.Producers.Add(new ProducerTests.FixedProducer(writer =>
            {
                writer.BeginFamily(new PrometheusMetricFamily("perfotel.taken", null, null, PrometheusMetricKind.Counter));
                writer.WriteCounter([], 1, null);
                writer.BeginFamily(new PrometheusMetricFamily("perfotel.gauge", null, null, PrometheusMetricKind.Gauge));
                writer.WriteGauge(PrometheusLabels.Encode(new KeyValuePair<string, string>("n", "1")), 1);
                writer.WriteGauge(PrometheusLabels.Encode(new KeyValuePair<string, string>("n", "2")), 2);
            }));
        });
        harness.Meter.CreateCounter<long>("perfotel.taken").Add(5);

        var text = harness.Scrape(ExpositionFormat.PrometheusText);
        Assert.Contains("perfotel_taken_total{otel_scope_name=", text, StringComparison.Ordinal);
        Assert.DoesNotContain("perfotel_taken_total 1", text, StringComparison.Ordinal);
        Assert.Contains("perfotel_gauge{n=\"1\"} 1\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("n=\"2\"", text, StringComparison.Ordinal);
        Assert.Equal(1, harness.Exporter.LastDroppedSeries);
    }

    [Fact]
    public void WritingASeriesOfAnotherKind_OrWithMismatchedBuckets_Throws()
    {
        using var harness = new ExporterHarness(options => options.Producers.Add(new ProducerTests.FixedProducer(writer =>
        {
            writer.BeginFamily(new PrometheusMetricFamily("perfotel.x", null, null, PrometheusMetricKind.Counter));
            Assert.Throws<InvalidOperationException>(() => writer.WriteGauge([], 1));
            writer.BeginFamily(new PrometheusMetricFamily("perfotel.h", null, null, PrometheusMetricKind.Histogram));
            Assert.Throws<ArgumentException>(() => writer.WriteHistogram([], [1, 2], [1, 2], null, 3, null));
        })));

        Assert.DoesNotContain("perfotel_x", harness.Scrape(ExpositionFormat.PrometheusText), StringComparison.Ordinal);
    }
}

using System.Buffers;
using System.Diagnostics.Tracing;
using PerfOtel.Exporter.Implementation.Serialization;
using PerfOtel.Exporter.Tests.TestSupport;

namespace PerfOtel.Exporter.Tests.Serialization;

/// <summary>Gauge families written by an <see cref="IPrometheusMetricProducer"/> beside the SDK's metrics.</summary>
public class ProducerTests
{
    private static readonly PrometheusGaugeFamily Health = new("perfotel.agent.health_score", "{score}", "Health \"score\" 0-100\nper agent");
    private static readonly PrometheusGaugeFamily Latency = new("perfotel.agent.latency.p95", "s", "p95 latency");
    // A ratio says so in its name: the unit "1" adds no suffix (as in OpenTelemetry's exporter).
    private static readonly PrometheusGaugeFamily Success = new("perfotel.agent.success_ratio", "1", null);

    [Fact]
    public void FamiliesAreNamedLikeSdkGauges()
    {
        Assert.Equal("perfotel_agent_health_score", Health.Name);
        Assert.Equal("perfotel_agent_latency_p95_seconds", Latency.Name);
        Assert.Equal("perfotel_agent_success_ratio", Success.Name);
    }

    [Fact]
    public void ProducerFamiliesFollowTheSdkMetricsInBothFormats()
    {
        using var harness = new ExporterHarness(options => options.Producers.Add(new FixedProducer(writer =>
        {
            writer.BeginFamily(Health);
            writer.WriteSamples(Lines(Health, ("alpha", 97.5), ("beta", 40)));
            writer.BeginFamily(Latency);
            writer.WriteSamples(Lines(Latency, ("alpha", 1.25)));
            writer.WriteSamples(Lines(Latency, ("beta", double.PositiveInfinity)));
        })));
        harness.Meter.CreateGauge<long>("perfotel.sdk.gauge", null, "From the SDK").Record(3);

        Assert.Equal(
            "# HELP perfotel_sdk_gauge From the SDK\n" +
            "# TYPE perfotel_sdk_gauge gauge\n" +
            $"perfotel_sdk_gauge{{otel_scope_name=\"{harness.MeterName}\",otel_scope_version=\"1.2.3\"}} 3\n" +
            "# HELP perfotel_agent_health_score Health \"score\" 0-100\\nper agent\n" +
            "# TYPE perfotel_agent_health_score gauge\n" +
            "perfotel_agent_health_score{agent=\"alpha\"} 97.5\n" +
            "perfotel_agent_health_score{agent=\"beta\"} 40\n" +
            "# HELP perfotel_agent_latency_p95_seconds p95 latency\n" +
            "# TYPE perfotel_agent_latency_p95_seconds gauge\n" +
            "perfotel_agent_latency_p95_seconds{agent=\"alpha\"} 1.25\n" +
            "perfotel_agent_latency_p95_seconds{agent=\"beta\"} +Inf\n",
            harness.Scrape(ExpositionFormat.PrometheusText));

        Assert.Equal(
            "# TYPE perfotel_sdk_gauge gauge\n" +
            "# HELP perfotel_sdk_gauge From the SDK\n" +
            $"perfotel_sdk_gauge{{otel_scope_name=\"{harness.MeterName}\",otel_scope_version=\"1.2.3\"}} 3\n" +
            "# TYPE perfotel_agent_health_score gauge\n" +
            "# HELP perfotel_agent_health_score Health \\\"score\\\" 0-100\\nper agent\n" +
            "perfotel_agent_health_score{agent=\"alpha\"} 97.5\n" +
            "perfotel_agent_health_score{agent=\"beta\"} 40\n" +
            "# TYPE perfotel_agent_latency_p95_seconds gauge\n" +
            "# UNIT perfotel_agent_latency_p95_seconds seconds\n" +
            "# HELP perfotel_agent_latency_p95_seconds p95 latency\n" +
            "perfotel_agent_latency_p95_seconds{agent=\"alpha\"} 1.25\n" +
            "perfotel_agent_latency_p95_seconds{agent=\"beta\"} +Inf\n" +
            "# EOF\n",
            harness.Scrape(ExpositionFormat.OpenMetrics));
    }

    [Fact]
    public void LabelsAreSanitisedAndEscapedAndSetsConcatenate()
    {
        var buffer = new ArrayBufferWriter<byte>();
        var labels = PrometheusLabels.Encode(
            KeyValuePair.Create("tenant.name", "a\"b"), KeyValuePair.Create("agent", "back\\slash\nnewline"));
        Success.WriteSample(buffer, labels, PrometheusLabels.Encode(KeyValuePair.Create("bin", "3")), 0.5);
        Success.WriteSample(buffer, [], double.NaN);
        Success.WriteSample(buffer, [], PrometheusLabels.Encode(KeyValuePair.Create("only", "more")), double.NegativeInfinity);

        Assert.Equal(
            "perfotel_agent_success_ratio{tenant_name=\"a\\\"b\",agent=\"back\\\\slash\\nnewline\",bin=\"3\"} 0.5\n" +
            "perfotel_agent_success_ratio NaN\n" +
            "perfotel_agent_success_ratio{only=\"more\"} -Inf\n",
            System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void AFamilyWithoutSamplesIsNotWritten()
    {
        using var harness = new ExporterHarness(options => options.Producers.Add(new FixedProducer(writer =>
        {
            writer.BeginFamily(Health);
            writer.WriteSamples([]);
            writer.BeginFamily(Success);
            writer.WriteSamples(Lines(Success, ("alpha", 1)));
        })));

        var text = harness.Scrape(ExpositionFormat.PrometheusText);
        Assert.DoesNotContain("perfotel_agent_health_score", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE perfotel_agent_success_ratio gauge\nperfotel_agent_success_ratio{agent=\"alpha\"} 1\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AFamilyNameAlreadyTakenIsDroppedAndReported()
    {
        using var events = new ExporterEvents();
        using var harness = new ExporterHarness(options =>
        {
            options.Producers.Add(new FixedProducer(writer =>
            {
                writer.BeginFamily(Health);
                writer.WriteSamples(Lines(Health, ("first", 1)));
            }));
            options.Producers.Add(new FixedProducer(writer =>
            {
                writer.BeginFamily(Health);
                writer.WriteSamples(Lines(Health, ("second", 2)));
                writer.BeginFamily(Success);
                writer.WriteSamples(Lines(Success, ("second", 0.5)));
            }));
        });
        // An SDK counter's family (named without _total in OpenMetrics) takes the name too.
        harness.Meter.CreateCounter<long>("perfotel.agent.success_ratio").Add(1);
        var latencyProducer = new FixedProducer(writer =>
        {
            writer.BeginFamily(Latency);
            writer.WriteSamples(Lines(Latency, ("producer", 1)));
        });

        var text = harness.Scrape(ExpositionFormat.PrometheusText);
        Assert.Contains("perfotel_agent_health_score{agent=\"first\"} 1\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("second\"} 2", text, StringComparison.Ordinal);
        Assert.Single(text.Split('\n'), l => l == "# TYPE perfotel_agent_health_score gauge");
        Assert.DoesNotContain("perfotel_agent_success_ratio{agent=\"second\"}", text, StringComparison.Ordinal);
        Assert.Contains("perfotel_agent_success_ratio_total{", text, StringComparison.Ordinal);
        Assert.Contains(events.Messages, m => m.Contains("perfotel_agent_health_score", StringComparison.Ordinal));

        using var conflicting = new ExporterHarness(options => options.Producers.Add(latencyProducer));
        conflicting.Meter.CreateGauge<double>("perfotel.agent.latency.p95", "s").Record(9);
        var withSdkGauge = conflicting.Scrape(ExpositionFormat.OpenMetrics);
        Assert.DoesNotContain("producer", withSdkGauge, StringComparison.Ordinal);
        Assert.Single(withSdkGauge.Split('\n'), l => l == "# TYPE perfotel_agent_latency_p95_seconds gauge");
    }

    [Fact]
    public void AFailingProducerLosesOnlyItsOwnOutput()
    {
        using var events = new ExporterEvents();
        using var harness = new ExporterHarness(options =>
        {
            options.Producers.Add(new FixedProducer(writer =>
            {
                writer.BeginFamily(Health);
                writer.WriteSamples(Lines(Health, ("half-written", 1)));
                throw new InvalidOperationException("producer broke");
            }));
            options.Producers.Add(new FixedProducer(writer =>
            {
                writer.BeginFamily(Success);
                writer.WriteSamples(Lines(Success, ("fine", 1)));
            }));
        });
        harness.Meter.CreateGauge<long>("perfotel.sdk.gauge").Record(3);

        var text = harness.Scrape(ExpositionFormat.OpenMetrics);
        Assert.DoesNotContain("half-written", text, StringComparison.Ordinal);
        Assert.DoesNotContain("perfotel_agent_health_score", text, StringComparison.Ordinal);
        Assert.Contains("perfotel_agent_success_ratio{agent=\"fine\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("perfotel_sdk_gauge", text, StringComparison.Ordinal);
        Assert.EndsWith("# EOF\n", text, StringComparison.Ordinal);
        Assert.Contains(events.Messages, m => m.Contains("producer broke", StringComparison.Ordinal));
    }

    [Fact]
    public void MaxSeriesCountsProducerSamplesAndCutsAtALineBoundary()
    {
        using var harness = new ExporterHarness(options =>
        {
            options.MaxSeries = 4;
            options.Producers.Add(new FixedProducer(writer =>
            {
                writer.BeginFamily(Health);
                writer.WriteSamples(Lines(Health, ("a", 1), ("b", 2)));
                writer.BeginFamily(Success);
                writer.WriteSamples(Lines(Success, ("c", 0.1), ("d", 0.2), ("e", 0.3)));
                writer.BeginFamily(Latency);
                writer.WriteSamples(Lines(Latency, ("f", 1)));
            }));
        });
        harness.Meter.CreateGauge<long>("perfotel.sdk.gauge").Record(3);

        var samples = harness.Scrape(ExpositionFormat.PrometheusText).Split('\n').Where(l => l.Length > 0 && l[0] != '#').ToList();
        Assert.Equal(
            ["perfotel_sdk_gauge", "perfotel_agent_health_score{agent=\"a\"} 1", "perfotel_agent_health_score{agent=\"b\"} 2", "perfotel_agent_success_ratio{agent=\"c\"} 0.1"],
            samples.Select(s => s.StartsWith("perfotel_sdk_gauge", StringComparison.Ordinal) ? "perfotel_sdk_gauge" : s));
        Assert.Equal(3, harness.Exporter.LastDroppedSeries);
    }

    [Fact]
    public void SamplesBeforeBeginFamilyAreRejected()
    {
        using var harness = new ExporterHarness(options => options.Producers.Add(new FixedProducer(writer =>
            writer.WriteSamples(Lines(Health, ("x", 1))))));
        Assert.DoesNotContain("perfotel_agent_health_score", harness.Scrape(ExpositionFormat.PrometheusText), StringComparison.Ordinal);
    }

    internal static byte[] Lines(PrometheusGaugeFamily family, params (string Agent, double Value)[] samples)
    {
        var buffer = new ArrayBufferWriter<byte>();
        foreach (var (agent, value) in samples)
        {
            family.WriteSample(buffer, PrometheusLabels.Encode(KeyValuePair.Create("agent", agent)), value);
        }

        return buffer.WrittenSpan.ToArray();
    }

    internal sealed class FixedProducer(Action<PrometheusProducerWriter> produce) : IPrometheusMetricProducer
    {
        public void Produce(PrometheusProducerWriter writer) => produce(writer);
    }

    private sealed class ExporterEvents : EventListener
    {
        private readonly List<string> messages = [];

        public IReadOnlyList<string> Messages
        {
            get
            {
                lock (messages)
                {
                    return [.. messages];
                }
            }
        }

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "PerfOtel-Exporter")
            {
                EnableEvents(eventSource, EventLevel.Verbose);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventSource.Name != "PerfOtel-Exporter")
            {
                return;
            }

            lock (messages)
            {
                messages.Add(string.Join(" | ", eventData.Payload?.Select(p => p?.ToString()) ?? []));
            }
        }
    }
}

using System.Diagnostics;
using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using PerfOtel.Exporter.Implementation.Serialization;
using PerfOtel.Exporter.Tests.TestSupport;

using PerfOtel.Testing;

namespace PerfOtel.Exporter.Tests.EndToEnd;

/// <summary>
/// Real exporter output piped through <c>promtool check metrics</c>. promtool 2.x parses only the 0.0.4 text format
/// (it reads OpenMetrics' <c>info</c> TYPE as an error and counter families without <c>_total</c> as other metrics),
/// so the text output must lint clean and the OpenMetrics output is checked by Prometheus's own OpenMetrics parser in
/// <see cref="PrometheusEndToEndTests"/> (every line ingested).
/// </summary>
public class PromtoolCheckTests
{
    [Fact]
    public async Task TextOutputOfEveryInstrumentKindLintsClean()
    {
        using var harness = new ExporterHarness(
            configureProvider: builder => builder
                .AddView("perfotel.exponential.duration", new Base2ExponentialBucketHistogramConfiguration { MaxSize = 20 }),
            resource: ResourceBuilder.CreateEmpty().AddService("promtool-check"));
        RecordEveryKind(harness.Meter);

        var text = harness.Scrape(ExpositionFormat.PrometheusText);
        var (exitCode, output) = await Promtool.CheckMetricsAsync(text);

        Assert.True(exitCode == 0 && output.Length == 0, $"promtool exit {exitCode}:\n{output}\n--- input ---\n{text}");
    }

    [Fact]
    public async Task ProducerOutputWithHostileLabelValuesLintsClean()
    {
        var family = new PrometheusGaugeFamily("perfotel.agent.health_score", "{score}", "Health \"score\"\nper agent");
        using var harness = new ExporterHarness(options => options.Producers.Add(new Serialization.ProducerTests.FixedProducer(writer =>
        {
            writer.BeginFamily(family);
            writer.WriteSamples(Serialization.ProducerTests.Lines(family, ("alpha \"quoted\" \\ back\nslash", 1), ("{}=,", double.NaN)));
        })));
        harness.Meter.CreateGauge<double>("perfotel.accuracy", "1", "Accuracy").Record(0.9);

        var text = harness.Scrape(ExpositionFormat.PrometheusText);
        var (exitCode, output) = await Promtool.CheckMetricsAsync(text);

        Assert.True(exitCode == 0 && output.Length == 0, $"promtool exit {exitCode}:\n{output}\n--- input ---\n{text}");
        Assert.Contains("perfotel_agent_health_score{agent=", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PromtoolReportsProblemsInBrokenInput()
    {
        // Guards the check above: promtool really reads the input and fails on a malformed document.
        var (exitCode, output) = await Promtool.CheckMetricsAsync("# TYPE x counter\nx{a=\"unterminated} 1\n");

        Assert.NotEqual(0, exitCode);
        Assert.NotEmpty(output);
    }

    private static void RecordEveryKind(Meter meter)
    {
        KeyValuePair<string, object?> agent = new("gen_ai.agent.name", "alpha \"quoted\" \\ back\nslash");
        meter.CreateCounter<long>("perfotel.invocations", null, "Invocations").Add(3, agent);
        meter.CreateCounter<double>("perfotel.cost", "USD", "Spend in \"USD\"\nper agent").Add(0.5, agent);
        meter.CreateUpDownCounter<long>("perfotel.active", "{agent}", "Active agents").Add(2, agent);
        meter.CreateGauge<double>("perfotel.accuracy", "1", "Accuracy").Record(0.9, agent);
        meter.CreateObservableGauge("perfotel.health", () => new Measurement<double>(double.PositiveInfinity, agent), null, "Health");
        meter.CreateObservableCounter("process.cpu.time", () => new Measurement<double>(1.5), "s", "CPU time");
        meter.CreateHistogram<double>("gen_ai.client.operation.duration", "s", "Operation duration").Record(0.7, agent);
        meter.CreateHistogram<long>("perfotel.request.size", "By", "Request size").Record(512, agent);
        var exponential = meter.CreateHistogram<double>("perfotel.exponential.duration", "s", "Exponential duration");
        foreach (var value in new[] { 0.0, 0.001, 0.25, 3.0, 1e6 })
        {
            exponential.Record(value, agent);
        }
    }
}

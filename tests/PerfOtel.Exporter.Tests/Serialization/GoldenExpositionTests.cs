using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using PerfOtel.Exporter.Implementation.Serialization;
using PerfOtel.Exporter.Tests.TestSupport;
using PerfOtel.Testing;

namespace PerfOtel.Exporter.Tests.Serialization;

/// <summary>Whole expected outputs, one golden file per instrument kind and format.</summary>
public partial class GoldenExpositionTests
{
    private static readonly KeyValuePair<string, object?> AgentAlpha = new("gen_ai.agent.name", "alpha");
    private static readonly KeyValuePair<string, object?> AgentBeta = new("gen_ai.agent.name", "beta");
    private static readonly KeyValuePair<string, object?> TokenInput = new("gen_ai.token.type", "input");

    public static TheoryData<string, string> Kinds()
    {
        var data = new TheoryData<string, string>();
        foreach (var kind in new[]
                 {
                     "LongCounter", "DoubleCounter", "LongUpDownCounter", "DoubleUpDownCounter", "LongGauge",
                     "DoubleGauge", "ObservableCounter", "ObservableUpDownCounter", "ObservableGauge", "Histogram",
                     "LongHistogram", "ExponentialHistogram", "NoAttributes",
                 })
        {
            data.Add(kind, nameof(ExpositionFormat.PrometheusText));
            data.Add(kind, nameof(ExpositionFormat.OpenMetrics));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void EveryInstrumentKindMatchesItsGoldenFile(string kind, string formatName)
    {
        var format = Enum.Parse<ExpositionFormat>(formatName);
        using var harness = new ExporterHarness(configureProvider: builder =>
        {
            if (kind == "ExponentialHistogram")
            {
                builder.AddView("gen_ai.client.operation.duration", new Base2ExponentialBucketHistogramConfiguration { MaxSize = 20 });
            }
        });
        var meter = harness.Meter;
        switch (kind)
        {
            case "LongCounter":
                var tokens = meter.CreateCounter<long>("gen_ai.client.token.usage.count", "{token}", "Tokens used");
                tokens.Add(120, AgentAlpha, TokenInput);
                tokens.Add(30, AgentAlpha, TokenInput);
                tokens.Add(7, AgentBeta, TokenInput);
                break;
            case "DoubleCounter":
                meter.CreateCounter<double>("perfotel.cost", "USD", "Spend").Add(0.125, AgentAlpha);
                break;
            case "LongUpDownCounter":
                var active = meter.CreateUpDownCounter<long>("perfotel.agent.active", "{agent}", "Agents running");
                active.Add(3, AgentAlpha);
                active.Add(-1, AgentAlpha);
                break;
            case "DoubleUpDownCounter":
                meter.CreateUpDownCounter<double>("perfotel.queue.depth", "By", "Queued bytes").Add(-2.5, AgentAlpha);
                break;
            case "LongGauge":
                meter.CreateGauge<long>("perfotel.agent.pending", "{task}", "Pending tasks").Record(42, AgentAlpha);
                break;
            case "DoubleGauge":
                meter.CreateGauge<double>("perfotel.accuracy", "1", "Accuracy").Record(0.875, AgentAlpha);
                break;
            case "ObservableCounter":
                meter.CreateObservableCounter("process.cpu.time", () => new Measurement<double>(12.5, AgentAlpha), "s", "CPU time");
                break;
            case "ObservableUpDownCounter":
                meter.CreateObservableUpDownCounter("process.memory.usage", () => new Measurement<long>(1048576), "By", "Memory");
                break;
            case "ObservableGauge":
                meter.CreateObservableGauge("perfotel.health.score", () => new[]
                {
                    new Measurement<double>(97.5, AgentAlpha),
                    new Measurement<double>(double.NaN, AgentBeta),
                }, null, "Health score 0-100");
                break;
            case "Histogram":
                var duration = meter.CreateHistogram<double>("gen_ai.client.operation.duration", "s", "Operation duration",
                    advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.5, 1, 2.5] });
                foreach (var value in new[] { 0.05, 0.3, 0.4, 0.9, 3.0 })
                {
                    duration.Record(value, AgentAlpha);
                }

                break;
            case "LongHistogram":
                var size = meter.CreateHistogram<long>("http.client.request.body.size", "By", "Request size",
                    advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [100, 1000] });
                size.Record(50);
                size.Record(5000);
                break;
            case "ExponentialHistogram":
                var exponential = meter.CreateHistogram<double>("gen_ai.client.operation.duration", "s", "Operation duration");
                foreach (var value in new[] { 0.0, 0.25, 1.0, 1.5, 4.0 })
                {
                    exponential.Record(value, AgentAlpha);
                }

                break;
            case "NoAttributes":
                meter.CreateCounter<long>("perfotel.invocations", null, null).Add(5);
                break;
        }

        Snapshot.Verify(harness.ScrapeStable(format), $"{kind}.{format}");
    }

    [Theory]
    [InlineData(nameof(ExpositionFormat.PrometheusText))]
    [InlineData(nameof(ExpositionFormat.OpenMetrics))]
    public void ResourceBecomesTargetInfoAndScopeLabelsCanBeTurnedOff(string formatName)
    {
        var format = Enum.Parse<ExpositionFormat>(formatName);
        var resource = ResourceBuilder.CreateEmpty().AddAttributes(
        [
            new("service.name", "agent-fleet"),
            new("service.instance.id", "i-1"),
            new("deployment.environment", "test \"quoted\""),
        ]);
        using var harness = new ExporterHarness(options => options.EmitScopeLabels = false, resource: resource);
        harness.Meter.CreateCounter<long>("perfotel.invocations", null, "Invocations").Add(1, AgentAlpha);

        Snapshot.Verify(harness.ScrapeStable(format), $"TargetInfo.{format}");
    }

    [Fact]
    public void OpenMetricsCarriesTraceExemplarsOnBucketsAndCountersAndTextDropsThem()
    {
        using var harness = new ExporterHarness(configureProvider: builder => builder.SetExemplarFilter(ExemplarFilterType.TraceBased));
        var duration = harness.Meter.CreateHistogram<double>("gen_ai.client.operation.duration", "s", "Operation duration",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.5, 1, 2.5] });
        var invocations = harness.Meter.CreateCounter<long>("perfotel.invocations", null, "Invocations");

        var traceId = ActivityTraceId.CreateFromString("0af7651916cd43dd8448eb211c80319c");
        using (var activity = new Activity("invoke_agent alpha")
                   .SetParentId(traceId, ActivitySpanId.CreateFromString("b7ad6b7169203331"), ActivityTraceFlags.Recorded)
                   .Start())
        {
            duration.Record(0.3, AgentAlpha);
            duration.Record(2.0, AgentAlpha);
            invocations.Add(2, AgentAlpha);
        }

        // Outside any trace: counted, but the trace-based filter offers no exemplar.
        duration.Record(0.05, AgentAlpha);

        var openMetrics = NormalizeExemplars(harness.ScrapeStable(ExpositionFormat.OpenMetrics));
        Snapshot.Verify(openMetrics, "Exemplars.OpenMetrics");
        Assert.DoesNotContain("trace_id", harness.Scrape(ExpositionFormat.PrometheusText), StringComparison.Ordinal);
    }

    // Span ids and timestamps are random and wall-clock; their shape is kept, their value hidden.
    private static string NormalizeExemplars(string text) =>
        ExemplarVariableParts().Replace(text, "span_id=\"<span>\"} ${value} <timestamp>");

    [GeneratedRegex("span_id=\"[0-9a-f]{16}\"\\} (?<value>\\S+) [0-9]{10}\\.[0-9]{3}")]
    private static partial Regex ExemplarVariableParts();
}

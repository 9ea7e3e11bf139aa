using OpenTelemetry.Metrics;
using PerfOtel.Exporter.Implementation;
using PerfOtel.Exporter.Implementation.Serialization;
using PerfOtel.Exporter.Tests.TestSupport;

namespace PerfOtel.Exporter.Tests.Serialization;

public class EscapingAndCollisionTests
{
    [Fact]
    public void LabelValuesEscapeBackslashQuoteAndNewlineInBothFormats()
    {
        using var harness = new ExporterHarness(options => options.EmitScopeLabels = false);
        harness.Meter.CreateCounter<long>("perfotel.invocations").Add(1, new KeyValuePair<string, object?>("path", "C:\\agents\\\"alpha\"\nnext"));

        var expected = "perfotel_invocations_total{path=\"C:\\\\agents\\\\\\\"alpha\\\"\\nnext\"} 1\n";
        Assert.Contains(expected, harness.Scrape(ExpositionFormat.PrometheusText), StringComparison.Ordinal);
        Assert.Contains(expected, harness.Scrape(ExpositionFormat.OpenMetrics), StringComparison.Ordinal);
    }

    [Fact]
    public void HelpEscapesQuotesOnlyInOpenMetrics()
    {
        using var harness = new ExporterHarness(options => options.EmitScopeLabels = false);
        harness.Meter.CreateCounter<long>("perfotel.invocations", null, "Says \"hi\"\\ then\nbreaks").Add(1);

        Assert.Contains("# HELP perfotel_invocations_total Says \"hi\"\\\\ then\\nbreaks\n",
            harness.Scrape(ExpositionFormat.PrometheusText), StringComparison.Ordinal);
        Assert.Contains("# HELP perfotel_invocations Says \\\"hi\\\"\\\\ then\\nbreaks\n",
            harness.Scrape(ExpositionFormat.OpenMetrics), StringComparison.Ordinal);
    }

    [Fact]
    public void NonStringAttributesAreRenderedInvariantly()
    {
        var previous = Thread.CurrentThread.CurrentCulture;
        Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
        try
        {
            using var harness = new ExporterHarness(options => options.EmitScopeLabels = false);
            harness.Meter.CreateGauge<double>("perfotel.score").Record(1234.5,
                new("flag", true), new("count", 42L), new("ratio", 0.25), new("small", 3), new("list", new[] { "a", "b\"" }));

            var text = harness.Scrape(ExpositionFormat.PrometheusText);
            Assert.Contains("perfotel_score{", text, StringComparison.Ordinal);
            Assert.Contains("flag=\"true\"", text, StringComparison.Ordinal);
            Assert.Contains("count=\"42\"", text, StringComparison.Ordinal);
            Assert.Contains("ratio=\"0.25\"", text, StringComparison.Ordinal);
            Assert.Contains("small=\"3\"", text, StringComparison.Ordinal);
            Assert.Contains("list=\"[\\\"a\\\",\\\"b\\\\u0022\\\"]\"", text, StringComparison.Ordinal);
            Assert.Contains("} 1234.5\n", text, StringComparison.Ordinal);
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = previous;
        }
    }

    [Fact]
    public void AttributeKeysThatSanitiseAlikeAreJoinedWithSemicolonsInKeyOrder()
    {
        using var harness = new ExporterHarness(options => options.EmitScopeLabels = false);
        harness.Meter.CreateCounter<long>("perfotel.invocations").Add(1, new("agent_name", "x"), new("agent.name", "y"), new("tenant", "t"));

        var text = harness.Scrape(ExpositionFormat.PrometheusText);
        // "agent.name" sorts before "agent_name" ('.' < '_').
        Assert.Contains("perfotel_invocations_total{agent_name=\"y;x\",tenant=\"t\"} 1\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void AttributesThatWouldRepeatTheExportersOwnLabelsAreDropped()
    {
        using var harness = new ExporterHarness();
        harness.Meter.CreateCounter<long>("perfotel.invocations").Add(1, new("otel.scope.name", "spoof"), new("agent", "a"));
        harness.Meter.CreateHistogram<double>("perfotel.latency", "s", null,
            advice: new System.Diagnostics.Metrics.InstrumentAdvice<double> { HistogramBucketBoundaries = [1] }).Record(0.5, new KeyValuePair<string, object?>("le", "x"));

        var text = harness.ScrapeStable(ExpositionFormat.PrometheusText);

        Assert.Contains("perfotel_invocations_total{otel_scope_name=\"PerfOtel.Tests\",otel_scope_version=\"1.2.3\",agent=\"a\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("perfotel_latency_seconds_bucket{otel_scope_name=\"PerfOtel.Tests\",otel_scope_version=\"1.2.3\",le=\"1\"} 1\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("spoof", text, StringComparison.Ordinal);
    }

    [Fact]
    public void MetricsWhoseNamesCollideMergeIntoOneFamilyDeterministically()
    {
        using var harness = new ExporterHarness(options => options.EmitScopeLabels = true);
        using var second = new System.Diagnostics.Metrics.Meter(harness.MeterName + ".b");
        harness.Meter.CreateCounter<long>("agent.calls", null, "Calls (dotted)").Add(1);
        harness.Meter.CreateCounter<long>("agent_calls", null, "Calls (underscored)").Add(2);

        var text = harness.ScrapeStable(ExpositionFormat.PrometheusText);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(text, "# TYPE agent_calls_total counter"));
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(text, "# HELP agent_calls_total"));
        // Members ordered by OpenTelemetry name: "agent.calls" < "agent_calls"; the first one's HELP wins.
        Assert.Contains("# HELP agent_calls_total Calls (dotted)\n", text, StringComparison.Ordinal);
        var dotted = text.IndexOf("} 1\n", StringComparison.Ordinal);
        var underscored = text.IndexOf("} 2\n", StringComparison.Ordinal);
        Assert.True(dotted > 0 && underscored > dotted, text);
    }

    [Fact]
    public void CollidingNameWithAnotherTypeIsDroppedNotInterleaved()
    {
        using var harness = new ExporterHarness(options => options.EmitScopeLabels = false);
        harness.Meter.CreateCounter<long>("agent.calls").Add(1);
        harness.Meter.CreateGauge<long>("agent_calls_total").Record(9);

        var openMetrics = harness.Scrape(ExpositionFormat.OpenMetrics);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(openMetrics, "# TYPE "));
        Assert.Contains("agent_calls_total 1\n", openMetrics, StringComparison.Ordinal);
        Assert.DoesNotContain(" 9\n", openMetrics, StringComparison.Ordinal);
    }

    [Fact]
    public void MaxSeriesBoundsTheScrape()
    {
        using var harness = new ExporterHarness(options =>
        {
            options.EmitScopeLabels = false;
            options.MaxSeries = 3;
        });
        var counter = harness.Meter.CreateCounter<long>("perfotel.invocations");
        for (var i = 0; i < 10; i++)
        {
            counter.Add(1, new KeyValuePair<string, object?>("agent", "a" + i));
        }

        var text = harness.Scrape(ExpositionFormat.PrometheusText);
        Assert.Equal(3, text.Split('\n').Count(line => line.StartsWith("perfotel_invocations_total{", StringComparison.Ordinal)));
        Assert.Equal(7, harness.Exporter.LastDroppedSeries);
    }

    [Fact]
    public void EventSourceIdsAreSequentialAndMatchTheirMethods()
    {
        var methods = typeof(PerfOtelExporterEventSource).GetMethods()
            .Select(m => (Method: m, Event: m.GetCustomAttributes(typeof(System.Diagnostics.Tracing.EventAttribute), false)
                .Cast<System.Diagnostics.Tracing.EventAttribute>().SingleOrDefault()))
            .Where(x => x.Event is not null)
            .OrderBy(x => x.Event!.EventId)
            .ToList();
        Assert.Equal(Enumerable.Range(1, methods.Count), methods.Select(x => x.Event!.EventId));

        // EventSource validates ids against WriteEvent calls when it builds its manifest; a mismatch throws here.
        var manifest = System.Diagnostics.Tracing.EventSource.GenerateManifest(typeof(PerfOtelExporterEventSource), "PerfOtel.Exporter.dll",
            System.Diagnostics.Tracing.EventManifestOptions.Strict);
        Assert.NotNull(manifest);
    }
}

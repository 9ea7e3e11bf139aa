using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using OpenTelemetry.Metrics;
using PerfOtel.Exporter.Implementation.Serialization;
using PerfOtel.Exporter.Tests.TestSupport;

namespace PerfOtel.Exporter.Tests.Conformance;

/// <summary>
/// The rules of the OpenTelemetry Prometheus compatibility specification and of OpenMetrics 1.0 that PerfOtel added
/// to match the current specification (src/Exporter/README.md, Conformance, lists every rule with its test).
/// </summary>
public class SpecificationConformanceTests
{
    private const string SchemaUrl = "https://opentelemetry.io/schemas/1.31.0";

    [Fact]
    public void ScopeNameVersionSchemaUrlAndAttributesAreLabelsOnEveryPoint()
    {
        using var meter = new Meter(new MeterOptions("PerfOtel.Conformance." + Guid.NewGuid().ToString("N"))
        {
            Version = "v0.24.0",
            TelemetrySchemaUrl = SchemaUrl,
            Tags = [new("library.mascot", "gopher"), new("region", "eu")],
        });
        using var harness = new ExporterHarness(configureProvider: builder => builder.AddMeter(meter.Name));
        meter.CreateCounter<long>("http.server.duration", null, null).Add(1, new KeyValuePair<string, object?>("method", "GET"));
        meter.CreateHistogram<double>("perfotel.latency", "s", null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [1] }).Record(0.5);

        var scope = $"otel_scope_name=\"{meter.Name}\",otel_scope_version=\"v0.24.0\",otel_scope_schema_url=\"{SchemaUrl}\","
                    + "otel_scope_library_mascot=\"gopher\",otel_scope_region=\"eu\"";
        foreach (var format in new[] { ExpositionFormat.PrometheusText, ExpositionFormat.OpenMetrics })
        {
            var scrape = harness.Scrape(format);
            Assert.Contains("http_server_duration_total{" + scope + ",method=\"GET\"} 1\n", scrape, StringComparison.Ordinal);
            Assert.Contains("perfotel_latency_seconds_bucket{" + scope + ",le=\"", scrape, StringComparison.Ordinal);
            Assert.Contains("perfotel_latency_seconds_sum{" + scope + "} 0.5\n", scrape, StringComparison.Ordinal);
            Assert.Contains("perfotel_latency_seconds_count{" + scope + "} 1\n", scrape, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ScopeAttributesThatLandOnTheScopeLabelsAreDroppedAndCollidingKeysJoin()
    {
        using var meter = new Meter(new MeterOptions("PerfOtel.Conformance." + Guid.NewGuid().ToString("N"))
        {
            Version = "1.0",
            Tags = [new("name", "impostor"), new("schema.url", "x"), new("team.id", "b"), new("team_id", "a")],
        });
        using var harness = new ExporterHarness(configureProvider: builder => builder.AddMeter(meter.Name));
        meter.CreateCounter<long>("perfotel.invocations", null, null).Add(1);

        var scrape = harness.Scrape(ExpositionFormat.PrometheusText);
        Assert.Contains(
            $"perfotel_invocations_total{{otel_scope_name=\"{meter.Name}\",otel_scope_version=\"1.0\",otel_scope_team_id=\"b;a\"}} 1\n",
            scrape, StringComparison.Ordinal);
        Assert.DoesNotContain("impostor", scrape, StringComparison.Ordinal);
    }

    [Fact]
    public void PointAttributesCannotRepeatAScopeLabel()
    {
        using var meter = new Meter(new MeterOptions("PerfOtel.Conformance." + Guid.NewGuid().ToString("N"))
        {
            TelemetrySchemaUrl = SchemaUrl,
        });
        using var harness = new ExporterHarness(configureProvider: builder => builder.AddMeter(meter.Name));
        meter.CreateCounter<long>("perfotel.invocations", null, null)
            .Add(1, new KeyValuePair<string, object?>("otel.scope.schema_url", "spoofed"), new("agent", "a"));

        var scrape = harness.Scrape(ExpositionFormat.PrometheusText);
        Assert.Contains($"otel_scope_schema_url=\"{SchemaUrl}\",agent=\"a\"}} 1\n", scrape, StringComparison.Ordinal);
        Assert.DoesNotContain("spoofed", scrape, StringComparison.Ordinal);
    }

    [Fact]
    public void OpenMetricsCountersAndHistogramsCarryCreatedWithTheSeriesStartTime()
    {
        using var harness = new ExporterHarness(options => options.EmitScopeLabels = false);
        var before = DateTimeOffset.UtcNow.AddSeconds(-1).ToUnixTimeSeconds();
        harness.Meter.CreateCounter<long>("perfotel.invocations", null, null).Add(2, new KeyValuePair<string, object?>("agent", "a b"));
        harness.Meter.CreateHistogram<long>("perfotel.tokens", "{token}", null,
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [10] }).Record(3);
        harness.Meter.CreateGauge<long>("perfotel.pending", null, null).Record(4);
        harness.Meter.CreateUpDownCounter<long>("perfotel.active", null, null).Add(1);

        var lines = harness.Scrape(ExpositionFormat.OpenMetrics).Split('\n');
        var counterCreated = Assert.Single(lines, l => l.StartsWith("perfotel_invocations_created{agent=\"a b\"} ", StringComparison.Ordinal));
        var histogramCreated = Assert.Single(lines, l => l.StartsWith("perfotel_tokens_created ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("perfotel_pending_created", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("perfotel_active_created", StringComparison.Ordinal));

        // The sample follows its series' other lines (OpenMetrics keeps a MetricPoint's samples together).
        Assert.Equal("perfotel_tokens_count 1", lines[Array.IndexOf(lines, histogramCreated) - 1]);
        Assert.Equal("perfotel_invocations_total{agent=\"a b\"} 2", lines[Array.IndexOf(lines, counterCreated) - 1]);
        foreach (var created in new[] { counterCreated, histogramCreated })
        {
            var seconds = double.Parse(created[(created.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            Assert.InRange(seconds, before, DateTimeOffset.UtcNow.AddSeconds(1).ToUnixTimeSeconds());
        }

        Assert.DoesNotContain("_created", harness.Scrape(ExpositionFormat.PrometheusText), StringComparison.Ordinal);
    }

    [Fact]
    public void CreatedLine_StaysItsSeriesOwn_AcrossScrapes_WhetherTheSeriesIsCachedOrNot()
    {
        using var harness = new ExporterHarness();
        var counter = harness.Meter.CreateCounter<long>("perfotel.invocations", null, null);
        // A string attribute is cached with its encoded line; a float is not a value the cache trusts.
        counter.Add(1, new KeyValuePair<string, object?>("agent", "a"));
        counter.Add(1, new KeyValuePair<string, object?>("ratio", 0.5f));

        string[] Created(string scrape) =>
            scrape.Split('\n').Where(l => l.StartsWith("perfotel_invocations_created", StringComparison.Ordinal)).ToArray();
        var first = Created(harness.Scrape(ExpositionFormat.OpenMetrics));
        Assert.Equal(2, first.Length);
        Assert.Single(first, l => l.Contains("agent=\"a\"} ", StringComparison.Ordinal));
        Assert.Single(first, l => l.Contains("ratio=", StringComparison.Ordinal));

        for (var scrape = 0; scrape < 2; scrape++)
        {
            counter.Add(1, new KeyValuePair<string, object?>("agent", "a"));
            counter.Add(1, new KeyValuePair<string, object?>("ratio", 0.5f));
            var text = harness.Scrape(ExpositionFormat.OpenMetrics);
            Assert.Contains($"agent=\"a\"}} {scrape + 2}\n", text, StringComparison.Ordinal);
            Assert.Equal(first, Created(text));
        }
    }

    [Fact]
    public void CreatedCanBeTurnedOff()
    {
        using var harness = new ExporterHarness(options => options.EmitCreatedSeries = false);
        harness.Meter.CreateCounter<long>("perfotel.invocations", null, null).Add(2);
        harness.Meter.CreateHistogram<long>("perfotel.tokens", "{token}", null).Record(3);

        Assert.DoesNotContain("_created", harness.Scrape(ExpositionFormat.OpenMetrics), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.0, "0.0")]
    [InlineData(1.0, "1.0")]
    [InlineData(-1.0, "-1.0")]
    [InlineData(0.5, "0.5")]
    [InlineData(0.1, "0.1")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(0.00001, "1e-05")]
    [InlineData(0.000123, "0.000123")]
    [InlineData(81.92, "81.92")]
    [InlineData(10000.0, "10000.0")]
    [InlineData(100000.0, "100000.0")]
    [InlineData(999999.0, "999999.0")]
    [InlineData(1000000.0, "1e+06")]
    [InlineData(1048576.0, "1.048576e+06")]
    [InlineData(4194304.0, "4.194304e+06")]
    [InlineData(67108864.0, "6.7108864e+07")]
    [InlineData(123456789.0, "1.23456789e+08")]
    [InlineData(1e21, "1e+21")]
    [InlineData(1e100, "1e+100")]
    [InlineData(-2.5e-7, "-2.5e-07")]
    [InlineData(0.30000000000000004, "0.30000000000000004")]
    [InlineData(double.MaxValue, "1.7976931348623157e+308")]
    [InlineData(double.Epsilon, "5e-324")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(double.NaN, "NaN")]
    public void OpenMetricsNumbersInLabelsAreCanonicalAsPrometheusWritesThem(double value, string expected)
    {
        // Expected strings are Go's strconv.FormatFloat(v, 'g', -1, 64) with ".0" added to integers: what client_golang
        // writes for le and quantile, and what Prometheus normalises those labels to when it parses OpenMetrics.
        using var buffer = new ExpositionBuffer(64);
        buffer.WriteCanonicalDouble(value);
        Assert.Equal(expected, Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void TokenBucketsAtAndAboveAMillionAreCanonicalInOpenMetricsAndPlainInText()
    {
        using var harness = new ExporterHarness(options => options.EmitScopeLabels = false);
        harness.Meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}", null,
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [262144, 1048576, 4194304] }).Record(2_000_000);

        var openMetrics = harness.Scrape(ExpositionFormat.OpenMetrics);
        Assert.Contains("gen_ai_client_token_usage_bucket{le=\"262144.0\"} 0\n", openMetrics, StringComparison.Ordinal);
        Assert.Contains("gen_ai_client_token_usage_bucket{le=\"1.048576e+06\"} 0\n", openMetrics, StringComparison.Ordinal);
        Assert.Contains("gen_ai_client_token_usage_bucket{le=\"4.194304e+06\"} 1\n", openMetrics, StringComparison.Ordinal);

        // The text format has no canonical form; PerfOtel writes what OpenTelemetry's exporter writes there.
        var text = harness.Scrape(ExpositionFormat.PrometheusText);
        Assert.Contains("gen_ai_client_token_usage_bucket{le=\"1048576\"} 0\n", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gauge")]
    [InlineData("updown")]
    [InlineData("counter")]
    [InlineData("histogram")]
    public void DimensionlessUnitAddsNoSuffixToAnyInstrument(string kind)
    {
        using var harness = new ExporterHarness(options => options.EmitScopeLabels = false);
        switch (kind)
        {
            case "gauge":
                harness.Meter.CreateGauge<double>("perfotel.accuracy", "1", null).Record(0.5);
                break;
            case "updown":
                harness.Meter.CreateUpDownCounter<long>("perfotel.accuracy", "1", null).Add(1);
                break;
            case "counter":
                harness.Meter.CreateCounter<long>("perfotel.accuracy", "1", null).Add(1);
                break;
            default:
                harness.Meter.CreateHistogram<double>("perfotel.accuracy", "1", null).Record(0.5);
                break;
        }

        var openMetrics = harness.Scrape(ExpositionFormat.OpenMetrics);
        Assert.Contains($"# TYPE perfotel_accuracy {(kind is "updown" ? "gauge" : kind)}\n", openMetrics, StringComparison.Ordinal);
        Assert.DoesNotContain("ratio", openMetrics, StringComparison.Ordinal);
        Assert.DoesNotContain("# UNIT", openMetrics, StringComparison.Ordinal);
    }
}

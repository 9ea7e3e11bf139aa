using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using PerfOtel.Exporter.Tests.Hosting;
using PerfOtel.Exporter.Tests.TestSupport;
using PerfOtel.Testing;

namespace PerfOtel.Exporter.Tests.EndToEnd;

/// <summary>
/// A real Prometheus 2.42 scrapes the exporter in both formats (an OpenMetrics target and a target with OpenMetrics
/// disabled) and PromQL answers must equal what was recorded: counter values and increases, histogram quantiles, and
/// exemplars (OpenMetrics only) through /api/v1/query_exemplars.
/// </summary>
public class PrometheusEndToEndTests
{
    private const string ExemplarStorage = "--enable-feature=exemplar-storage";

    private const string TraceIdHex = "4bf92f3577b34da6a3ce929d0e0e4736";
    private const string Invocations = "perfotel_e2e_invocations_total";
    private const string Duration = "perfotel_e2e_duration_seconds";

    [Fact]
    public async Task AspNetCoreEndpointIsScrapedByPrometheusInBothFormats()
    {
        using var meter = new Meter("PerfOtel.Tests.E2E." + Guid.NewGuid().ToString("N"), "1.0.0");
        var workload = new Workload(meter);
        await using var openMetricsApp = await ScrapeTestApp.StartAsync(
            configureProvider: TraceBasedExemplars, sharedMeter: meter);
        await using var textApp = await ScrapeTestApp.StartAsync(
            options => options.EnableOpenMetrics = false, configureProvider: TraceBasedExemplars, sharedMeter: meter);
        workload.RecordFirstPhase();

        await using var prometheus = await PrometheusServer.StartAsync(new Dictionary<string, string[]>
        {
            ["aspnet_openmetrics"] = [openMetricsApp.BaseAddress.Authority],
            ["aspnet_text"] = [textApp.BaseAddress.Authority],
        }, extraArguments: [ExemplarStorage]);

        await AssertCounterAndHistogramAsync(prometheus, workload, ["aspnet_openmetrics", "aspnet_text"]);
        await AssertExemplarsAsync(prometheus, "aspnet_openmetrics", expected: true);
        await AssertExemplarsAsync(prometheus, "aspnet_text", expected: false);
        await AssertEveryLineWasIngestedAsync(prometheus, "aspnet_openmetrics", new Uri(openMetricsApp.BaseAddress, "/metrics"), openMetrics: true);
        await AssertEveryLineWasIngestedAsync(prometheus, "aspnet_text", new Uri(textApp.BaseAddress, "/metrics"), openMetrics: false);

        // What Prometheus 2.42 asks for: OpenMetrics first, the text format as a fallback.
        Assert.Contains(openMetricsApp.AcceptHeaders, accept => accept.StartsWith("application/openmetrics-text;version=1.0.0", StringComparison.Ordinal)
            && accept.Contains("text/plain;version=0.0.4", StringComparison.Ordinal));
    }

    [Fact]
    public async Task StandaloneListenerIsScrapedByPrometheusInBothFormats()
    {
        using var meter = new Meter("PerfOtel.Tests.E2E." + Guid.NewGuid().ToString("N"), "1.0.0");
        var workload = new Workload(meter);
        var openMetricsPort = TestPorts.GetFree();
        var textPort = TestPorts.GetFree();
        using var openMetricsProvider = ListenerProvider(meter, openMetricsPort, enableOpenMetrics: true);
        using var textProvider = ListenerProvider(meter, textPort, enableOpenMetrics: false);
        workload.RecordFirstPhase();

        await using var prometheus = await PrometheusServer.StartAsync(new Dictionary<string, string[]>
        {
            ["listener_openmetrics"] = [$"127.0.0.1:{openMetricsPort}"],
            ["listener_text"] = [$"127.0.0.1:{textPort}"],
        }, extraArguments: [ExemplarStorage]);

        await AssertCounterAndHistogramAsync(prometheus, workload, ["listener_openmetrics", "listener_text"]);
        await AssertExemplarsAsync(prometheus, "listener_openmetrics", expected: true);
        await AssertExemplarsAsync(prometheus, "listener_text", expected: false);
        await AssertEveryLineWasIngestedAsync(prometheus, "listener_openmetrics", new Uri($"http://127.0.0.1:{openMetricsPort}/metrics"), openMetrics: true);
        await AssertEveryLineWasIngestedAsync(prometheus, "listener_text", new Uri($"http://127.0.0.1:{textPort}/metrics"), openMetrics: false);
    }

    private static void TraceBasedExemplars(MeterProviderBuilder builder) => builder.SetExemplarFilter(ExemplarFilterType.TraceBased);

    private static MeterProvider ListenerProvider(Meter meter, int port, bool enableOpenMetrics) =>
        Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("listener-e2e"))
            .AddMeter(meter.Name)
            .SetExemplarFilter(ExemplarFilterType.TraceBased)
            .AddPerfOtelPrometheusHttpListener(options =>
            {
                options.UriPrefixes = [$"http://127.0.0.1:{port}/"];
                options.EnableOpenMetrics = enableOpenMetrics;
            })
            .Build();

    private static async Task AssertCounterAndHistogramAsync(PrometheusServer prometheus, Workload workload, string[] jobs)
    {
        foreach (var job in jobs)
        {
            await prometheus.WaitForScalarAsync($"up{{job=\"{job}\"}}", value => value == 1);
            await prometheus.WaitForScalarAsync($"{Invocations}{{job=\"{job}\",gen_ai_agent_name=\"alpha\"}}", value => value == 42);
        }

        // The increase happens only after Prometheus has stored the first value, so it shows up as a change over time.
        workload.RecordSecondPhase();
        foreach (var job in jobs)
        {
            var selector = $"{Invocations}{{job=\"{job}\",gen_ai_agent_name=\"alpha\"}}";
            await prometheus.WaitForScalarAsync(selector, value => value == 50);
            Assert.Equal(8, await prometheus.QueryScalarAsync($"max_over_time({selector}[10m]) - min_over_time({selector}[10m])"));
            Assert.True(await prometheus.QueryScalarAsync($"rate({selector}[10m])") > 0, $"rate of {selector} is not positive");
            Assert.Equal(0, await prometheus.QueryScalarAsync($"resets({selector}[10m])"));

            // 5 values of 0.05 and 5 of 0.3 in buckets (0,0.1] and (0.1,0.5]: the median is the first bucket's upper
            // bound, the 75th percentile interpolates halfway through the second bucket.
            var buckets = $"{Duration}_bucket{{job=\"{job}\",gen_ai_agent_name=\"alpha\"}}";
            AssertClose(0.1, await prometheus.QueryScalarAsync($"histogram_quantile(0.5, {buckets})"));
            AssertClose(0.3, await prometheus.QueryScalarAsync($"histogram_quantile(0.75, {buckets})"));
            Assert.Equal(10, await prometheus.QueryScalarAsync($"{Duration}_count{{job=\"{job}\",gen_ai_agent_name=\"alpha\"}}"));
            AssertClose(1.75, await prometheus.QueryScalarAsync($"{Duration}_sum{{job=\"{job}\",gen_ai_agent_name=\"alpha\"}}"));
        }
    }

    private static async Task AssertExemplarsAsync(PrometheusServer prometheus, string job, bool expected)
    {
        var bucketExemplars = await prometheus.QueryExemplarsAsync($"{Duration}_bucket{{job=\"{job}\"}}");
        var counterExemplars = await prometheus.QueryExemplarsAsync($"{Invocations}{{job=\"{job}\"}}");
        if (!expected)
        {
            Assert.Empty(bucketExemplars);
            Assert.Empty(counterExemplars);
            return;
        }

        Assert.Contains(bucketExemplars, e => e.Labels["trace_id"] == TraceIdHex && e.Labels["span_id"].Length == 16 && Math.Abs(e.Value - 0.3) < 1e-9);
        Assert.Contains(counterExemplars, e => e.Labels["trace_id"] == TraceIdHex && e.Value == 42);
    }

    private static async Task AssertEveryLineWasIngestedAsync(PrometheusServer prometheus, string job, Uri target, bool openMetrics)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var request = new HttpRequestMessage(HttpMethod.Get, target);
        if (openMetrics)
        {
            request.Headers.TryAddWithoutValidation("Accept", AspNetCoreEndpointTests.Prometheus242Accept);
        }

        using var response = await client.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        var sampleLines = body.Split('\n').Count(line => line.Length > 0 && !line.StartsWith('#'));
        await prometheus.WaitForScalarAsync($"scrape_samples_scraped{{job=\"{job}\"}}", value => value == sampleLines);

        // The resource arrives as target_info (an OpenMetrics info metric, or a gauge in the text format).
        Assert.Equal(1, await prometheus.QueryScalarAsync($"target_info{{job=\"{job}\",service_name=~\".+\"}}"));
    }

    private static void AssertClose(double expected, double? actual) =>
        Assert.True(actual is { } value && Math.Abs(value - expected) < 1e-9,
            $"expected {expected.ToString(CultureInfo.InvariantCulture)}, got {actual?.ToString(CultureInfo.InvariantCulture) ?? "no series"}");

    private sealed class Workload(Meter meter)
    {
        private static readonly KeyValuePair<string, object?> Alpha = new("gen_ai.agent.name", "alpha");
        private readonly Counter<long> invocations = meter.CreateCounter<long>("perfotel.e2e.invocations", null, "Invocations");
        private readonly Histogram<double> duration = meter.CreateHistogram<double>("perfotel.e2e.duration", "s", "Duration",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.5, 1, 2.5, 5] });

        public void RecordFirstPhase()
        {
            for (var i = 0; i < 5; i++)
            {
                duration.Record(0.05, Alpha);
            }

            using var activity = new Activity("invoke_agent alpha")
                .SetParentId(ActivityTraceId.CreateFromString(TraceIdHex), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded)
                .Start();
            for (var i = 0; i < 5; i++)
            {
                duration.Record(0.3, Alpha);
            }

            invocations.Add(42, Alpha);
        }

        public void RecordSecondPhase() => invocations.Add(8, Alpha);
    }
}

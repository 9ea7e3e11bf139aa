using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Proto.Metrics.V1;
using PerfOtel.Collector.Tests.Cost;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Collector.Tests.Security;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;
using static PerfOtel.Collector.Tests.OtlpMetrics.OtlpMetricsSupport;

namespace PerfOtel.Collector.Tests.OtlpMetrics;

/// <summary>
/// GenAI and perfotel.* metrics pushed over OTLP (HTTP protobuf and JSON, gRPC) are re-exposed on the collector's
/// /metrics with PerfOtel.Exporter's names, labels and formatting, per tenant, bounded, cumulative, and forgotten when
/// their producer stops (docs/collector/otlp-metrics.md).
/// </summary>
public sealed class OtlpMetricsReExposureTests
{
    private const string Labels =
        "job=\"shop/support-bot\",instance=\"pod-1\",otel_scope_name=\"node-agent\",otel_scope_version=\"1.0.0\",tenant=\"default\",perfotel_tenant=\"default\","
        + "gen_ai_operation_name=\"chat\",gen_ai_provider_name=\"openai\",gen_ai_request_model=\"gpt-4o-mini\",gen_ai_token_type=\"input\"";

    private static readonly string[] ExpectedText =
    [
        "# HELP gen_ai_client_token_usage Number of input and output tokens used.",
        "# TYPE gen_ai_client_token_usage histogram",
        $"gen_ai_client_token_usage_bucket{{{Labels},le=\"1\"}} 0",
        $"gen_ai_client_token_usage_bucket{{{Labels},le=\"4\"}} 1",
        $"gen_ai_client_token_usage_bucket{{{Labels},le=\"16\"}} 3",
        $"gen_ai_client_token_usage_bucket{{{Labels},le=\"+Inf\"}} 4",
        $"gen_ai_client_token_usage_sum{{{Labels}}} 60.5",
        $"gen_ai_client_token_usage_count{{{Labels}}} 4",
    ];

    [Fact]
    public async Task HttpProtobuf_GenAiHistogramAndCounter_AreExposedAsTheExporterNamesThem_OthersDroppedAndCounted()
    {
        await using var collector = new CollectorFactory(Settings());
        using var http = collector.CreateClient();
        var response = await PostAsync(http, Request(
        [
            TokenUsage(AggregationTemporality.Cumulative, TokenPoint(Start, Start + 60 * Second, [0, 1, 2, 1], 60.5, CallAttributes("input"))),
            Counter("perfotel.agent.invocations", "{invocation}", AggregationTemporality.Cumulative,
                Number(Start, Start + 60 * Second, 7, Attr("gen_ai.agent.name", "triage"), Attr("perfotel.outcome", "success"))),
            Gauge("perfotel.agent.queue.depth", "{item}", 3),
            Counter("http.server.request.count", "{request}", AggregationTemporality.Cumulative, Number(Start, Start + Second, 5)),
            ExponentialHistogram("gen_ai.server.request.duration"),
        ]));

        Assert.Equal(1, response.PartialSuccess.RejectedDataPoints);
        Assert.Contains("exponential histogram gen_ai.server.request.duration", response.PartialSuccess.ErrorMessage, StringComparison.Ordinal);

        var text = await ScrapeAsync(http);
        Assert.Equal(ExpectedText, Family(text, "gen_ai_client_token_usage"));
        Assert.Contains("# TYPE perfotel_agent_invocations_total counter", text, StringComparison.Ordinal);
        Assert.Contains("perfotel_agent_invocations_total{job=\"shop/support-bot\",instance=\"pod-1\",otel_scope_name=\"node-agent\",otel_scope_version=\"1.0.0\","
            + "tenant=\"default\",perfotel_tenant=\"default\",gen_ai_agent_name=\"triage\",perfotel_outcome=\"success\"} 7\n", text, StringComparison.Ordinal);
        Assert.Contains("perfotel_agent_queue_depth{job=\"shop/support-bot\",", text, StringComparison.Ordinal);
        Assert.DoesNotContain("http_server_request", text, StringComparison.Ordinal);
        Assert.DoesNotContain("gen_ai_server_request_duration", text, StringComparison.Ordinal);
        Assert.Equal(1, SelfMetric(text, "perfotel_collector_metric_points_dropped_total", "reason=\"other_metric\""));
        Assert.Equal(1, SelfMetric(text, "perfotel_collector_metric_points_dropped_total", "reason=\"rejected\""));
        Assert.Equal(3, SelfMetric(text, "perfotel_collector_metric_series", "tenant=\"default\""));

        // OpenMetrics: the family named without _total in metadata, le as canonical numbers, the start as _created.
        var openMetrics = await ScrapeAsync(http, openMetrics: true);
        var family = Family(openMetrics, "gen_ai_client_token_usage");
        Assert.Equal("# TYPE gen_ai_client_token_usage histogram", family[0]);
        Assert.Contains($"gen_ai_client_token_usage_bucket{{{Labels},le=\"16.0\"}} 3", family);
        Assert.Contains($"gen_ai_client_token_usage_created{{{Labels}}} 1700000000.000", family);
        Assert.Contains("# TYPE perfotel_agent_invocations counter", openMetrics, StringComparison.Ordinal);
        Assert.EndsWith("# EOF\n", openMetrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpJson_AndGrpc_GiveTheSameSeriesAsHttpProtobuf()
    {
        var request = Request([TokenUsage(AggregationTemporality.Cumulative, TokenPoint(Start, Start + 60 * Second, [0, 1, 2, 1], 60.5, CallAttributes("input")))]);

        await using var viaJson = new CollectorFactory(Settings());
        using var jsonHttp = viaJson.CreateClient();
        // As the JS and Python SDKs write OTLP/JSON: 64-bit integers as strings, enums as numbers.
        const string json = """
            {"resourceMetrics":[{"resource":{"attributes":[
              {"key":"service.name","value":{"stringValue":"support-bot"}},
              {"key":"service.namespace","value":{"stringValue":"shop"}},
              {"key":"service.instance.id","value":{"stringValue":"pod-1"}}]},
             "scopeMetrics":[{"scope":{"name":"node-agent","version":"1.0.0"},"metrics":[
              {"name":"gen_ai.client.token.usage","unit":"{token}","description":"Number of input and output tokens used.",
               "histogram":{"aggregationTemporality":2,"dataPoints":[{
                 "startTimeUnixNano":"1700000000000000000","timeUnixNano":"1700000060000000000",
                 "count":"4","sum":60.5,"bucketCounts":["0","1","2","1"],"explicitBounds":[1,4,16],
                 "attributes":[
                   {"key":"gen_ai.operation.name","value":{"stringValue":"chat"}},
                   {"key":"gen_ai.provider.name","value":{"stringValue":"openai"}},
                   {"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o-mini"}},
                   {"key":"gen_ai.token.type","value":{"stringValue":"input"}}]}]}}]}]}]}
            """;
        using (var response = await jsonHttp.PostAsync(new Uri("/v1/metrics", UriKind.Relative), Json(json)))
        {
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }

        Assert.Equal(ExpectedText, Family(await ScrapeAsync(jsonHttp), "gen_ai_client_token_usage"));

        await using var viaGrpc = new CollectorFactory(Settings());
        using (var grpc = OtlpGrpcClient.InProcess(viaGrpc))
        {
            var answer = await grpc.ExportAsync(request);
            Assert.Null(answer.PartialSuccess);
        }

        using var grpcHttp = viaGrpc.CreateClient();
        Assert.Equal(ExpectedText, Family(await ScrapeAsync(grpcHttp), "gen_ai_client_token_usage"));
    }

    [Fact]
    public async Task DeltaPoints_AreAccumulatedIntoCumulativeSeries_ARetriedDeltaCountsOnce()
    {
        await using var collector = new CollectorFactory(Settings());
        using var http = collector.CreateClient();
        var first = Request(
        [
            TokenUsage(AggregationTemporality.Delta, TokenPoint(Start, Start + 60 * Second, [0, 1, 1, 0], 20.5, CallAttributes("input"))),
            Counter("perfotel.agent.invocations", "{invocation}", AggregationTemporality.Delta, Number(Start, Start + 60 * Second, 3)),
        ]);
        var second = Request(
        [
            TokenUsage(AggregationTemporality.Delta, TokenPoint(Start + 60 * Second, Start + 120 * Second, [0, 0, 1, 1], 40, CallAttributes("input"))),
            Counter("perfotel.agent.invocations", "{invocation}", AggregationTemporality.Delta, Number(Start + 60 * Second, Start + 120 * Second, 4)),
        ]);

        await PostAsync(http, first);
        await PostAsync(http, second);
        await PostAsync(http, second); // an exporter retry of a request whose answer it did not get

        var text = await ScrapeAsync(http);
        Assert.Equal(ExpectedText, Family(text, "gen_ai_client_token_usage"));
        Assert.Contains("tenant=\"default\",perfotel_tenant=\"default\"} 7\n", Family(text, "perfotel_agent_invocations_total").Last() + "\n", StringComparison.Ordinal);
        Assert.Equal(2, SelfMetric(text, "perfotel_collector_metric_points_dropped_total", "reason=\"out_of_order\""));

        // OpenMetrics: the accumulated series started with the first delta.
        var openMetrics = await ScrapeAsync(http, openMetrics: true);
        Assert.Contains($"gen_ai_client_token_usage_created{{{Labels}}} 1700000000.000", Family(openMetrics, "gen_ai_client_token_usage"));
    }

    [Fact]
    public async Task ProducerRestart_NewStartTime_StartsTheCounterOver_AnOlderPointIsIgnored()
    {
        await using var collector = new CollectorFactory(Settings());
        using var http = collector.CreateClient();
        Metric Invocations(ulong start, ulong time, long value) =>
            Counter("perfotel.agent.invocations", "{invocation}", AggregationTemporality.Cumulative, Number(start, time, value));

        await PostAsync(http, Request([Invocations(Start, Start + 120 * Second, 10)]));
        await PostAsync(http, Request([Invocations(Start, Start + 60 * Second, 6)])); // late, older: ignored
        Assert.EndsWith("} 10", Family(await ScrapeAsync(http), "perfotel_agent_invocations_total").Last(), StringComparison.Ordinal);

        var restarted = Start + 300 * Second;
        await PostAsync(http, Request([Invocations(restarted, restarted + 60 * Second, 2)]));
        Assert.EndsWith("} 2", Family(await ScrapeAsync(http), "perfotel_agent_invocations_total").Last(), StringComparison.Ordinal);
        Assert.Contains(Family(await ScrapeAsync(http, openMetrics: true), "perfotel_agent_invocations"),
            l => l.StartsWith("perfotel_agent_invocations_created{", StringComparison.Ordinal) && l.EndsWith(" 1700000300.000", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TenantComesFromTheApiKey_NotFromThePayload_AndSameSeriesOfTwoTenantsStayApart()
    {
        await using var collector = new CollectorFactory(Settings(TestKeys.Settings()));
        using var http = collector.CreateClient();
        Metric Invocations(long value) => Counter("perfotel.agent.invocations", "{invocation}", AggregationTemporality.Cumulative,
            Number(Start, Start + 60 * Second, value, Attr("perfotel.tenant", TestKeys.TenantB)));

        // Alpha's key claims bravo in the attributes and in the resource: the series is alpha's.
        await PostAsync(http, Request([Invocations(5)], "pod-1", ("perfotel.tenant", TestKeys.TenantB)), TestKeys.IngestA);
        await PostAsync(http, Request([Invocations(9)]), TestKeys.IngestB);

        var lines = Family(await ScrapeAsync(http, apiKey: TestKeys.Admin), "perfotel_agent_invocations_total").Where(l => !l.StartsWith('#')).ToArray();
        Assert.Equal(2, lines.Length);
        Assert.Contains(lines, l => l.Contains($"tenant=\"{TestKeys.TenantA}\",perfotel_tenant=\"{TestKeys.TenantA}\"}} 5", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains($"tenant=\"{TestKeys.TenantB}\",perfotel_tenant=\"{TestKeys.TenantB}\"}} 9", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithoutAuthentication_TheTenantIsThePointsOrTheResourcesPerfotelTenant()
    {
        await using var collector = new CollectorFactory(Settings());
        using var http = collector.CreateClient();
        await PostAsync(http, Request(
        [
            Counter("perfotel.agent.invocations", "{invocation}", AggregationTemporality.Cumulative,
                Number(Start, Start + Second, 1, Attr("perfotel.tenant", "acme")), Number(Start, Start + Second, 2)),
        ], "pod-1", ("perfotel.tenant", "globex")));

        var text = await ScrapeAsync(http);
        Assert.Contains("tenant=\"acme\",perfotel_tenant=\"acme\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("tenant=\"globex\",perfotel_tenant=\"globex\"} 2\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASeriesWhoseProducerStopsPushing_LeavesMetricsAfterStaleAfter()
    {
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var collector = new CollectorFactory(Settings(new() { ["OtlpMetrics:StaleAfter"] = "00:02:00" }),
            services => services.AddSingleton<TimeProvider>(clock));
        using var http = collector.CreateClient();
        Metric Invocations(string instance) => Counter("perfotel.agent.invocations", "{invocation}", AggregationTemporality.Cumulative,
            Number(Start, Start + Second, 1, Attr("gen_ai.agent.name", instance)));

        await PostAsync(http, Request([Invocations("stops")], "pod-1"));
        clock.Advance(TimeSpan.FromSeconds(90));
        await PostAsync(http, Request([Invocations("keeps")], "pod-2"));
        var before = await ScrapeAsync(http);
        Assert.Contains("instance=\"pod-1\"", before, StringComparison.Ordinal);

        clock.Advance(TimeSpan.FromSeconds(60)); // pod-1 last pushed 150 s ago, pod-2 60 s ago
        var after = await ScrapeAsync(http);
        Assert.DoesNotContain("instance=\"pod-1\"", after, StringComparison.Ordinal);
        Assert.Contains("instance=\"pod-2\"", after, StringComparison.Ordinal);
        Assert.Equal(1, SelfMetric(after, "perfotel_collector_metric_series", "tenant=\"default\""));

        clock.Advance(TimeSpan.FromSeconds(61));
        Assert.DoesNotContain("perfotel_agent_invocations", await ScrapeAsync(http), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeriesBeyondTheTenantLimit_AreRefusedInPartialSuccess_TheKeptOnesGoOnUpdating()
    {
        await using var collector = new CollectorFactory(Settings(new() { ["Cardinality:MaxMetricSeriesPerTenant"] = "2" }));
        using var http = collector.CreateClient();
        Metric Invocations(long value, params string[] agents) => Counter("perfotel.agent.invocations", "{invocation}", AggregationTemporality.Cumulative,
            agents.Select(a => Number(Start, Start + (ulong)value * Second, value, Attr("gen_ai.agent.name", a))).ToArray());

        var response = await PostAsync(http, Request([Invocations(1, "a", "b", "c")]));
        Assert.Equal(1, response.PartialSuccess.RejectedDataPoints);
        Assert.Contains("Cardinality:MaxMetricSeriesPerTenant (2)", response.PartialSuccess.ErrorMessage, StringComparison.Ordinal);

        await PostAsync(http, Request([Invocations(4, "a")]));
        var text = await ScrapeAsync(http);
        Assert.Contains("gen_ai_agent_name=\"a\"} 4\n", text, StringComparison.Ordinal);
        Assert.Contains("gen_ai_agent_name=\"b\"} 1\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("gen_ai_agent_name=\"c\"", text, StringComparison.Ordinal);
        Assert.Equal(1, SelfMetric(text, "perfotel_collector_metric_points_dropped_total", "reason=\"series_limit\""));
    }

    [Fact]
    public async Task AttributesThatWouldRepeatTheCollectorsLabels_AreDropped_NoRecordedValueRemovesTheSeries()
    {
        await using var collector = new CollectorFactory(Settings());
        using var http = collector.CreateClient();
        var point = TokenPoint(Start, Start + Second, [0, 1, 0, 0], 2, CallAttributes("input", ("le", "5"), ("job", "spoof"), ("tenant", "other"), ("otel.scope.name", "x")));
        await PostAsync(http, Request([TokenUsage(AggregationTemporality.Cumulative, point)]));
        var text = await ScrapeAsync(http);
        Assert.Equal(ExpectedText[2], Family(text, "gen_ai_client_token_usage")[2]);
        Assert.DoesNotContain("spoof", text, StringComparison.Ordinal);

        var gone = TokenPoint(Start, Start + 2 * Second, [0, 0, 0, 0], 0, CallAttributes("input"));
        gone.Flags = 1; // FLAG_NO_RECORDED_VALUE
        await PostAsync(http, Request([TokenUsage(AggregationTemporality.Cumulative, gone)]));
        Assert.DoesNotContain("gen_ai_client_token_usage", await ScrapeAsync(http), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("2.00:00:00")]
    public async Task InvalidStaleAfter_FailsTheStart_NamingTheSetting(string value)
    {
        await using var collector = new CollectorFactory(Settings(new() { ["OtlpMetrics:StaleAfter"] = value }));
        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => collector.CreateClient());
        Assert.Contains("OtlpMetrics:StaleAfter", error.ToString(), StringComparison.Ordinal);
    }
}

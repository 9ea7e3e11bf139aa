using System.Net;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Logs.V1;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Instrumentation.Conventions;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;

namespace PerfOtel.Collector.Tests.Otlp;

/// <summary>OTLP/HTTP request and response rules: methods, media types, encodings, limits, errors, partial success.</summary>
public sealed class HttpProtocolTests : IAsyncLifetime
{
    private readonly CollectorFactory _collector = new(new() { ["Otlp:MaxRequestBytes"] = (64 * 1024).ToString() });
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        _client = _collector.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _collector.DisposeAsync();
    }

    private static ExportTraceServiceRequest AgentRequest(int n) => Traces(
    [
        Span("invoke_agent planner", TraceId(n), SpanId(n), attributes: [(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent)]),
    ]);

    [Theory]
    [InlineData("GET")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task OtherMethods_Get405WithAllowPost(string method)
    {
        foreach (var path in new[] { "/v1/traces", "/v1/metrics", "/v1/logs" })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path);
            using var response = await _client.SendAsync(request);
            Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
            Assert.Contains("POST", response.Content.Headers.Allow);
        }
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("application/grpc")]
    public async Task OtherMediaTypes_Get415(string mediaType)
    {
        using var response = await _client.PostAsync("/v1/traces", Content(AgentRequest(1).ToByteArray(), mediaType));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains("application/x-protobuf", await response.Content.ReadAsStringAsync());
        Assert.Empty(_collector.Store.Invocations);
    }

    [Fact]
    public async Task UnsupportedContentEncoding_Gets415InTheRequestEncoding()
    {
        var content = Protobuf(AgentRequest(1));
        content.Headers.ContentEncoding.Add("br");
        using var response = await _client.PostAsync("/v1/traces", content);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        var status = Google.Rpc.Status.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
        Assert.Contains("br", status.Message);
    }

    [Fact]
    public async Task UndecodableProtobuf_Gets400WithProtobufStatus()
    {
        using var response = await _client.PostAsync("/v1/traces", Content([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01], "application/x-protobuf"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/x-protobuf", response.Content.Headers.ContentType!.MediaType);
        var status = Google.Rpc.Status.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(3, status.Code);
        Assert.Contains("protobuf", status.Message);
    }

    public static TheoryData<string, byte[], string> MalformedTraceRequests()
    {
        var valid = AgentRequest(1).ToByteArray();
        var badName = AgentRequest(2).ToByteArray();
        badName[badName.AsSpan().IndexOf("planner"u8)] = 0xFF;
        return new()
        {
            // A valid ResourceSpans first: nothing of a request that fails to decode is stored.
            { "truncated varint", [.. valid, 0x0A, 0x80], "truncated varint" },
            { "wrong wire type", [.. valid, 0x08, 0x01], "resource_spans (field 1) has wire type 0 (varint)" },
            { "invalid UTF-8", [.. valid, .. badName], "Span.name at byte" },
            { "length past the end", [.. valid, 0x0A, 0x7F, 0x01], "runs past the end" },
        };
    }

    [Theory]
    [MemberData(nameof(MalformedTraceRequests))]
    public async Task MalformedProtobufTraces_Get400SayingWhatIsWrong_AndNothingIsStored(string what, byte[] body, string message)
    {
        using var response = await _client.PostAsync("/v1/traces", Content(body, "application/x-protobuf"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var status = Google.Rpc.Status.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(3, status.Code);
        Assert.StartsWith("request body is not a valid protobuf ExportTraceServiceRequest: ", status.Message);
        Assert.True(status.Message.Contains(message, StringComparison.Ordinal), $"{what}: '{status.Message}'");
        Assert.Empty(_collector.Store.Invocations);
    }

    [Theory]
    [InlineData("/v1/traces", "{\"resourceSpans\": [")]
    [InlineData("/v1/traces", "{\"resourceSpans\": \"not a list\"}")]
    [InlineData("/v1/logs", "not json at all")]
    [InlineData("/v1/metrics", "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":\"x\",\"gauge\":{\"dataPoints\":[{\"asInt\":\"twelve\"}]}}]}]}]}")]
    public async Task UndecodableJson_Gets400WithJsonStatus(string path, string body)
    {
        using var response = await _client.PostAsync(path, Json(body));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        using var status = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(3, status.RootElement.GetProperty("code").GetInt32());
        Assert.False(string.IsNullOrEmpty(status.RootElement.GetProperty("message").GetString()));
    }

    [Theory]
    [InlineData(new byte[] { (byte)'n', (byte)'o', (byte)'t', (byte)' ', (byte)'g', (byte)'z', (byte)'i', (byte)'p', 0, 0, 0, 0 })]
    [InlineData(new byte[] { 0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02, 0x03, 0x04, 0x00, 0x03, 0xff, 0xff, 0xff })]
    public async Task CorruptGzip_Gets400(byte[] body)
    {
        var content = Content(body, "application/x-protobuf");
        content.Headers.ContentEncoding.Add("gzip");
        using var response = await _client.PostAsync("/v1/traces", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("gzip", Google.Rpc.Status.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync()).Message);
    }

    [Fact]
    public async Task GzipProtobufAndGzipJson_AreAccepted()
    {
        using var protobuf = await _client.PostAsync("/v1/traces", Protobuf(AgentRequest(1), gzip: true));
        Assert.Equal(HttpStatusCode.OK, protobuf.StatusCode);
        var json = """{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"invoke_agent writer","startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000"}]}]}]}""";
        using var jsonResponse = await _client.PostAsync("/v1/traces", Json(json, gzip: true));
        Assert.Equal(HttpStatusCode.OK, jsonResponse.StatusCode);
        Assert.Equal(2, _collector.Store.Invocations.Count);
    }

    [Fact]
    public async Task BodyOverTheLimit_Gets413_WithAndWithoutContentLength()
    {
        var big = Traces(Enumerable.Range(1, 2000).Select(i =>
            Span("invoke_agent a", TraceId(i), SpanId(i), attributes: [(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent)])));
        var bytes = big.ToByteArray();
        Assert.True(bytes.Length > 64 * 1024);

        using var withLength = await _client.PostAsync("/v1/traces", Content(bytes, "application/x-protobuf"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, withLength.StatusCode);

        var chunked = new StreamContent(new NoLengthStream(bytes));
        chunked.Headers.ContentType = new("application/x-protobuf");
        using var withoutLength = await _client.PostAsync("/v1/traces", chunked);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, withoutLength.StatusCode);

        // Small compressed, large inflated: the limit applies after decompression.
        using var gzipped = await _client.PostAsync("/v1/traces", Content(bytes, "application/x-protobuf", gzip: true));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, gzipped.StatusCode);
        Assert.Contains("decompression", Google.Rpc.Status.Parser.ParseFrom(await gzipped.Content.ReadAsByteArrayAsync()).Message);
        Assert.Empty(_collector.Store.Invocations);
    }

    [Fact]
    public async Task EmptyRequests_Get200WithAnEmptyResponseInTheRequestEncoding()
    {
        foreach (var path in new[] { "/v1/traces", "/v1/metrics", "/v1/logs" })
        {
            using var protobuf = await _client.PostAsync(path, Content([], "application/x-protobuf"));
            Assert.Equal(HttpStatusCode.OK, protobuf.StatusCode);
            Assert.Equal("application/x-protobuf", protobuf.Content.Headers.ContentType!.MediaType);
            Assert.Empty(await protobuf.Content.ReadAsByteArrayAsync());

            using var json = await _client.PostAsync(path, Json("{}"));
            Assert.Equal(HttpStatusCode.OK, json.StatusCode);
            Assert.Equal("application/json", json.Content.Headers.ContentType!.MediaType);
            Assert.Equal("{ }", (await json.Content.ReadAsStringAsync()).Trim());
        }
    }

    [Fact]
    public async Task IndividuallyInvalidSpans_AreRejectedInPartialSuccess_AndTheRestIsStored()
    {
        var good = Span("invoke_agent ok", TraceId(7), SpanId(7), attributes: [(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent)]);
        var shortTrace = Span("invoke_agent bad", ByteString.CopyFrom(1, 2, 3, 4), SpanId(8));
        var shortSpan = Span("invoke_agent bad", TraceId(9), ByteString.CopyFrom(1, 2, 3));
        var zeroTrace = Span("invoke_agent bad", ByteString.CopyFrom(new byte[16]), SpanId(10));
        var backwards = Span("invoke_agent bad", TraceId(11), SpanId(11));
        backwards.EndTimeUnixNano = backwards.StartTimeUnixNano - 1;

        using var response = await _client.PostAsync("/v1/traces", Protobuf(Traces([good, shortTrace, shortSpan, zeroTrace, backwards])));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = ExportTraceServiceResponse.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(4, body.PartialSuccess.RejectedSpans);
        Assert.Contains("trace_id must be 16 bytes", body.PartialSuccess.ErrorMessage);
        Assert.Contains("span_id must be 8 bytes", body.PartialSuccess.ErrorMessage);
        Assert.Contains("end_time_unix_nano", body.PartialSuccess.ErrorMessage);
        Assert.Equal("ok", Assert.Single(_collector.Store.Invocations).AgentName);
    }

    [Fact]
    public async Task PartialSuccess_InJson_UsesLowerCamelCase()
    {
        var json = """{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"eee1","name":"x","startTimeUnixNano":"1700000000000000001","endTimeUnixNano":"1700000000000000002"}]}]}]}""";
        using var response = await _client.PostAsync("/v1/traces", Json(json));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var partial = body.RootElement.GetProperty("partialSuccess");
        Assert.Equal("1", partial.GetProperty("rejectedSpans").ToString());
        Assert.Contains("span_id", partial.GetProperty("errorMessage").GetString());
    }

    [Fact]
    public async Task EvaluationLogRecords_AreStored_AndUnattributableOnesRejected()
    {
        var request = new ExportLogsServiceRequest
        {
            ResourceLogs =
            {
                new ResourceLogs
                {
                    Resource = new() { Attributes = { Attr(PerfOtelAttributes.Tenant, "acme") } },
                    ScopeLogs =
                    {
                        new ScopeLogs
                        {
                            LogRecords =
                            {
                                new LogRecord
                                {
                                    TimeUnixNano = BaseTimeNanos, EventName = GenAiEvents.EvaluationResult, TraceId = TraceId(3), SpanId = SpanId(3),
                                    Attributes = { Attr(GenAiAttributes.EvaluationName, "faithfulness"), Attr(GenAiAttributes.EvaluationScoreValue, 0.4), Attr(GenAiAttributes.EvaluationScoreLabel, "poor") },
                                },
                                // Older SDKs name the event in an attribute instead of the event_name field.
                                new LogRecord
                                {
                                    TimeUnixNano = BaseTimeNanos + 1, TraceId = TraceId(3), SpanId = SpanId(3),
                                    Attributes = { Attr("event.name", GenAiEvents.EvaluationResult), Attr(GenAiAttributes.EvaluationName, "relevance"), Attr(GenAiAttributes.EvaluationScoreValue, 1) },
                                },
                                new LogRecord { TimeUnixNano = BaseTimeNanos, EventName = GenAiEvents.EvaluationResult, Attributes = { Attr(GenAiAttributes.EvaluationName, "orphan") } },
                                new LogRecord { TimeUnixNano = BaseTimeNanos, Body = new AnyValue { StringValue = "plain application log" } },
                            },
                        },
                    },
                },
            },
        };

        using var response = await _client.PostAsync("/v1/logs", Protobuf(request));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = ExportLogsServiceResponse.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(1, body.PartialSuccess.RejectedLogRecords);
        Assert.Contains("trace_id and span_id", body.PartialSuccess.ErrorMessage);

        var evaluations = _collector.Store.Evaluations.OrderBy(e => e.Name).ToList();
        Assert.Equal(["faithfulness", "relevance"], evaluations.Select(e => e.Name));
        Assert.All(evaluations, e => Assert.Equal("acme", e.Tenant));
        Assert.Equal(0.4, evaluations[0].Score);
        Assert.Equal("poor", evaluations[0].Label);
        Assert.Equal(Hex(SpanId(3)), evaluations[0].SpanId);

        // Re-sent, the same records keep their identity (the store dedupes on it).
        using var again = await _client.PostAsync("/v1/logs", Protobuf(request));
        Assert.Equal(2, _collector.Store.Evaluations.Count);
    }

    [Fact]
    public async Task Metrics_AreValidated_AndNamelessMetricsRejectedInPartialSuccess()
    {
        var json = """
        {"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"agent"}}]},
          "scopeMetrics":[{"scope":{"name":"m"},"metrics":[
            {"name":"gen_ai.client.token.usage","unit":"{token}","histogram":{"aggregationTemporality":2,"dataPoints":[
              {"startTimeUnixNano":"1544712660300000000","timeUnixNano":"1544712660300000000","count":"2","sum":150,
               "bucketCounts":["0","1","1"],"explicitBounds":[100,1000],"attributes":[{"key":"gen_ai.token.type","value":{"stringValue":"input"}}]}]}},
            {"name":"","gauge":{"dataPoints":[{"asDouble":1.5},{"asInt":"3"}]}}]}]}]}
        """;
        using var response = await _client.PostAsync("/v1/metrics", Json(json));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("2", body.RootElement.GetProperty("partialSuccess").GetProperty("rejectedDataPoints").ToString());

        var valid = new ExportMetricsServiceRequest();
        using var ok = await _client.PostAsync("/v1/metrics", Protobuf(valid));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    /// <summary>A body stream whose length is unknown, so the client sends it chunked.</summary>
    private sealed class NoLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}

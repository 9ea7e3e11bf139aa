using System.Net;
using System.Text.Json;
using PerfOtel.Collector.Tests.Otlp.Support;

namespace PerfOtel.Collector.Tests.Otlp;

/// <summary>OTLP/JSON specifics: hex ids, 64-bit integers as strings or numbers, integer enums, unknown fields.</summary>
public sealed class JsonEncodingTests : IAsyncLifetime
{
    private readonly CollectorFactory _collector = new();
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

    // Shaped like the trace example of the OTLP specification (examples/trace.json), with GenAI attributes.
    private const string SpecificationStyleTrace = """
    {
      "resourceSpans": [
        {
          "resource": {
            "attributes": [
              { "key": "service.name", "value": { "stringValue": "my.service" } },
              { "key": "perfotel.tenant", "value": { "stringValue": "team-a" } }
            ]
          },
          "scopeSpans": [
            {
              "scope": {
                "name": "my.library",
                "version": "1.0.0",
                "attributes": [ { "key": "my.scope.attribute", "value": { "stringValue": "some scope attribute" } } ]
              },
              "spans": [
                {
                  "traceId": "5B8EFFF798038103D269B633813FC60C",
                  "spanId": "EEE19B7EC3C1B174",
                  "parentSpanId": "",
                  "name": "invoke_agent researcher",
                  "startTimeUnixNano": "1544712660000000000",
                  "endTimeUnixNano": "1544712661000000000",
                  "kind": 1,
                  "attributes": [
                    { "key": "gen_ai.operation.name", "value": { "stringValue": "invoke_agent" } },
                    { "key": "gen_ai.agent.name", "value": { "stringValue": "researcher" } },
                    { "key": "perfotel.confidence", "value": { "doubleValue": 0.8 } },
                    { "key": "my.array", "value": { "arrayValue": { "values": [ { "stringValue": "x" }, { "intValue": "2" } ] } } },
                    { "key": "my.map", "value": { "kvlistValue": { "values": [ { "key": "nested", "value": { "boolValue": true } } ] } } },
                    { "key": "my.bytes", "value": { "bytesValue": "aGVsbG8=" } }
                  ],
                  "events": [
                    {
                      "timeUnixNano": "1544712660500000000",
                      "name": "gen_ai.evaluation.result",
                      "attributes": [
                        { "key": "gen_ai.evaluation.name", "value": { "stringValue": "groundedness" } },
                        { "key": "gen_ai.evaluation.score.value", "value": { "doubleValue": 0.5 } }
                      ]
                    }
                  ],
                  "status": { "code": 2, "message": "tool failed" },
                  "aFieldFromTheFuture": { "with": ["anything", 1, null] }
                },
                {
                  "traceId": "5b8efff798038103d269b633813fc60c",
                  "spanId": "0102030405060708",
                  "parentSpanId": "eee19b7ec3c1b174",
                  "name": "chat claude-sonnet-4",
                  "startTimeUnixNano": 1544712660100000000,
                  "endTimeUnixNano": 1544712660600000000,
                  "kind": 3,
                  "attributes": [
                    { "key": "gen_ai.operation.name", "value": { "stringValue": "chat" } },
                    { "key": "gen_ai.provider.name", "value": { "stringValue": "anthropic" } },
                    { "key": "gen_ai.usage.input_tokens", "value": { "intValue": "4294967297" } },
                    { "key": "gen_ai.usage.output_tokens", "value": { "intValue": 42 } }
                  ]
                }
              ]
            }
          ]
        }
      ]
    }
    """;

    [Fact]
    public async Task SpecificationStylePayload_IsDecodedWithHexIdsAndIntegerEnums()
    {
        using var response = await _client.PostAsync("/v1/traces", OtlpBuilders.Json(SpecificationStyleTrace));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);

        var invocation = Assert.Single(_collector.Store.Invocations);
        Assert.Equal("5b8efff798038103d269b633813fc60c", invocation.TraceId);
        Assert.Equal("eee19b7ec3c1b174", invocation.SpanId);
        Assert.Null(invocation.ParentSpanId);
        Assert.Equal("team-a", invocation.Tenant);
        Assert.Equal("my.service", invocation.ServiceName);
        Assert.Equal("failure", invocation.Outcome);
        Assert.Equal(0.8, invocation.Confidence);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1544712660000), invocation.StartTime);
        Assert.Equal(1.0, invocation.DurationSeconds);

        var call = Assert.Single(_collector.Store.ProviderCalls);
        Assert.Equal("0102030405060708", call.SpanId);
        Assert.Equal("eee19b7ec3c1b174", call.InvocationSpanId);
        Assert.Equal("researcher", call.AgentName);
        Assert.Equal(4294967297, call.Tokens.Input);
        Assert.Equal(42, call.Tokens.Output);
        Assert.Equal(0.5, call.DurationSeconds, 9);

        var evaluation = Assert.Single(_collector.Store.Evaluations);
        Assert.Equal("groundedness", evaluation.Name);
        Assert.Equal(0.5, evaluation.Score);
    }

    [Theory]
    [InlineData("1700000000000000001", "1700000000000000301")]
    [InlineData("\"1700000000000000001\"", "\"1700000000000000301\"")]
    public async Task SixtyFourBitTimes_AsNumbersOrStrings_KeepEveryNanosecond(string start, string end)
    {
        // As doubles both would round to multiples of 256 ns and the 300 ns duration would come out as 256 ns.
        var json = $$"""
        {"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"00000000000000000000000000000abc","spanId":"0000000000000abc",
          "name":"execute_tool search","startTimeUnixNano":{{start}},"endTimeUnixNano":{{end}}}]}]}]}
        """;
        using var response = await _client.PostAsync("/v1/traces", OtlpBuilders.Json(json));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var tool = Assert.Single(_collector.Store.ToolCalls);
        Assert.Equal(300e-9, tool.DurationSeconds, 15);
        Assert.Equal("search", tool.ToolName);
    }

    [Theory]
    [InlineData("\"zz8efff798038103d269b633813fc60c\"", "\"eee19b7ec3c1b174\"")]
    [InlineData("\"5b8efff798038103d269b633813fc6\"", "\"eee19b7ec3c1b174\"")]
    [InlineData("\"5b8efff798038103d269b633813fc60c\"", "\"W4737/eYAQ==\"")]
    public async Task BadHexIds_RejectTheSpan_NotTheRequest(string traceId, string spanId)
    {
        var json = $$"""
        {"resourceSpans":[{"scopeSpans":[{"spans":[
          {"traceId":{{traceId}},"spanId":{{spanId}},"name":"invoke_agent a","startTimeUnixNano":"1700000000000000001","endTimeUnixNano":"1700000000000000002"},
          {"traceId":"5b8efff798038103d269b633813fc60d","spanId":"eee19b7ec3c1b175","name":"invoke_agent b","startTimeUnixNano":"1700000000000000001","endTimeUnixNano":"1700000000000000002"}]}]}]}
        """;
        using var response = await _client.PostAsync("/v1/traces", OtlpBuilders.Json(json));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("1", body.RootElement.GetProperty("partialSuccess").GetProperty("rejectedSpans").ToString());
        Assert.Equal("b", Assert.Single(_collector.Store.Invocations).AgentName);
    }

    [Fact]
    public async Task SpecificationStyleLogPayload_StoresEvaluations()
    {
        var json = """
        {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"evaluator"}}]},
          "scopeLogs":[{"scope":{"name":"evals"},"logRecords":[
            {"timeUnixNano":"1544712660300000000","observedTimeUnixNano":"1544712660300000000","severityNumber":9,"severityText":"Info",
             "traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","eventName":"gen_ai.evaluation.result",
             "body":{"stringValue":"evaluation finished"},
             "attributes":[{"key":"gen_ai.evaluation.name","value":{"stringValue":"toxicity"}},
                           {"key":"gen_ai.evaluation.score.value","value":{"doubleValue":0.02}},
                           {"key":"perfotel.tenant","value":{"stringValue":"team-b"}}]}]}]}]}
        """;
        using var response = await _client.PostAsync("/v1/logs", OtlpBuilders.Json(json));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var evaluation = Assert.Single(_collector.Store.Evaluations);
        Assert.Equal("toxicity", evaluation.Name);
        Assert.Equal("team-b", evaluation.Tenant);
        Assert.Equal("eee19b7ec3c1b174", evaluation.SpanId);
        Assert.True(evaluation.Sequence < 0, "log-record evaluations are keyed apart from span-event positions");
    }

    [Fact]
    public async Task EscapedNamesAndValues_AreDecodedLikeTheirPlainForms()
    {
        var json = """
        {"resourceSpans":[{"scopeSpans":[{"spans":[{"\u0074raceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
          "name":"invoke_agent x","startTimeUnixNano":"1700000000000000001","endTimeUnixNano":"1700000000000000002",
          "attributes":[{"key":"gen_ai.agent.name","value":{"stringValue":"r\u00e9sum\u00e9 \"bot\" \ud83e\udd16"}}]}]}]}]}
        """;
        using var response = await _client.PostAsync("/v1/traces", OtlpBuilders.Json(json));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var invocation = Assert.Single(_collector.Store.Invocations);
        Assert.Equal("5b8efff798038103d269b633813fc60c", invocation.TraceId);
        Assert.Equal("résumé \"bot\" 🤖", invocation.AgentName);
    }
}

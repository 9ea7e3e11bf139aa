using System.Globalization;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Logs.V1;
using OpenTelemetry.Proto.Collector.Metrics.V1;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Logs.V1;
using OpenTelemetry.Proto.Metrics.V1;
using OpenTelemetry.Proto.Resource.V1;
using OpenTelemetry.Proto.Trace.V1;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Tests.Hostile;

/// <summary>What the collector must do with a hostile request.</summary>
internal enum Expect
{
    /// <summary>400 with a google.rpc.Status (or, on the feedback endpoint, a JSON error naming the field).</summary>
    BadRequest,
    TooLarge,
    UnsupportedMediaType,
    /// <summary>200/202: accepted, with whatever was unusable sanitised as the README documents.</summary>
    Accepted,
    /// <summary>200 with partial_success naming the refused items.</summary>
    PartiallyRejected,
}

/// <summary>One malformed or malicious request. <c>Stored</c> names the trace whose stored form the test then checks.</summary>
internal sealed record HostileCase(string Name, string Path, Func<HttpContent> Body, Expect Expect, string? Trace = null)
{
    public override string ToString() => Name;
}

/// <summary>
/// The hostile-input corpus: every way a client (buggy or malicious) can send the collector something it should not
/// store as-is, for traces, metrics, logs and feedback, in both OTLP encodings.
/// </summary>
internal static class HostileCorpus
{
    public const string Tenant = "hostile";
    public const int MaxNameLength = 256;

    private static readonly ulong Now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000;

    /// <summary>Names that try every escape: SQL, Prometheus exposition, HTML, terminal control, and sheer length.</summary>
    public static readonly IReadOnlyList<string> InjectionNames =
    [
        "x'); DROP TABLE invocations; --",
        "a\"b\\\"} evil_metric{x=\"1\"} 1\n# HELP",
        "line\nbreak\rreturn",
        "<script>alert('x')</script>",
        "nul\u0000bell\u0007esc\u001b[31mdel\u007f",
        "\u202Eright-to-left override",
        new string('n', 10_000),
    ];

    public static IReadOnlyList<HostileCase> All { get; } = Build();

    private static List<HostileCase> Build()
    {
        var cases = new List<HostileCase>();
        var valid = ValidTraces(1).ToByteArray();

        // Encoding and framing.
        cases.Add(new("traces/protobuf truncated", "/v1/traces", () => Protobuf(valid[..(valid.Length / 2)]), Expect.BadRequest));
        cases.Add(new("traces/protobuf invalid wire type", "/v1/traces", () => Protobuf([0x0F, 0xFF, 0xFF, 0xFF]), Expect.BadRequest));
        cases.Add(new("traces/protobuf length past end", "/v1/traces", () => Protobuf([0x0A, 0xFF, 0xFF, 0xFF, 0x0F, 0x01]), Expect.BadRequest));
        cases.Add(new("traces/protobuf random bytes", "/v1/traces", () => Protobuf(RandomBytes(4096, seed: 7)), Expect.BadRequest));
        cases.Add(new("metrics/protobuf truncated", "/v1/metrics", () => Protobuf(ValidMetrics().ToByteArray()[..7]), Expect.BadRequest));
        cases.Add(new("logs/protobuf truncated", "/v1/logs", () => Protobuf(Logs(EvaluationLog("ok", 0.5, 1)).ToByteArray()[..9]), Expect.BadRequest));
        cases.Add(new("traces/json not json", "/v1/traces", () => Json("resourceSpans: nope"), Expect.BadRequest));
        cases.Add(new("traces/json unterminated", "/v1/traces", () => Json("""{"resourceSpans": [{"scopeSpans": ["""), Expect.BadRequest));
        cases.Add(new("traces/json wrong types", "/v1/traces", () => Json("""{"resourceSpans": 5}"""), Expect.BadRequest));
        cases.Add(new("traces/json trailing garbage", "/v1/traces", () => Json("""{"resourceSpans": []} {"again": 1}"""), Expect.BadRequest));
        cases.Add(new("metrics/json wrong types", "/v1/metrics", () => Json("""{"resourceMetrics": [{"scopeMetrics": "x"}]}"""), Expect.BadRequest));
        cases.Add(new("logs/json not json", "/v1/logs", () => Json("{{{{"), Expect.BadRequest));
        cases.Add(new("traces/unknown content type", "/v1/traces", () => Raw(valid, "text/xml"), Expect.UnsupportedMediaType));
        cases.Add(new("traces/unknown content encoding", "/v1/traces", () => WithEncoding(Protobuf(valid), "br"), Expect.UnsupportedMediaType));
        cases.Add(new("traces/gzip corrupt", "/v1/traces", () => WithEncoding(Protobuf(RandomBytes(512, seed: 3)), "gzip"), Expect.BadRequest));
        cases.Add(new("traces/gzip truncated", "/v1/traces", () => WithEncoding(Protobuf(Gzip(valid)[..20]), "gzip"), Expect.BadRequest));
        cases.Add(new("traces/gzip bomb (64 MiB of zeros)", "/v1/traces", () => WithEncoding(Protobuf(GzipBomb.Value), "gzip"), Expect.TooLarge));
        cases.Add(new("logs/gzip bomb (64 MiB of zeros)", "/v1/logs", () => WithEncoding(Json(GzipBomb.Value), "gzip"), Expect.TooLarge));
        cases.Add(new("metrics/gzip bomb (64 MiB of zeros)", "/v1/metrics", () => WithEncoding(Protobuf(GzipBomb.Value), "gzip"), Expect.TooLarge));
        cases.Add(new("traces/body over the limit", "/v1/traces", () => Protobuf(new byte[21 * 1024 * 1024]), Expect.TooLarge));

        // Invalid UTF-8: protobuf strings must be UTF-8 (proto3), JSON text must be UTF-8 (RFC 8259).
        // Google.Protobuf 3.36 (which Grpc.AspNetCore needs) refuses invalid UTF-8 in proto3 strings, as the protobuf
        // specification says: the message is malformed, so the sender hears 400 / INVALID_ARGUMENT naming it.
        cases.Add(new("traces/protobuf invalid utf-8 in a name", "/v1/traces", () => Protobuf(InvalidUtf8Traces()), Expect.BadRequest));
        cases.Add(new("traces/json invalid utf-8", "/v1/traces", () => Raw(InvalidUtf8Json(), "application/json"), Expect.Accepted, "json invalid utf-8"));
        cases.Add(new("traces/json lone surrogate escape", "/v1/traces", () => Json(OtlpJsonAgent("json lone surrogate", "agent\\ud800x")), Expect.BadRequest));

        // Nesting beyond limits, and just within them.
        cases.Add(new("traces/protobuf kvlist nested 200 deep", "/v1/traces", () => Protobuf(Traces(Agent("nested 200", ("hostile.nested", Nested(200, kvlist: true))))), Expect.BadRequest));
        cases.Add(new("traces/protobuf array nested 200 deep", "/v1/traces", () => Protobuf(Traces(Agent("array 200", ("hostile.nested", Nested(200, kvlist: false))))), Expect.BadRequest));
        cases.Add(new("traces/protobuf kvlist nested 20 deep", "/v1/traces", () => Protobuf(Traces(Agent("nested 20", ("hostile.nested", Nested(20, kvlist: true))))), Expect.Accepted, "nested 20"));
        cases.Add(new("traces/json kvlist nested 200 deep", "/v1/traces", () => Json(NestedJson(200)), Expect.BadRequest));
        cases.Add(new("traces/json arrays nested 10000 deep", "/v1/traces", () => Json(new string('[', 10_000) + new string(']', 10_000)), Expect.BadRequest));

        // Size: huge strings, arrays and counts inside the request limit.
        cases.Add(new("traces/huge agent name (5 MB)", "/v1/traces", () => Protobuf(Traces(Agent("huge name", (GenAiAttributes.AgentName, Str(new string('A', 5_000_000)))))), Expect.Accepted, "huge name"));
        cases.Add(new("traces/huge allowlisted array (500 000 items)", "/v1/traces", () => Protobuf(Traces(Agent("huge array", ("hostile.array", HugeArray(500_000))))), Expect.Accepted, "huge array"));
        cases.Add(new("traces/huge allowlisted string (2 MB)", "/v1/traces", () => Protobuf(Traces(Agent("huge string", ("hostile.text", Str(new string('x', 2_000_000)))))), Expect.Accepted, "huge string"));
        cases.Add(new("traces/50 000 attributes on one span", "/v1/traces", () => Protobuf(Traces(Agent("many attributes", [.. Enumerable.Range(0, 50_000).Select(i => ("hostile.k" + i.ToString(CultureInfo.InvariantCulture), Str("v")))]))), Expect.Accepted, "many attributes"));

        // Numbers: NaN and infinities everywhere a number is read.
        cases.Add(new("traces/NaN and infinite numbers", "/v1/traces", () => Protobuf(Traces(NonFiniteAgent("non-finite"))), Expect.Accepted, "non-finite"));
        cases.Add(new("traces/json NaN and infinite numbers", "/v1/traces", () => Json(NonFiniteJson("json non-finite")), Expect.Accepted, "json non-finite"));
        cases.Add(new("traces/absurd token counts and cost", "/v1/traces", () => Protobuf(Traces(AbsurdAgent("absurd"))), Expect.Accepted, "absurd"));
        cases.Add(new("logs/NaN evaluation score", "/v1/logs", () => Protobuf(Logs(EvaluationLog("nan-eval", double.NaN, 77))), Expect.Accepted));
        cases.Add(new("metrics/NaN, infinite and negative points", "/v1/metrics", () => Protobuf(NonFiniteMetrics()), Expect.Accepted));
        cases.Add(new("metrics/histogram with mismatched buckets", "/v1/metrics", () => Protobuf(BadHistogram()), Expect.PartiallyRejected));

        // Time: negative durations, missing and absurd timestamps.
        cases.Add(new("traces/end before start", "/v1/traces", () => Protobuf(Traces(Agent("negative duration", end: Now - 5_000_000_000))), Expect.PartiallyRejected));
        cases.Add(new("traces/no start time", "/v1/traces", () => Protobuf(Traces(Agent("no start", start: 0, end: Now))), Expect.PartiallyRejected));
        cases.Add(new("traces/start in year 2500", "/v1/traces", () => Protobuf(Traces(Agent("far future", start: 16_725_225_600_000_000_000, end: 16_725_225_601_000_000_000))), Expect.PartiallyRejected));
        cases.Add(new("traces/start at the largest timestamp", "/v1/traces", () => Protobuf(Traces(Agent("max time", start: ulong.MaxValue - 1, end: ulong.MaxValue))), Expect.PartiallyRejected));
        cases.Add(new("traces/start one nanosecond after 1970", "/v1/traces", () => Protobuf(Traces(Agent("far past", start: 1, end: 2))), Expect.PartiallyRejected));
        cases.Add(new("traces/duration of 500 years", "/v1/traces", () => Protobuf(Traces(Agent("long duration", start: Now, end: Now + 15_778_800_000_000_000_000))), Expect.PartiallyRejected));
        cases.Add(new("logs/evaluation in year 2500", "/v1/logs", () => Protobuf(Logs(EvaluationLog("future-eval", 0.5, 78, time: 16_725_225_600_000_000_000))), Expect.PartiallyRejected));

        // Injection strings in every name field.
        for (var i = 0; i < InjectionNames.Count; i++)
        {
            var name = InjectionNames[i];
            var label = "injection " + i.ToString(CultureInfo.InvariantCulture);
            cases.Add(new($"traces/{label} in every name", "/v1/traces", () => Protobuf(InjectionTraces(label, name)), Expect.Accepted, label));
            cases.Add(new($"traces/json {label} in the agent name", "/v1/traces", () => Json(OtlpJsonAgent("json " + label, name)), Expect.Accepted, "json " + label));
            cases.Add(new($"logs/{label} as evaluation name and tenant", "/v1/logs", () => Protobuf(Logs(EvaluationLog(name, 0.5, 100 + i, tenant: name))), Expect.Accepted));
            cases.Add(new($"metrics/{label} as metric and attribute name", "/v1/metrics", () => Protobuf(InjectionMetrics(name)), Expect.Accepted));
            cases.Add(new($"feedback/{label} as task id", "/api/v1/feedback", () => Json(FeedbackJson(name)), name.Length > MaxNameLength ? Expect.BadRequest : Expect.Accepted));
        }

        // Feedback.
        cases.Add(new("feedback/not json", "/api/v1/feedback", () => Json("{taskId: 1"), Expect.BadRequest));
        cases.Add(new("feedback/invalid utf-8", "/api/v1/feedback", () => Raw([.. "{\"taskId\": \""u8, 0xC3, 0x28, .. "\", \"success\": true}"u8], "application/json"), Expect.BadRequest));
        cases.Add(new("feedback/NaN score", "/api/v1/feedback", () => Json("""{"taskId": "t-nan", "score": NaN}"""), Expect.BadRequest));
        cases.Add(new("feedback/NaN score as a string", "/api/v1/feedback", () => Json("""{"taskId": "t-nan", "score": "NaN"}"""), Expect.BadRequest));
        cases.Add(new("feedback/score 1e400", "/api/v1/feedback", () => Json("""{"taskId": "t-inf", "score": 1e400}"""), Expect.BadRequest));
        cases.Add(new("feedback/nested 10000 deep", "/api/v1/feedback", () => Json("""{"taskId": "t-deep", "predicted": """ + new string('[', 10_000) + new string(']', 10_000) + """, "actual": 1}"""), Expect.BadRequest));
        cases.Add(new("feedback/2 MB body", "/api/v1/feedback", () => Json("{\"taskId\": \"t-big\", \"success\": true, \"comment\": \"" + new string('x', 2_000_000) + "\"}"), Expect.TooLarge));
        cases.Add(new("feedback/wrong content type", "/api/v1/feedback", () => Raw("{}"u8.ToArray(), "text/plain"), Expect.UnsupportedMediaType));
        cases.Add(new("feedback/huge predicted and actual arrays", "/api/v1/feedback", () => Json(HugeFeedbackJson()), Expect.Accepted));
        return cases;
    }

    public static ExportTraceServiceRequest ValidTraces(int seed, string tenant = "probe") =>
        Traces(Agent("valid " + seed.ToString(CultureInfo.InvariantCulture), (PerfOtelAttributes.Tenant, Str(tenant))));

    /// <summary>The trace id a case's spans carry, derived from its label so the test can find what was stored.</summary>
    public static string TraceIdHex(string label) => Convert.ToHexStringLower(TraceId(label).Span);

    private static ByteString TraceId(string label)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(label));
        return ByteString.CopyFrom(hash.AsSpan(0, 16));
    }

    private static ByteString SpanId(string label, int n)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(label + "/" + n.ToString(CultureInfo.InvariantCulture)));
        hash[0] |= 1;
        return ByteString.CopyFrom(hash.AsSpan(0, 8));
    }

    private static AnyValue Str(string value) => new() { StringValue = value };

    private static AnyValue Dbl(double value) => new() { DoubleValue = value };

    private static Span Agent(string label, params (string Key, AnyValue Value)[] attributes) => Agent(label, Now, Now + 1_000_000_000, attributes);

    private static Span Agent(string label, ulong? start = null, ulong? end = null, params (string Key, AnyValue Value)[] attributes)
    {
        var span = new Span
        {
            TraceId = TraceId(label),
            SpanId = SpanId(label, 0),
            Name = "invoke_agent hostile",
            StartTimeUnixNano = start ?? Now,
            EndTimeUnixNano = end ?? (start ?? Now) + 1_000_000_000,
        };
        span.Attributes.Add(new KeyValue { Key = GenAiAttributes.OperationName, Value = Str(GenAiOperations.InvokeAgent) });
        foreach (var (key, value) in attributes)
        {
            span.Attributes.Add(new KeyValue { Key = key, Value = value });
        }

        return span;
    }

    private static Span Child(string label, int n, string name, params (string Key, AnyValue Value)[] attributes)
    {
        var span = new Span
        {
            TraceId = TraceId(label),
            SpanId = SpanId(label, n),
            ParentSpanId = SpanId(label, 0),
            Name = name,
            StartTimeUnixNano = Now,
            EndTimeUnixNano = Now + 500_000_000,
        };
        foreach (var (key, value) in attributes)
        {
            span.Attributes.Add(new KeyValue { Key = key, Value = value });
        }

        return span;
    }

    public static ExportTraceServiceRequest Traces(params Span[] spans)
    {
        var resource = new Resource();
        resource.Attributes.Add(new KeyValue { Key = PerfOtelAttributes.Tenant, Value = Str(Tenant) });
        var scope = new ScopeSpans();
        scope.Spans.AddRange(spans);
        var resourceSpans = new ResourceSpans { Resource = resource };
        resourceSpans.ScopeSpans.Add(scope);
        var request = new ExportTraceServiceRequest();
        request.ResourceSpans.Add(resourceSpans);
        return request;
    }

    private static ExportTraceServiceRequest InjectionTraces(string label, string name)
    {
        var agent = Agent(label,
            (GenAiAttributes.AgentName, Str(name)),
            (PerfOtelAttributes.Tenant, Str(name)),
            (PerfOtelAttributes.TaskType, Str(name)),
            (PerfOtelAttributes.AgentType, Str(name)),
            (PerfOtelAttributes.TaskId, Str(name)),
            (PerfOtelAttributes.Experiment, Str(name)),
            (PerfOtelAttributes.Variant, Str(name)),
            (GenAiAttributes.ErrorType, Str(name)),
            (PerfOtelAttributes.Confidence, Dbl(0.5)));
        agent.Events.Add(new Span.Types.Event
        {
            Name = GenAiEvents.EvaluationResult,
            TimeUnixNano = Now,
            Attributes =
            {
                new KeyValue { Key = GenAiAttributes.EvaluationName, Value = Str(name) },
                new KeyValue { Key = GenAiAttributes.EvaluationScoreValue, Value = Dbl(0.5) },
                new KeyValue { Key = GenAiAttributes.EvaluationScoreLabel, Value = Str(name) },
            },
        });
        var chat = Child(label, 1, "chat " + name,
            (GenAiAttributes.OperationName, Str(GenAiOperations.Chat)),
            (GenAiAttributes.ProviderName, Str(name)),
            (GenAiAttributes.RequestModel, Str(name)),
            (GenAiAttributes.UsageInputTokens, new AnyValue { IntValue = 10 }),
            (PerfOtelAttributes.FallbackFrom, Str(name)));
        var tool = Child(label, 2, "execute_tool " + name,
            (GenAiAttributes.OperationName, Str(GenAiOperations.ExecuteTool)));
        return Traces(agent, chat, tool);
    }

    private static Span NonFiniteAgent(string label)
    {
        var agent = Agent(label,
            (PerfOtelAttributes.Confidence, Dbl(double.NaN)),
            (PerfOtelAttributes.Quality, Dbl(double.PositiveInfinity)),
            (PerfOtelAttributes.CostUsd, Dbl(double.NegativeInfinity)),
            (GenAiAttributes.UsageInputTokens, Dbl(double.NaN)),
            (GenAiAttributes.UsageOutputTokens, Dbl(double.PositiveInfinity)),
            ("hostile.number", Dbl(double.NaN)));
        agent.Events.Add(new Span.Types.Event
        {
            Name = GenAiEvents.EvaluationResult,
            TimeUnixNano = Now,
            Attributes =
            {
                new KeyValue { Key = GenAiAttributes.EvaluationName, Value = Str("nan-score") },
                new KeyValue { Key = GenAiAttributes.EvaluationScoreValue, Value = Dbl(double.NaN) },
            },
        });
        return agent;
    }

    private static Span AbsurdAgent(string label) => Agent(label,
        (PerfOtelAttributes.Confidence, Dbl(1e308)),
        (PerfOtelAttributes.CostUsd, Dbl(1e300)),
        (GenAiAttributes.UsageInputTokens, new AnyValue { IntValue = long.MaxValue }),
        (GenAiAttributes.UsageOutputTokens, new AnyValue { IntValue = long.MaxValue }),
        (GenAiAttributes.UsageCacheReadInputTokens, new AnyValue { IntValue = -5 }));

    private static AnyValue Nested(int depth, bool kvlist)
    {
        var value = Str("bottom");
        for (var i = 0; i < depth; i++)
        {
            value = kvlist
                ? new AnyValue { KvlistValue = new KeyValueList { Values = { new KeyValue { Key = "k", Value = value } } } }
                : new AnyValue { ArrayValue = new ArrayValue { Values = { value } } };
        }

        return value;
    }

    private static AnyValue HugeArray(int count)
    {
        var array = new ArrayValue();
        for (var i = 0; i < count; i++)
        {
            array.Values.Add(new AnyValue { IntValue = i });
        }

        return new AnyValue { ArrayValue = array };
    }

    private static string OtlpJsonAgent(string label, string rawOrEscapedName)
    {
        // The name is written as a JSON string literal; callers that want a raw escape (\ud800) pass it already escaped.
        var name = rawOrEscapedName.Contains("\\u", StringComparison.Ordinal) ? rawOrEscapedName : JsonString(rawOrEscapedName)[1..^1];
        return $$$"""
            {"resourceSpans":[{"resource":{"attributes":[{"key":"perfotel.tenant","value":{"stringValue":"{{{Tenant}}}"}}]},
             "scopeSpans":[{"spans":[{"traceId":"{{{TraceIdHex(label)}}}","spanId":"{{{Convert.ToHexStringLower(SpanId(label, 0).Span)}}}",
              "name":"invoke_agent hostile","startTimeUnixNano":"{{{Now}}}","endTimeUnixNano":"{{{Now + 1_000_000_000}}}",
              "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"invoke_agent"}},
                            {"key":"gen_ai.agent.name","value":{"stringValue":"{{{name}}}"}}]}]}]}]}
            """;
    }

    private static string NonFiniteJson(string label) => $$$"""
        {"resourceSpans":[{"resource":{"attributes":[{"key":"perfotel.tenant","value":{"stringValue":"{{{Tenant}}}"}}]},
         "scopeSpans":[{"spans":[{"traceId":"{{{TraceIdHex(label)}}}","spanId":"{{{Convert.ToHexStringLower(SpanId(label, 0).Span)}}}",
          "name":"invoke_agent hostile","startTimeUnixNano":"{{{Now}}}","endTimeUnixNano":"{{{Now + 1_000_000_000}}}",
          "attributes":[{"key":"gen_ai.operation.name","value":{"stringValue":"invoke_agent"}},
                        {"key":"perfotel.confidence","value":{"doubleValue":"NaN"}},
                        {"key":"perfotel.cost.usd","value":{"doubleValue":"Infinity"}},
                        {"key":"gen_ai.usage.input_tokens","value":{"doubleValue":"-Infinity"}},
                        {"key":"gen_ai.usage.output_tokens","value":{"stringValue":"NaN"}}]}]}]}]}
        """;

    private static string NestedJson(int depth)
    {
        var value = """{"stringValue":"bottom"}""";
        for (var i = 0; i < depth; i++)
        {
            value = $$$"""{"kvlistValue":{"values":[{"key":"k","value":{{{value}}}}]}}""";
        }

        return $$$"""
            {"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"{{{TraceIdHex("json nested")}}}","spanId":"{{{Convert.ToHexStringLower(SpanId("json nested", 0).Span)}}}",
              "name":"invoke_agent hostile","startTimeUnixNano":"{{{Now}}}","endTimeUnixNano":"{{{Now + 1}}}",
              "attributes":[{"key":"hostile.nested","value":{{{value}}}}]}]}]}]}
            """;
    }

    private static byte[] InvalidUtf8Traces()
    {
        // Built with a placeholder, then the placeholder's bytes are replaced by an invalid sequence of the same length.
        var bytes = Traces(Agent("protobuf invalid utf-8", (GenAiAttributes.AgentName, Str("bad-@@@@-name")))).ToByteArray();
        var at = bytes.AsSpan().IndexOf("@@@@"u8);
        bytes[at] = 0xC3;
        bytes[at + 1] = 0x28;
        bytes[at + 2] = 0xFF;
        bytes[at + 3] = 0xFE;
        return bytes;
    }

    private static byte[] InvalidUtf8Json()
    {
        var bytes = Encoding.UTF8.GetBytes(OtlpJsonAgent("json invalid utf-8", "bad-@@-name"));
        var at = bytes.AsSpan().IndexOf("@@"u8);
        bytes[at] = 0xC3;
        bytes[at + 1] = 0x28;
        return bytes;
    }

    private static LogRecord EvaluationLog(string name, double score, int n, ulong time = 0, string? tenant = null)
    {
        var record = new LogRecord
        {
            TimeUnixNano = time == 0 ? Now : time,
            EventName = GenAiEvents.EvaluationResult,
            TraceId = TraceId("log " + n.ToString(CultureInfo.InvariantCulture)),
            SpanId = SpanId("log", n),
            Body = Str(name),
        };
        record.Attributes.Add(new KeyValue { Key = GenAiAttributes.EvaluationName, Value = Str(name) });
        record.Attributes.Add(new KeyValue { Key = GenAiAttributes.EvaluationScoreValue, Value = Dbl(score) });
        record.Attributes.Add(new KeyValue { Key = GenAiAttributes.AgentName, Value = Str(name) });
        record.Attributes.Add(new KeyValue { Key = PerfOtelAttributes.Tenant, Value = Str(tenant ?? Tenant) });
        return record;
    }

    private static ExportLogsServiceRequest Logs(params LogRecord[] records)
    {
        var scope = new ScopeLogs();
        scope.LogRecords.AddRange(records);
        var resource = new ResourceLogs();
        resource.ScopeLogs.Add(scope);
        var request = new ExportLogsServiceRequest();
        request.ResourceLogs.Add(resource);
        return request;
    }

    private static ExportMetricsServiceRequest Metrics(Metric metric)
    {
        var scope = new ScopeMetrics();
        scope.Metrics.Add(metric);
        var resource = new ResourceMetrics();
        resource.ScopeMetrics.Add(scope);
        var request = new ExportMetricsServiceRequest();
        request.ResourceMetrics.Add(resource);
        return request;
    }

    private static ExportMetricsServiceRequest ValidMetrics() => Metrics(new Metric
    {
        Name = "agent.operations",
        Sum = new Sum { DataPoints = { new NumberDataPoint { AsInt = 1, TimeUnixNano = Now } } },
    });

    private static ExportMetricsServiceRequest NonFiniteMetrics() => Metrics(new Metric
    {
        Name = "gen_ai.client.operation.duration",
        Gauge = new Gauge
        {
            DataPoints =
            {
                new NumberDataPoint { AsDouble = double.NaN, TimeUnixNano = Now },
                new NumberDataPoint { AsDouble = double.PositiveInfinity, TimeUnixNano = ulong.MaxValue },
                new NumberDataPoint { AsDouble = -1e308, TimeUnixNano = 1 },
            },
        },
    });

    private static ExportMetricsServiceRequest BadHistogram() => Metrics(new Metric
    {
        Name = "gen_ai.client.token.usage",
        Histogram = new Histogram { DataPoints = { new HistogramDataPoint { Count = 1, BucketCounts = { 1, 2, 3 }, ExplicitBounds = { 1 } } } },
    });

    private static ExportMetricsServiceRequest InjectionMetrics(string name)
    {
        var point = new NumberDataPoint { AsInt = 1, TimeUnixNano = Now };
        point.Attributes.Add(new KeyValue { Key = name, Value = Str(name) });
        return Metrics(new Metric { Name = name, Unit = name, Description = name, Sum = new Sum { DataPoints = { point } } });
    }

    private static string FeedbackJson(string taskId) =>
        "{\"taskId\": " + JsonString(taskId) + ", \"success\": true, \"feedbackId\": " + JsonString(taskId.Length > MaxNameLength ? "long" : taskId) + "}";

    private static string HugeFeedbackJson()
    {
        var items = string.Join(",", Enumerable.Range(0, 50_000).Select(i => i.ToString(CultureInfo.InvariantCulture)));
        return $$"""{"taskId": "t-huge-arrays", "predicted": [{{items}}], "actual": [{{items}}]}""";
    }

    private static string JsonString(string value) => System.Text.Json.JsonSerializer.Serialize(value);

    private static byte[] RandomBytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        // Field 1 with wire type 7 (invalid) first: random bytes alone can happen to be a valid message of unknown fields.
        bytes[0] = 0x0F;
        return bytes;
    }

    private static readonly Lazy<byte[]> GzipBomb = new(() =>
    {
        using var output = new MemoryStream();
        using (var zip = new GZipStream(output, CompressionLevel.SmallestSize))
        {
            var zeros = new byte[1024 * 1024];
            for (var i = 0; i < 64; i++)
            {
                zip.Write(zeros);
            }
        }

        return output.ToArray();
    });

    private static byte[] Gzip(byte[] body)
    {
        using var output = new MemoryStream();
        using (var zip = new GZipStream(output, CompressionLevel.Fastest))
        {
            zip.Write(body);
        }

        return output.ToArray();
    }

    private static ByteArrayContent Protobuf(byte[] body) => Raw(body, "application/x-protobuf");

    private static ByteArrayContent Protobuf(IMessage message) => Raw(message.ToByteArray(), "application/x-protobuf");

    private static ByteArrayContent Json(string json) => Raw(Encoding.UTF8.GetBytes(json), "application/json");

    private static ByteArrayContent Json(byte[] body) => Raw(body, "application/json");

    private static ByteArrayContent Raw(byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    private static HttpContent WithEncoding(HttpContent content, string encoding)
    {
        content.Headers.ContentEncoding.Add(encoding);
        return content;
    }
}

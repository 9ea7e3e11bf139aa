using System.Reflection;
using Google.Protobuf;
using Microsoft.Extensions.Time.Testing;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Resource.V1;
using OpenTelemetry.Proto.Trace.V1;
using PerfOtel.Benchmarks.Ingest;
using PerfOtel.Collector.Receiving.Mapping;
using PerfOtel.Collector.Receiving.Privacy;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Instrumentation.Pricing;

namespace PerfOtel.Collector.Tests.Otlp;

/// <summary>
/// The OTLP trace wire reader (#21) against Google.Protobuf: the same bytes give exactly the same mapping (records,
/// span links, counts, partial-success message) for the load driver's realistic requests, for many random valid
/// requests (every AnyValue kind, unknown fields of every wire type, repeated and merged messages, events, links,
/// status, dropped counts) and at the nesting limit; malformed bytes are refused saying what is wrong.
/// </summary>
public sealed class OtlpTraceWireReaderTests
{
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_600);
    private static readonly ulong NowNanos = (ulong)Now.ToUnixTimeMilliseconds() * 1_000_000;

    private static readonly SpanMapper Plain = new(new CatalogModelPricing(PricingCatalog.Default), null, new FakeTimeProvider(Now));

    /// <summary>Keeps every attribute and content, so that the stored attributes JSON (read from the entries' bytes) is compared too.</summary>
    private static readonly SpanMapper KeepsAll = new(new CatalogModelPricing(PricingCatalog.Default), AllowAll(), new FakeTimeProvider(Now));

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void TheLoadDriversRealisticRequests_MapAlike(int index)
    {
        var template = RequestTemplate.Create(index, 1000, json: false, NowNanos - 60_000_000_000);
        var bytes = new byte[template.Length];
        template.WriteTo(bytes, firstTrace: (ulong)index * 1000 + 1, shiftNanos: 0);

        var result = BothDecoders.Map(Plain, bytes);

        Assert.True(result.Batch.Invocations.Count > 100);
        Assert.True(result.Batch.ProviderCalls.Count > 200);
        Assert.Equal(0, result.Rejected);
        BothDecoders.Map(KeepsAll, bytes, forcedTenant: "acme");
    }

    [Fact]
    public void ManyRandomValidRequests_MapAlike()
    {
        for (var seed = 0; seed < 400; seed++)
        {
            var random = new Random(seed);
            var request = RandomRequest(random);
            var bytes = request.ToByteArray();
            if (seed % 3 == 0)
            {
                // A second ResourceSpans written by hand: its resource after its spans and again (merged), a span
                // written as two messages one after the other (merged), a KeyValue with two values (the last wins).
                bytes = [.. bytes, .. Field(1, MergedResourceSpans(random))];
            }

            try
            {
                var mapper = seed % 2 == 0 ? Plain : KeepsAll;
                BothDecoders.Map(mapper, bytes, seed % 5 == 0 ? "forced" : null);
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                throw new InvalidOperationException($"random request {seed} maps differently: {error.Message}", error);
            }
        }
    }

    [Fact]
    public void EmptyAndNearlyEmptyRequests_MapAlike()
    {
        BothDecoders.Map(Plain, Array.Empty<byte>());
        var request = new ExportTraceServiceRequest();
        request.ResourceSpans.Add(new ResourceSpans());
        request.ResourceSpans.Add(new ResourceSpans { ScopeSpans = { new ScopeSpans(), new ScopeSpans { Spans = { new Span() } } } });
        var result = BothDecoders.Map(Plain, request.ToByteArray());
        Assert.Equal(1, result.Received);
        Assert.Equal(1, result.Rejected);
    }

    /// <summary>Nested values up to the limit are read alike; one level more is refused by both.</summary>
    [Theory]
    [InlineData(40)]
    [InlineData(47)]
    [InlineData(48)]
    [InlineData(60)]
    public void NestingAtTheLimit_IsReadOrRefusedAsGoogleProtobufDoes(int arrays)
    {
        var value = new AnyValue { StringValue = "deep" };
        for (var i = 0; i < arrays; i++)
        {
            value = new AnyValue { ArrayValue = new ArrayValue { Values = { value } } };
        }

        var span = ValidSpan(1);
        span.Attributes.Add(new KeyValue { Key = "nested", Value = value });
        var bytes = Request(span).ToByteArray();

        var googleRefuses = Refuses(() => ExportTraceServiceRequest.Parser.ParseFrom(bytes));
        var wireRefuses = Refuses(() => OtlpTraceWireReader.Read(bytes));
        Assert.Equal(googleRefuses, wireRefuses);
        Assert.Equal(arrays > 47, wireRefuses);
        if (!wireRefuses)
        {
            BothDecoders.Map(KeepsAll, bytes);
        }
        else
        {
            Assert.Contains("nested more than 100 levels", Assert.Throws<OtlpWireFormatException>(() => OtlpTraceWireReader.Read(bytes)).Message);
        }
    }

    public static TheoryData<string, byte[], string> Malformed()
    {
        var span = ValidSpan(1).ToByteArray();
        return new()
        {
            { "truncated varint", [0x0A, 0x80], "truncated varint" },
            { "length past the end", [0x0A, 0x05, 0x00], "runs past the end" },
            { "length past the end deep inside", Nest([.. span, 0x4A, 0x10, 0x0A]), "runs past the end" },
            { "field number 0", [0x00, 0x01], "field number 0" },
            { "wire type 7", [0x0F], "invalid wire type 7" },
            { "stray end group", [0x0C], "end-group tag" },
            { "unclosed group", [0x83, 0x06, 0x08, 0x01], "is not closed" },
            { "varint of 11 bytes", [0x90, 0x03, .. Enumerable.Repeat((byte)0xFF, 10), 0x01], "longer than 10 bytes" },
            { "truncated fixed64", Nest([0x39, 0x01, 0x02, 0x03]), "truncated fixed64" },
            { "invalid UTF-8 in a span name", Nest([.. span, 0x2A, 0x02, 0xC3, 0x28]), "Span.name at byte" },
            { "invalid UTF-8 in an attribute key", Nest([.. span, .. Field(9, [0x0A, 0x01, 0xFF])]), "KeyValue.key at byte" },
            { "invalid UTF-8 in a nested string value", Nest([.. span, .. Field(9, [0x0A, 0x01, 0x6B, .. Field(2, Field(6, Field(1, Field(2, [0x0A, 0x03, 0xED, 0xA0, 0x80]))))])]), "AnyValue.string_value at byte" },
            { "wrong wire type for resource_spans", [0x08, 0x01], "ExportTraceServiceRequest.resource_spans (field 1) has wire type 0 (varint), not 2" },
            { "wrong wire type for trace_id", Nest([0x09, 1, 2, 3, 4, 5, 6, 7, 8]), "Span.trace_id (field 1) has wire type 1 (64-bit), not 2" },
            { "wrong wire type for start_time_unix_nano", Nest([0x38, 0x01]), "Span.start_time_unix_nano (field 7) has wire type 0 (varint), not 1" },
        };
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedBytes_AreRefused_SayingWhatIsWrong(string what, byte[] bytes, string message)
    {
        var error = Assert.Throws<OtlpWireFormatException>(() => OtlpTraceWireReader.Read(bytes));
        Assert.True(error.Message.Contains(message, StringComparison.Ordinal), $"{what}: '{error.Message}' does not say '{message}'");
        if (!what.StartsWith("wrong wire type", StringComparison.Ordinal))
        {
            // Google.Protobuf refuses these too; a known field with another wire type it keeps as an unknown field.
            Assert.True(Refuses(() => ExportTraceServiceRequest.Parser.ParseFrom(bytes)), $"{what}: Google.Protobuf accepts it");
        }
    }

    [Fact]
    public void KnownKeys_MatchTheirUtf8Bytes_WithoutDecoding()
    {
        Assert.True(Utf8Key.Matches("gen_ai.usage.input_tokens"u8, GenAiAttributes.UsageInputTokens));
        Assert.False(Utf8Key.Matches("gen_ai.usage.input_tokenz"u8, GenAiAttributes.UsageInputTokens));
        Assert.False(Utf8Key.Matches("gen_ai"u8, GenAiAttributes.UsageInputTokens));
        Assert.True(Utf8Key.Matches("clé"u8, "clé"));
        Assert.False(Utf8Key.Matches("cl\u00C3\u00A9"u8, "clé"));
        // "é" as UTF-8 is two bytes that, read one per char, spell "Ã©": the lengths differ and nothing matches.
        Assert.False(Utf8Key.Matches("é"u8, "Ã©"));
    }

    private static bool Refuses(Action read)
    {
        try
        {
            read();
            return false;
        }
        catch (Exception error) when (error is InvalidProtocolBufferException or OtlpWireFormatException or ArgumentException)
        {
            return true;
        }
    }

    private static PrivacyPolicy AllowAll()
    {
        var options = new PrivacyOptions { CaptureContent = true };
        options.AttributeAllowlist.Add("*");
        return new PrivacyPolicy(options, []);
    }

    /// <summary>Span bytes inside a ScopeSpans inside a ResourceSpans inside the request.</summary>
    private static byte[] Nest(byte[] span) => Field(1, Field(2, Field(2, span)));

    private static byte[] Field(int number, byte[] content) => [.. Varint((ulong)(number << 3 | 2)), .. Varint((ulong)content.Length), .. content];

    private static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
        return [.. bytes];
    }

    private static Span ValidSpan(int n) => new()
    {
        TraceId = ByteString.CopyFrom([.. new byte[15], (byte)n]),
        SpanId = ByteString.CopyFrom([.. new byte[7], (byte)n]),
        Name = "chat gpt-4o",
        StartTimeUnixNano = NowNanos - 5_000_000_000,
        EndTimeUnixNano = NowNanos - 4_000_000_000,
        Attributes = { new KeyValue { Key = GenAiAttributes.OperationName, Value = new AnyValue { StringValue = "chat" } } },
    };

    private static ExportTraceServiceRequest Request(params Span[] spans) => new()
    {
        ResourceSpans = { new ResourceSpans { ScopeSpans = { new ScopeSpans { Spans = { spans } } } } },
    };

    // ---- random valid requests ----

    private static readonly string[] Keys = KnownKeys();

    private static readonly string[] Texts =
    [
        "chat", "invoke_agent", "execute_tool", "embeddings", "text_completion", "chat.completions", "text.completions",
        "generate_content", "openai", "anthropic", "gpt-4o", "gpt-4o-mini", "claude-sonnet-4", "planner",
        "InvokePromptAsync_0f8fad5b-d9cb-469f-a165-70867728950e", "api.openai.com", "https://x.openai.azure.com/v1",
        "success", "failure", "partial", "probabilistic", "const", "0.25", "1.5", "42", "-7", "1e3", "", " ", "true",
        "LLM", "TOOL", "AGENT", "EMBEDDING", "agent", "tool", "completion", "embedding", "é模型", "ключ", "a\u0001b",
        "😀 emoji", new string('x', 300), "TimeoutError", "acme", "globex",
    ];

    private static readonly string[] SpanNames =
    [
        "invoke_agent planner", "invoke_agent", "chat gpt-4o", "chat", "execute_tool lookup", "execute_tool",
        "embeddings text-embedding-3", "text_completion m", "GET /orders", "", "invoke_agent 0f8fad5bd9cb469fa16570867728950e",
        "chat.completions x", "workflow",
    ];

    private static readonly string[] TraceStates =
    [
        "", "ot=th:8", "ot=th:c;rv:d000000000000a", "ot=th:c;rv:0000000000000a", "ot=p:3", "ot=p:63", "foo=bar,ot=th:0",
        "ot=th:zz", "ot=th:123456789abcdef", "vendor=1",
    ];

    private static string[] KnownKeys()
    {
        var types = new[]
        {
            typeof(GenAiAttributes), typeof(PerfOtelAttributes), typeof(LegacyGenAiAttributes), typeof(RenamedGenAiAttributes),
            typeof(OpenLlmetryAttributes), typeof(OpenInferenceAttributes), typeof(OtelAttributes), typeof(SamplingAttributes),
        };
        var keys = types
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(f => f.IsLiteral && f.FieldType == typeof(string))
            .Select(f => (string)f.GetRawConstantValue()!)
            .ToList();
        keys.AddRange(["gen_ai.prompt", "user.id", "enduser.id", "ключ", "gen_ai.é", "x"]);
        return [.. keys.Distinct()];
    }

    private static ExportTraceServiceRequest RandomRequest(Random random)
    {
        var request = new ExportTraceServiceRequest();
        for (var r = random.Next(0, 4); r > 0; r--)
        {
            var resourceSpans = new ResourceSpans { SchemaUrl = random.Next(3) == 0 ? "https://opentelemetry.io/schemas/1.30.0" : "" };
            if (random.Next(4) > 0)
            {
                var resource = new Resource { DroppedAttributesCount = (uint)random.Next(3) };
                resource.Attributes.Add(RandomAttributes(random, random.Next(0, 5), resourceLevel: true));
                resourceSpans.Resource = WithUnknown(resource, Resource.Parser, random);
            }

            for (var s = random.Next(0, 3); s > 0; s--)
            {
                var scopeSpans = new ScopeSpans();
                if (random.Next(2) == 0)
                {
                    var scope = new InstrumentationScope { Name = "scope", Version = "1.0", DroppedAttributesCount = 1 };
                    scope.Attributes.Add(RandomAttributes(random, random.Next(0, 3), resourceLevel: false));
                    scopeSpans.Scope = WithUnknown(scope, InstrumentationScope.Parser, random);
                }

                var traces = random.Next(1, 4);
                for (var t = 0; t < traces; t++)
                {
                    var traceId = RandomId(random, 16);
                    var spanIds = new List<ByteString>();
                    for (var n = random.Next(1, 8); n > 0; n--)
                    {
                        var span = RandomSpan(random, traceId, spanIds);
                        spanIds.Add(span.SpanId);
                        scopeSpans.Spans.Add(WithUnknown(span, Span.Parser, random));
                    }
                }

                resourceSpans.ScopeSpans.Add(WithUnknown(scopeSpans, ScopeSpans.Parser, random));
            }

            request.ResourceSpans.Add(WithUnknown(resourceSpans, ResourceSpans.Parser, random));
        }

        return WithUnknown(request, ExportTraceServiceRequest.Parser, random);
    }

    private static ByteString RandomId(Random random, int length)
    {
        var bytes = new byte[random.Next(20) switch { 0 => 0, 1 => length - 1, 2 => length + 1, _ => length }];
        if (random.Next(15) > 0)
        {
            random.NextBytes(bytes);
        }

        return ByteString.CopyFrom(bytes);
    }

    private static Span RandomSpan(Random random, ByteString traceId, List<ByteString> earlier)
    {
        var start = random.Next(12) switch
        {
            0 => 0UL,
            1 => 900_000_000_000_000_000UL, // 1998: before the plausible window
            _ => NowNanos - (ulong)random.NextInt64(1, 3_600_000_000_000),
        };
        var end = random.Next(12) switch
        {
            0 => start - 1,
            1 => NowNanos + 200_000_000_000_000,
            _ => start + (ulong)random.NextInt64(0, 30_000_000_000),
        };
        var span = new Span
        {
            TraceId = random.Next(10) == 0 ? RandomId(random, 16) : traceId,
            SpanId = RandomId(random, 8),
            ParentSpanId = earlier.Count > 0 && random.Next(4) > 0 ? earlier[random.Next(earlier.Count)]
                : random.Next(6) == 0 ? RandomId(random, 8) : ByteString.Empty,
            Name = SpanNames[random.Next(SpanNames.Length)],
            Kind = (Span.Types.SpanKind)random.Next(0, 6),
            StartTimeUnixNano = start,
            EndTimeUnixNano = end,
            TraceState = TraceStates[random.Next(TraceStates.Length)],
            Flags = (uint)random.Next(0, 0x400),
            DroppedAttributesCount = (uint)random.Next(2),
            DroppedEventsCount = (uint)random.Next(2),
            DroppedLinksCount = (uint)random.Next(2),
        };
        span.Attributes.Add(RandomAttributes(random, random.Next(0, random.Next(3) == 0 ? 24 : 10), resourceLevel: false));
        for (var e = random.Next(-2, 4); e > 0; e--)
        {
            var evt = new Span.Types.Event
            {
                Name = random.Next(4) switch { 0 => GenAiEvents.EvaluationResult, 1 => OtelAttributes.ExceptionEvent, 2 => "log", _ => "" },
                TimeUnixNano = random.Next(3) == 0 ? 5 : start + (ulong)random.Next(1000),
                DroppedAttributesCount = (uint)random.Next(2),
            };
            evt.Attributes.Add(random.Next(3) switch
            {
                0 => [Attr(GenAiAttributes.EvaluationName, RandomValue(random, 0)), Attr(GenAiAttributes.EvaluationScoreValue, RandomValue(random, 0)),
                    Attr(GenAiAttributes.EvaluationScoreLabel, RandomValue(random, 0))],
                1 => [Attr(OtelAttributes.ExceptionType, RandomValue(random, 0))],
                _ => RandomAttributes(random, random.Next(3), resourceLevel: false),
            });
            span.Events.Add(WithUnknown(evt, Span.Types.Event.Parser, random));
        }

        for (var l = random.Next(-1, 3); l > 0; l--)
        {
            var link = new Span.Types.Link { TraceId = RandomId(random, 16), SpanId = RandomId(random, 8), TraceState = "a=b", Flags = 1, DroppedAttributesCount = 2 };
            link.Attributes.Add(RandomAttributes(random, random.Next(3), resourceLevel: false));
            span.Links.Add(WithUnknown(link, Span.Types.Link.Parser, random));
        }

        if (random.Next(3) > 0)
        {
            span.Status = WithUnknown(new Status { Code = (Status.Types.StatusCode)random.Next(0, 3), Message = random.Next(2) == 0 ? "boom" : "" }, Status.Parser, random);
        }

        return span;
    }

    private static KeyValue Attr(string key, AnyValue? value) => new() { Key = key, Value = value };

    private static List<KeyValue> RandomAttributes(Random random, int count, bool resourceLevel)
    {
        var list = new List<KeyValue>(count);
        for (var i = 0; i < count; i++)
        {
            var key = resourceLevel && random.Next(2) == 0
                ? (random.Next(2) == 0 ? PerfOtelAttributes.Tenant : OtelAttributes.ServiceName)
                : Keys[random.Next(Keys.Length)];
            // Now and then a key without a value, or a repeat of an earlier key (the first with a value wins).
            var value = random.Next(12) == 0 ? null : RandomValue(random, 0);
            if (list.Count > 0 && random.Next(8) == 0)
            {
                key = list[random.Next(list.Count)].Key;
            }

            list.Add(WithUnknown(new KeyValue { Key = key, Value = value }, KeyValue.Parser, random));
        }

        return list;
    }

    private static AnyValue RandomValue(Random random, int depth)
    {
        var value = (random.Next(depth > 2 ? 6 : 9)) switch
        {
            0 or 1 => new AnyValue { StringValue = Texts[random.Next(Texts.Length)] },
            2 => new AnyValue { IntValue = random.Next(4) switch { 0 => -5, 1 => long.MaxValue, 2 => 2_000_000_000_000, _ => random.Next(0, 5000) } },
            3 => new AnyValue
            {
                DoubleValue = random.Next(6) switch
                {
                    0 => double.NaN, 1 => double.PositiveInfinity, 2 => 1e20, 3 => -0.5, _ => Math.Round(random.NextDouble() * 3, 3),
                },
            },
            4 => new AnyValue { BoolValue = random.Next(2) == 0 },
            5 => new AnyValue(),
            6 => new AnyValue { BytesValue = ByteString.CopyFrom([0xFF, 0x00, (byte)random.Next(256)]) },
            7 => new AnyValue { ArrayValue = new ArrayValue { Values = { Enumerable.Range(0, random.Next(4)).Select(_ => RandomValue(random, depth + 1)) } } },
            _ => new AnyValue
            {
                KvlistValue = new KeyValueList
                {
                    Values = { Enumerable.Range(0, random.Next(4)).Select(_ => new KeyValue { Key = Keys[random.Next(Keys.Length)], Value = random.Next(5) == 0 ? null : RandomValue(random, depth + 1) }) },
                },
            },
        };
        return WithUnknown(value, AnyValue.Parser, random);
    }

    /// <summary>Now and then the message with unknown fields of every wire type appended (Google.Protobuf keeps them when it writes).</summary>
    private static T WithUnknown<T>(T message, MessageParser<T> parser, Random random)
        where T : IMessage<T>
    {
        if (random.Next(5) > 0)
        {
            return message;
        }

        var extra = new List<byte>();
        for (var n = random.Next(1, 4); n > 0; n--)
        {
            var field = 900 + random.Next(50);
            switch (random.Next(6))
            {
                case 0:
                    extra.AddRange([.. Varint((ulong)(field << 3)), .. Varint(random.Next(2) == 0 ? ulong.MaxValue : 7)]);
                    break;
                case 1:
                    extra.AddRange([.. Varint((ulong)(field << 3 | 1)), 1, 2, 3, 4, 5, 6, 7, 8]);
                    break;
                case 2:
                    extra.AddRange(Field(field, [0xC3, 0x28, 0xFF, 0x00]));
                    break;
                case 3:
                    // A packed-looking run of varints, and the same values unpacked.
                    extra.AddRange(Field(field, [0x01, 0x96, 0x01, 0x7F]));
                    extra.AddRange([.. Varint((ulong)(field << 3)), 0x96, 0x01]);
                    break;
                case 4:
                    // A group holding a varint and a nested group.
                    extra.AddRange([.. Varint((ulong)(field << 3 | 3)), .. Varint(1 << 3), 0x05, .. Varint(2 << 3 | 3), .. Varint(2 << 3 | 4), .. Varint((ulong)(field << 3 | 4))]);
                    break;
                default:
                    extra.AddRange([.. Varint((ulong)(field << 3 | 5)), 9, 9, 9, 9]);
                    break;
            }
        }

        return parser.ParseFrom([.. message.ToByteArray(), .. extra]);
    }

    /// <summary>
    /// A ResourceSpans written by hand in ways Google.Protobuf never writes but every parser must merge: the resource
    /// after the spans and a second resource (attributes concatenated); a span sent as two messages (scalars: the
    /// last wins; attributes and events concatenated; status merged); a KeyValue whose value comes twice.
    /// </summary>
    private static byte[] MergedResourceSpans(Random random)
    {
        var traceId = RandomId(random, 16);
        var first = RandomSpan(random, traceId, []);
        var second = new Span
        {
            Name = random.Next(2) == 0 ? "invoke_agent merged" : "",
            EndTimeUnixNano = first.EndTimeUnixNano + 1,
            Status = new Status { Code = Status.Types.StatusCode.Error },
        };
        second.Attributes.Add(RandomAttributes(random, 3, resourceLevel: false));
        var twoValues = Field(9, [.. Field(1, "gen_ai.usage.input_tokens"u8.ToArray()),
            .. Field(2, new AnyValue { StringValue = "12" }.ToByteArray()), .. Field(2, new AnyValue { IntValue = 34 }.ToByteArray()),
            .. Field(2, new AnyValue().ToByteArray())]);
        var twoArrays = Field(9, [.. Field(1, "tags"u8.ToArray()),
            .. Field(2, new AnyValue { ArrayValue = new ArrayValue { Values = { new AnyValue { IntValue = 1 } } } }.ToByteArray()),
            .. Field(2, new AnyValue { ArrayValue = new ArrayValue { Values = { new AnyValue { StringValue = "two" } } } }.ToByteArray())]);
        byte[] span = [.. first.ToByteArray(), .. second.ToByteArray(), .. twoValues, .. twoArrays];
        var child = RandomSpan(random, traceId, [first.SpanId]);
        var scopeSpans = Field(2, [.. Field(2, span), .. Field(2, child.ToByteArray())]);
        var resourceA = new Resource { Attributes = { new KeyValue { Key = OtelAttributes.ServiceName, Value = new AnyValue { StringValue = "svc" } } } };
        var resourceB = new Resource { Attributes = { new KeyValue { Key = PerfOtelAttributes.Tenant, Value = new AnyValue { StringValue = "merged-tenant" } } } };
        return [.. scopeSpans, .. Field(1, resourceA.ToByteArray()), .. Field(3, "s"u8.ToArray()), .. Field(1, resourceB.ToByteArray())];
    }
}

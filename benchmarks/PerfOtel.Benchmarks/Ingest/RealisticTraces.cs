using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Resource.V1;
using OpenTelemetry.Proto.Trace.V1;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Benchmarks.Ingest;

/// <summary>
/// OTLP trace export requests shaped like what agent processes send: each trace an <c>invoke_agent</c> span with 2-4
/// <c>chat</c> children and one <c>execute_tool</c>, with the resource, scope and span attributes the OpenTelemetry
/// .NET SDK (Microsoft.Extensions.AI-style instrumentation) and the Python SDK (openai-v2 instrumentation, the older
/// <c>gen_ai.system</c> name) produce. Whole traces are packed into one request until it holds the requested number of
/// spans, as an SDK's batch processor would.
/// </summary>
/// <remarks>
/// Requests are encoded once. Each send copies one and rewrites, in place, the first 8 bytes of every trace id (a
/// sequence number unique within the run, so nothing is a duplicate) and every span's timestamps (shifted to now), at
/// offsets found when the template was built. Protobuf ids are raw bytes and times fixed64; OTLP/JSON ids are hex and
/// times 19-digit decimal strings: both have a fixed width, so patching never moves a byte.
/// </remarks>
internal sealed partial class RequestTemplate
{
    private static readonly string[] Agents =
        ["support-triage", "refund-agent", "order-lookup", "billing-assistant", "travel-planner", "code-reviewer"];

    private static readonly (string Provider, string Model, string ResponseModel)[] Models =
    [
        ("openai", "gpt-4o-mini", "gpt-4o-mini-2024-07-18"),
        ("openai", "gpt-4o", "gpt-4o-2024-08-06"),
        ("anthropic", "claude-3-5-sonnet", "claude-3-5-sonnet-20241022"),
    ];

    private static readonly string[] Tools = ["lookup_order", "get_weather", "search_knowledge_base", "issue_refund"];

    private readonly byte[] _encoded;
    private readonly int[] _traceIdOffsets;
    private readonly int[] _timeOffsets;
    private readonly bool _json;

    private RequestTemplate(byte[] encoded, int[] traceIdOffsets, int[] timeOffsets, bool json, int spans, int traces,
        ulong baseTimeUnixNano, ulong latestEndUnixNano)
    {
        LatestEndUnixNano = latestEndUnixNano;
        _encoded = encoded;
        _traceIdOffsets = traceIdOffsets;
        _timeOffsets = timeOffsets;
        _json = json;
        Spans = spans;
        Traces = traces;
        BaseTimeUnixNano = baseTimeUnixNano;
    }

    public int Spans { get; }

    public int Traces { get; }

    public int Length => _encoded.Length;

    public ulong BaseTimeUnixNano { get; }

    /// <summary>
    /// The latest end time of the template's spans: a sender shifts the request by its send time less this, so that the
    /// request's last span ends as it is sent and the others in the seconds before, as an SDK's batch export of spans
    /// that just ended.
    /// </summary>
    public ulong LatestEndUnixNano { get; }

    /// <summary>Builds template <paramref name="index"/>: deterministic for a given index, seed and size.</summary>
    public static RequestTemplate Create(int index, int spansPerRequest, bool json, ulong baseTimeUnixNano)
    {
        var random = new Random(unchecked(index * 7919 + 17));
        var python = index % 2 == 1;
        var request = new ExportTraceServiceRequest();
        var resourceSpans = new ResourceSpans { Resource = Resource(python, index) };
        var scope = new ScopeSpans
        {
            Scope = python
                ? new InstrumentationScope { Name = "opentelemetry.instrumentation.openai_v2", Version = "2.1b0" }
                : new InstrumentationScope { Name = "Experimental.Microsoft.Extensions.AI", Version = "9.9.0" },
        };
        resourceSpans.ScopeSpans.Add(scope);
        request.ResourceSpans.Add(resourceSpans);

        var traceIds = new List<byte[]>();
        var times = new HashSet<ulong>();
        var spans = 0;
        while (spans < spansPerRequest)
        {
            var traceId = new byte[16];
            random.NextBytes(traceId);
            traceId[0] = 0xA5; // never all zero once patched
            traceIds.Add(traceId);
            // Every trace of a request starts within 5 s of the others, as the runs a batch span processor exports together
            // do (it sends every few seconds the spans that ended since), not one after another over minutes.
            var clock = baseTimeUnixNano + (ulong)random.Next(0, 5_000) * 1_000_000 + (ulong)random.Next(0, 1_000_000);
            spans += AddTrace(scope.Spans, random, python, ByteString.CopyFrom(traceId), ref clock, times);
        }

        byte[] encoded;
        List<int> traceOffsets;
        List<int> timeOffsets;
        if (json)
        {
            var text = IdField().Replace(JsonFormat.Format(request), match =>
                $"\"{match.Groups[1].Value}\":\"{Convert.ToHexStringLower(Convert.FromBase64String(match.Groups[2].Value))}\"");
            encoded = Encoding.UTF8.GetBytes(text);
            (traceOffsets, timeOffsets) = FindJson(encoded, traceIds, times);
        }
        else
        {
            encoded = request.ToByteArray();
            (traceOffsets, timeOffsets) = FindProtobuf(encoded, traceIds, times);
        }

        if (traceOffsets.Count < traceIds.Count || timeOffsets.Count < times.Count)
        {
            throw new InvalidOperationException("request template: not every trace id and timestamp was found to patch");
        }

        return new RequestTemplate(encoded, [.. traceOffsets], [.. timeOffsets], json, spans, traceIds.Count,
            baseTimeUnixNano, times.Max());
    }

    /// <summary>
    /// Copies the request into <paramref name="buffer"/> with trace ids numbered from <paramref name="firstTrace"/>
    /// (one number per trace, in template order) and every timestamp moved by <paramref name="shiftNanos"/>. The number
    /// fills the trace id's first 8 bytes as it is (<paramref name="randomIds"/> false: consecutive requests give
    /// neighbouring ids, so every B-tree keyed by trace id is written at its right edge; the last 8 bytes stay the
    /// template's) or scrambled by a bijection (true: still unique, but spread over the whole key space like the random
    /// ids OpenTelemetry SDKs generate), and then the last 8 bytes too, by a second bijection, as an SDK's 16 random
    /// bytes have them (until 2026-12-03 18:00 UTC they kept the 16 templates' last halves, so the collector's span
    /// keys, which hashed on the last half, collided in a way SDK traffic never makes them).
    /// </summary>
    public void WriteTo(byte[] buffer, ulong firstTrace, ulong shiftNanos, bool randomIds = false)
    {
        _encoded.CopyTo(buffer, 0);
        // Offsets are in trace order, one per occurrence; a trace id occurs once per span of the trace.
        var trace = firstTrace;
        Span<byte> original = stackalloc byte[32];
        var originalLength = 0;
        Span<char> hex = stackalloc char[16];
        Span<char> digits = stackalloc char[20];
        foreach (var offset in _traceIdOffsets)
        {
            var width = _json ? 32 : 16;
            var current = _encoded.AsSpan(offset, width);
            if (originalLength == 0 || !current.SequenceEqual(original[..originalLength]))
            {
                if (originalLength != 0)
                {
                    trace++;
                }

                current.CopyTo(original);
                originalLength = width;
            }

            var id = randomIds ? Scramble(trace) : trace;
            WriteHalf(buffer, offset, 0, id, hex);
            if (randomIds)
            {
                WriteHalf(buffer, offset, 1, Scramble(trace ^ LowHalfSeed), hex);
            }
        }

        foreach (var offset in _timeOffsets)
        {
            if (_json)
            {
                var value = ulong.Parse(Encoding.ASCII.GetString(_encoded, offset, 19), CultureInfo.InvariantCulture) + shiftNanos;
                value.TryFormat(digits, out var written, default, CultureInfo.InvariantCulture);
                for (var i = 0; i < written; i++)
                {
                    buffer[offset + i] = (byte)digits[i];
                }
            }
            else
            {
                var span = buffer.AsSpan(offset, 8);
                BinaryPrimitives.WriteUInt64LittleEndian(span, BinaryPrimitives.ReadUInt64LittleEndian(span) + shiftNanos);
            }
        }
    }

    // XORed into the trace number before the low half's scramble, so that the two halves are different functions of it.
    private const ulong LowHalfSeed = 0x9E3779B97F4A7C15UL;

    // Half 0 or 1 of the trace id at offset: 8 bytes big-endian in protobuf, 16 hex digits in OTLP/JSON.
    private void WriteHalf(byte[] buffer, int offset, int half, ulong value, Span<char> hex)
    {
        if (_json)
        {
            value.TryFormat(hex, out _, "x16", CultureInfo.InvariantCulture);
            for (var i = 0; i < 16; i++)
            {
                buffer[offset + (half * 16) + i] = (byte)hex[i];
            }
        }
        else
        {
            BinaryPrimitives.WriteUInt64BigEndian(buffer.AsSpan(offset + (half * 8), 8), value);
        }
    }

    /// <summary>SplitMix64's finalizer: a bijection on 64-bit numbers, so distinct trace numbers stay distinct ids.</summary>
    internal static ulong Scramble(ulong value)
    {
        value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9UL;
        value = (value ^ (value >> 27)) * 0x94D049BB133111EBUL;
        return value ^ (value >> 31);
    }

    private static Resource Resource(bool python, int index)
    {
        var resource = new Resource();
        var host = $"agent-host-{index % 4}";
        if (python)
        {
            resource.Attributes.Add(S("telemetry.sdk.language", "python"));
            resource.Attributes.Add(S("telemetry.sdk.name", "opentelemetry"));
            resource.Attributes.Add(S("telemetry.sdk.version", "1.27.0"));
            resource.Attributes.Add(S("service.name", "agents-python"));
            resource.Attributes.Add(S("telemetry.auto.version", "0.48b0"));
            resource.Attributes.Add(S("host.name", host));
            resource.Attributes.Add(I("process.pid", 4200 + index));
            resource.Attributes.Add(S("process.runtime.name", "cpython"));
            resource.Attributes.Add(S("process.runtime.version", "3.12.7"));
        }
        else
        {
            resource.Attributes.Add(S("service.name", "agents-dotnet"));
            resource.Attributes.Add(S("service.version", "1.4.2"));
            resource.Attributes.Add(S("service.instance.id", $"{index:x8}-6c1f-4a7e-9b1d-3f2a8e5c0d17"));
            resource.Attributes.Add(S("telemetry.sdk.name", "opentelemetry"));
            resource.Attributes.Add(S("telemetry.sdk.language", "dotnet"));
            resource.Attributes.Add(S("telemetry.sdk.version", "1.12.0"));
            resource.Attributes.Add(S("host.name", host));
            resource.Attributes.Add(S("deployment.environment.name", "production"));
        }

        return resource;
    }

    private static int AddTrace(Google.Protobuf.Collections.RepeatedField<Span> spans, Random random, bool python,
        ByteString traceId, ref ulong clock, HashSet<ulong> times)
    {
        var agent = Agents[random.Next(Agents.Length)];
        var (provider, model, responseModel) = Models[random.Next(Models.Length)];
        var invocationId = SpanId(random);
        var start = clock;
        var children = new List<Span>();
        var chats = random.Next(2, 5);
        var at = start + 1_000_000;
        long inputTotal = 0, outputTotal = 0;
        var toolAfter = random.Next(chats - 1);
        for (var c = 0; c < chats; c++)
        {
            var duration = (ulong)random.Next(300, 2500) * 1_000_000;
            long input = random.Next(200, 3000), output = random.Next(20, 600);
            inputTotal += input;
            outputTotal += output;
            var chat = new Span
            {
                TraceId = traceId, SpanId = SpanId(random), ParentSpanId = invocationId, Name = $"chat {model}",
                Kind = Span.Types.SpanKind.Client, StartTimeUnixNano = at, EndTimeUnixNano = at + duration,
                Flags = 0x101,
            };
            chat.Attributes.Add(S(GenAiAttributes.OperationName, GenAiOperations.Chat));
            chat.Attributes.Add(S(python ? GenAiAttributes.SystemDeprecated : GenAiAttributes.ProviderName, provider));
            chat.Attributes.Add(S(GenAiAttributes.RequestModel, model));
            chat.Attributes.Add(S(GenAiAttributes.ResponseModel, responseModel));
            chat.Attributes.Add(S(GenAiAttributes.ResponseId, $"chatcmpl-{random.NextInt64():x16}"));
            chat.Attributes.Add(new KeyValue
            {
                Key = GenAiAttributes.ResponseFinishReasons,
                Value = new AnyValue
                {
                    ArrayValue = new ArrayValue { Values = { new AnyValue { StringValue = c == toolAfter ? "tool_calls" : "stop" } } },
                },
            });
            chat.Attributes.Add(I(GenAiAttributes.UsageInputTokens, input));
            chat.Attributes.Add(I(GenAiAttributes.UsageOutputTokens, output));
            chat.Attributes.Add(D(GenAiAttributes.RequestTemperature, 0.2));
            chat.Attributes.Add(I(GenAiAttributes.RequestMaxTokens, 1024));
            chat.Attributes.Add(S(GenAiAttributes.ServerAddress, provider == "openai" ? "api.openai.com" : "api.anthropic.com"));
            chat.Attributes.Add(I(GenAiAttributes.ServerPort, 443));
            if (python)
            {
                chat.Attributes.Add(S("gen_ai.openai.response.service_tier", "default"));
                chat.Attributes.Add(S("gen_ai.openai.response.system_fingerprint", "fp_0ba0d124f1"));
            }

            children.Add(chat);
            at += duration + 1_000_000;
            if (c == toolAfter)
            {
                var tool = Tools[random.Next(Tools.Length)];
                var toolDuration = (ulong)random.Next(5, 200) * 1_000_000;
                var execute = new Span
                {
                    TraceId = traceId, SpanId = SpanId(random), ParentSpanId = invocationId, Name = $"execute_tool {tool}",
                    Kind = Span.Types.SpanKind.Internal, StartTimeUnixNano = at, EndTimeUnixNano = at + toolDuration,
                    Flags = 0x101,
                };
                execute.Attributes.Add(S(GenAiAttributes.OperationName, GenAiOperations.ExecuteTool));
                execute.Attributes.Add(S(GenAiAttributes.ToolName, tool));
                execute.Attributes.Add(S(GenAiAttributes.ToolCallId, $"call_{random.NextInt64():x16}"));
                execute.Attributes.Add(S(GenAiAttributes.ToolType, "function"));
                children.Add(execute);
                at += toolDuration + 1_000_000;
            }
        }

        var invocation = new Span
        {
            TraceId = traceId, SpanId = invocationId, Name = $"invoke_agent {agent}", Kind = Span.Types.SpanKind.Internal,
            StartTimeUnixNano = start, EndTimeUnixNano = at, Flags = 0x101,
        };
        invocation.Attributes.Add(S(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent));
        invocation.Attributes.Add(S(GenAiAttributes.AgentName, agent));
        invocation.Attributes.Add(S(GenAiAttributes.AgentId, $"asst_{agent.GetHashCode(StringComparison.Ordinal):x8}"));
        invocation.Attributes.Add(S(GenAiAttributes.ConversationId, $"conv_{random.NextInt64():x16}"));
        invocation.Attributes.Add(S(python ? GenAiAttributes.SystemDeprecated : GenAiAttributes.ProviderName, provider));
        invocation.Attributes.Add(S(GenAiAttributes.RequestModel, model));
        invocation.Attributes.Add(I(GenAiAttributes.UsageInputTokens, inputTotal));
        invocation.Attributes.Add(I(GenAiAttributes.UsageOutputTokens, outputTotal));
        if (!python)
        {
            // The .NET agents use PerfOtel's own attributes; the Python ones are plain GenAI instrumentation.
            invocation.Attributes.Add(S(PerfOtelAttributes.TaskId, $"task-{random.NextInt64():x12}"));
            invocation.Attributes.Add(S(PerfOtelAttributes.TaskType, "customer_request"));
            invocation.Attributes.Add(S(PerfOtelAttributes.Outcome, random.Next(10) == 0 ? Outcomes.Failure : Outcomes.Success));
            invocation.Attributes.Add(D(PerfOtelAttributes.Confidence, Math.Round(random.NextDouble(), 2)));
        }

        // Spans end before their parents and are exported in end order: the children first.
        foreach (var child in children)
        {
            spans.Add(child);
            times.Add(child.StartTimeUnixNano);
            times.Add(child.EndTimeUnixNano);
        }

        spans.Add(invocation);
        times.Add(invocation.StartTimeUnixNano);
        times.Add(invocation.EndTimeUnixNano);
        clock = at + 1_000;
        return children.Count + 1;
    }

    // Offsets of every trace id (16 raw bytes) and every fixed64 time, scanning the encoding once. A match of 8 or 16
    // random bytes elsewhere in the message is a 2^-64 event.
    private static (List<int> Traces, List<int> Times) FindProtobuf(byte[] encoded, List<byte[]> traceIds, HashSet<ulong> times)
    {
        var ids = traceIds.Select(id => (BinaryPrimitives.ReadUInt64LittleEndian(id), BinaryPrimitives.ReadUInt64LittleEndian(id.AsSpan(8))))
            .ToHashSet();
        var traceOffsets = new List<int>();
        var timeOffsets = new List<int>();
        for (var i = 0; i + 8 <= encoded.Length; i++)
        {
            var word = BinaryPrimitives.ReadUInt64LittleEndian(encoded.AsSpan(i));
            if (i + 16 <= encoded.Length && ids.Contains((word, BinaryPrimitives.ReadUInt64LittleEndian(encoded.AsSpan(i + 8)))))
            {
                traceOffsets.Add(i);
                i += 15;
            }
            else if (times.Contains(word))
            {
                timeOffsets.Add(i);
                i += 7;
            }
        }

        return (traceOffsets, timeOffsets);
    }

    private static (List<int> Traces, List<int> Times) FindJson(byte[] encoded, List<byte[]> traceIds, HashSet<ulong> times)
    {
        var ids = traceIds.Select(Convert.ToHexStringLower).ToHashSet(StringComparer.Ordinal);
        var timeTexts = times.Select(t => t.ToString(CultureInfo.InvariantCulture)).ToHashSet(StringComparer.Ordinal);
        var traceOffsets = new List<int>();
        var timeOffsets = new List<int>();
        for (var i = 0; i < encoded.Length; i++)
        {
            if (encoded[i] != (byte)'"')
            {
                continue;
            }

            var end = Array.IndexOf(encoded, (byte)'"', i + 1);
            if (end < 0)
            {
                break;
            }

            var text = Encoding.ASCII.GetString(encoded, i + 1, end - i - 1);
            if (ids.Contains(text))
            {
                traceOffsets.Add(i + 1);
            }
            else if (text.Length == 19 && timeTexts.Contains(text))
            {
                timeOffsets.Add(i + 1);
            }

            // Quotes pair up (no string here holds an escaped quote): the next one opens the next string.
            i = end;
        }

        return (traceOffsets, timeOffsets);
    }

    private static ByteString SpanId(Random random)
    {
        var id = new byte[8];
        random.NextBytes(id);
        id[0] |= 0x01;
        return ByteString.CopyFrom(id);
    }

    private static KeyValue S(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    private static KeyValue I(string key, long value) => new() { Key = key, Value = new AnyValue { IntValue = value } };

    private static KeyValue D(string key, double value) => new() { Key = key, Value = new AnyValue { DoubleValue = value } };

    // OTLP/JSON as the OpenTelemetry JavaScript exporter writes it: integer enums, ids as hex (rewritten below).
    private static readonly JsonFormatter JsonFormat =
        new(JsonFormatter.Settings.Default.WithFormatEnumsAsIntegers(true));

    [GeneratedRegex("\"(traceId|spanId|parentSpanId)\":\\s*\"([A-Za-z0-9+/=]*)\"")]
    private static partial Regex IdField();
}

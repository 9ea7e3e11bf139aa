using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using OpenTelemetry.Proto.Collector.Trace.V1;
using OpenTelemetry.Proto.Common.V1;
using OpenTelemetry.Proto.Resource.V1;
using OpenTelemetry.Proto.Trace.V1;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Instrumentation.Pricing;
using PerfOtel.Collector.Receiving.Http;
using PerfOtel.Collector.Receiving.Mapping;
using PerfOtel.Collector.Records;

namespace PerfOtel.Benchmarks.Otlp;

/// <summary>
/// The receiver's CPU cost per 100-span OTLP request (one agent invocation with 60 chat and 39 tool spans), from body
/// bytes to records: protobuf parse alone is the baseline, then parse + mapping, then the same from OTLP/JSON.
/// Run: dotnet run -c Release --project benchmarks/PerfOtel.Benchmarks -- --filter '*OtlpDecode*' --job short
/// (the wire reader against Google.Protobuf on the realistic request: --filter '*OtlpDecode*Realistic*').
/// </summary>
[MemoryDiagnoser]
public class OtlpDecodeBenchmarks
{
    private readonly SpanMapper _mapper = new(new CatalogModelPricing(PricingCatalog.Default));
    private byte[] _protobuf = [];
    private byte[] _json = [];
    private byte[] _realistic = [];

    [GlobalSetup]
    public void Setup()
    {
        var request = Request();
        _protobuf = request.ToByteArray();
        _json = System.Text.Encoding.UTF8.GetBytes(OtlpJsonForBenchmark(request));

        // The ingest-load driver's 1 000-span request (whole traces, .NET and Python SDK attribute sets), timed now so
        // that every span is inside the mapper's plausible window.
        var nowNanos = (ulong)(DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100;
        var template = Ingest.RequestTemplate.Create(0, 1000, json: false, nowNanos);
        _realistic = new byte[template.Length];
        template.WriteTo(_realistic, firstTrace: 1, shiftNanos: 0);
    }

    [Benchmark(Baseline = true)]
    public ExportTraceServiceRequest ParseProtobuf() => ExportTraceServiceRequest.Parser.ParseFrom(_protobuf);

    [Benchmark]
    public IngestBatch ParseAndMapProtobuf() => _mapper.Map(ExportTraceServiceRequest.Parser.ParseFrom(_protobuf)).Batch;

    /// <summary>Parse + mapping of the ingest-load driver's realistic 1 000-span request (divide by 1 000 for per span).</summary>
    [Benchmark]
    public IngestBatch ParseAndMapRealistic1000Spans() => _mapper.Map(ExportTraceServiceRequest.Parser.ParseFrom(_realistic)).Batch;

    /// <summary>Protobuf parse alone of the same realistic request: what mapping adds is the difference.</summary>
    [Benchmark]
    public ExportTraceServiceRequest ParseRealistic1000Spans() => ExportTraceServiceRequest.Parser.ParseFrom(_realistic);

    /// <summary>
    /// The same realistic request read by the collector's own wire reader (what OTLP/HTTP protobuf and OTLP/gRPC use
    /// since #21) and mapped: compare with <see cref="ParseAndMapRealistic1000Spans"/> in the same run.
    /// </summary>
    [Benchmark]
    public IngestBatch ReadAndMapRealistic1000Spans()
    {
        // Disposed once mapped, as the receivers do: the attribute entries go back to the pool.
        using var request = OtlpTraceWireReader.Read(_realistic);
        return _mapper.Map(request).Batch;
    }

    /// <summary>The wire reader alone over the realistic request (checks every byte, builds the spans' views).</summary>
    [Benchmark]
    public int ReadRealistic1000Spans()
    {
        using var request = OtlpTraceWireReader.Read(_realistic);
        return request.Spans.Count;
    }

    [Benchmark]
    public string RewriteJsonIdsAndIntegers() => OtlpJson.Normalize(_json);

    [Benchmark]
    public ExportTraceServiceRequest ParseJson() => OtlpJson.Parse<ExportTraceServiceRequest>(_json);

    [Benchmark]
    public IngestBatch ParseAndMapJson() => _mapper.Map(OtlpJson.Parse<ExportTraceServiceRequest>(_json)).Batch;

    // OTLP/JSON as a sender writes it: the formatter's base64 ids turned into hex.
    private static string OtlpJsonForBenchmark(ExportTraceServiceRequest request)
    {
        var json = JsonFormatter.Default.Format(request);
        foreach (var span in request.ResourceSpans[0].ScopeSpans[0].Spans)
        {
            json = json.Replace(span.TraceId.ToBase64(), Convert.ToHexStringLower(span.TraceId.Span), StringComparison.Ordinal)
                .Replace(span.SpanId.ToBase64(), Convert.ToHexStringLower(span.SpanId.Span), StringComparison.Ordinal);
        }

        return json;
    }

    private static ExportTraceServiceRequest Request()
    {
        var traceId = ByteString.CopyFrom(Enumerable.Range(1, 16).Select(i => (byte)i).ToArray());
        static ByteString SpanId(int n) => ByteString.CopyFrom([1, 2, 3, 4, 0, 0, (byte)(n >> 8), (byte)n]);
        static KeyValue S(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };
        static KeyValue I(string key, long value) => new() { Key = key, Value = new AnyValue { IntValue = value } };
        const ulong start = 1_700_000_000_000_000_000;

        var scope = new ScopeSpans { Scope = new InstrumentationScope { Name = "PerfOtel.Agents", Version = "0.1.0" } };
        scope.Spans.Add(new Span
        {
            TraceId = traceId, SpanId = SpanId(1), Name = "invoke_agent support", Kind = Span.Types.SpanKind.Internal,
            StartTimeUnixNano = start, EndTimeUnixNano = start + 5_000_000_000,
            Attributes =
            {
                S(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent), S(GenAiAttributes.AgentName, "support"),
                S(PerfOtelAttributes.TaskId, "task-1"), S(PerfOtelAttributes.Outcome, Outcomes.Success),
                new KeyValue { Key = PerfOtelAttributes.Confidence, Value = new AnyValue { DoubleValue = 0.8 } },
            },
        });
        for (var i = 2; i <= 100; i++)
        {
            var chat = i % 5 != 0 && i % 3 != 0 || i % 2 == 0;
            scope.Spans.Add(new Span
            {
                TraceId = traceId, SpanId = SpanId(i), ParentSpanId = SpanId(1),
                Name = chat ? "chat gpt-4o-mini" : "execute_tool lookup", Kind = chat ? Span.Types.SpanKind.Client : Span.Types.SpanKind.Internal,
                StartTimeUnixNano = start + (ulong)i * 1_000_000, EndTimeUnixNano = start + (ulong)i * 1_000_000 + 400_000_000,
                Attributes =
                {
                    chat
                        ? S(GenAiAttributes.OperationName, GenAiOperations.Chat)
                        : S(GenAiAttributes.OperationName, GenAiOperations.ExecuteTool),
                    chat ? S(GenAiAttributes.ProviderName, "openai") : S(GenAiAttributes.ToolName, "lookup"),
                    S(GenAiAttributes.RequestModel, "gpt-4o-mini"),
                    I(GenAiAttributes.UsageInputTokens, 1000 + i), I(GenAiAttributes.UsageOutputTokens, 200),
                    S("server.address", "api.openai.com"),
                },
            });
        }

        var request = new ExportTraceServiceRequest();
        request.ResourceSpans.Add(new ResourceSpans
        {
            Resource = new Resource { Attributes = { S("service.name", "support-bot"), S(PerfOtelAttributes.Tenant, "acme") } },
            ScopeSpans = { scope },
        });
        return request;
    }
}

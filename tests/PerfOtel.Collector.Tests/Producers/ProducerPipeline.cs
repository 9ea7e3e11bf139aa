using System.ClientModel;
using System.Text.Json;
using OpenAI;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using PerfOtel.Collector.Tests.EndToEnd;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Testing;

namespace PerfOtel.Collector.Tests.Producers;

/// <summary>
/// One agent process as teams run it, in the test: the real client libraries calling a fake OpenAI-compatible server on
/// 127.0.0.1, their spans exported by the real OpenTelemetry .NET OTLP exporter over loopback to the collector's real
/// Program (in-memory store), whose REST API and /metrics the tests read.
/// </summary>
internal sealed class ProducerPipeline : IAsyncDisposable
{
    /// <summary>The model the fake server answers as; priced in the shared catalog at 0.15 / 0.075 cached / 0.60 USD per million.</summary>
    public const string Model = "gpt-4o-mini";

    /// <summary>What the libraries' ActivitySources are called (read from the packages' sources and checked by these tests).</summary>
    public static readonly string[] LibrarySources =
    [
        "Experimental.Microsoft.Agents.AI",
        "Experimental.Microsoft.Extensions.AI",
        "Microsoft.SemanticKernel*",
        "OpenAI.*",
    ];

    static ProducerPipeline()
    {
        // The switches the libraries document for their GenAI telemetry; read once per process by each library.
        AppContext.SetSwitch("Microsoft.SemanticKernel.Experimental.GenAI.EnableOTelDiagnostics", true);
        AppContext.SetSwitch("OpenAI.Experimental.EnableOpenTelemetry", true);
    }

    private readonly TracerProvider _tracing;
    private readonly HttpClient _exporterHttp = new() { Timeout = TimeSpan.FromSeconds(90) };

    /// <param name="defaultReply">What the fake server answers when no reply is queued.</param>
    /// <param name="serviceName">The agent process's service.name.</param>
    /// <param name="protocol">
    /// The exporter's transport: <see cref="OtlpExportProtocol.Grpc"/> is the exporter's default, configured with nothing
    /// but the collector's gRPC endpoint; <see cref="OtlpExportProtocol.HttpProtobuf"/> posts to /v1/traces.
    /// </param>
    /// <param name="appSources">The application's own ActivitySources.</param>
    public ProducerPipeline(FakeChatReply defaultReply, string serviceName, OtlpExportProtocol protocol, params string[] appSources)
    {
        Llm = new FakeChatCompletionsServer(Model, defaultReply);
        Collector = new CollectorFactory(kestrel: true, grpc: protocol == OtlpExportProtocol.Grpc);
        Rest = new HttpClient { BaseAddress = Collector.ListenAddress, Timeout = TimeSpan.FromSeconds(30) };
        _tracing = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService(serviceName))
            .AddSource([.. LibrarySources, .. appSources])
            .AddOtlpExporter(exporter =>
            {
                if (protocol == OtlpExportProtocol.Grpc)
                {
                    exporter.Endpoint = Collector.GrpcAddress;
                }
                else
                {
                    exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                    exporter.Endpoint = new Uri(Collector.ListenAddress, "v1/traces");
                    exporter.HttpClientFactory = () => _exporterHttp;
                }

                // The collector answers once the batch is committed; on a loaded machine its first commit (right after
                // start-up) can take longer than the exporter's default 10 s, after which the exporter would give up.
                exporter.TimeoutMilliseconds = 60_000;
            })
            .Build();
    }

    public FakeChatCompletionsServer Llm { get; }

    public CollectorFactory Collector { get; }

    /// <summary>A client of the collector's REST API and /metrics.</summary>
    public HttpClient Rest { get; }

    public OpenAIClient OpenAi() => new(new ApiKeyCredential("test-key"), new OpenAIClientOptions { Endpoint = Llm.BaseAddress });

    /// <summary>Exports every ended span; the collector has committed them when this returns.</summary>
    public void Flush() => Assert.True(_tracing.ForceFlush(90_000), "the OTLP exporter could not deliver the spans");

    /// <summary>
    /// Waits (bounded) until the store holds <paramref name="records"/> records. The exporter's ForceFlush can return
    /// before the collector has answered its request (it was seen to on the loaded test machine), so the tests wait for
    /// the commit itself; they then assert exact counts, so a record stored twice still fails them.
    /// </summary>
    public async Task StoredAsync(int records)
    {
        for (var attempt = 0; attempt < 600 && Collector.Store.RecordCount < records; attempt++)
        {
            await Task.Delay(100);
        }

        Assert.True(Collector.Store.RecordCount >= records, $"the collector stored {Collector.Store.RecordCount} records, expected {records}");
    }

    /// <summary>The agent's 1h window from the REST API once it counts <paramref name="invocations"/> (observers run just after the commit).</summary>
    public async Task<JsonElement> HourWindowAsync(string agent, long invocations)
    {
        JsonElement hour = default;
        for (var attempt = 0; attempt < 100; attempt++)
        {
            using var response = await Rest.GetAsync(new Uri($"/api/v1/metrics/agents/{agent}?tenant=default&window=1h", UriKind.Relative));
            if (response.IsSuccessStatusCode)
            {
                hour = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("windows")[0].Clone();
                if (hour.GetProperty("invocations").GetInt64() == invocations)
                {
                    return hour;
                }
            }

            await Task.Delay(100);
        }

        Assert.Fail($"agent {agent} never showed {invocations} invocations; last: {hour}");
        return hour;
    }

    /// <summary>A /metrics scrape once <c>perfotel_cost_calls_total</c> for these labels reaches <paramref name="calls"/>.</summary>
    public Task<string> MetricsWithCallsAsync(double calls, params (string Label, string Value)[] labels) =>
        Exposition.ScrapeUntilAsync(Rest, text => Exposition.Sample(text, "perfotel_cost_calls_total", labels) >= calls,
            $"{calls} calls for {string.Join(",", labels)}");

    public async ValueTask DisposeAsync()
    {
        _tracing.Dispose();
        _exporterHttp.Dispose();
        Rest.Dispose();
        await Collector.DisposeAsync();
        Llm.Dispose();
    }

    /// <summary>Cost of one call at the catalog's gpt-4o-mini prices, by hand: uncached input, cached input, output.</summary>
    /// <summary>The two transports every producer test runs over: the exporter's default (gRPC) and HTTP/protobuf.</summary>
    public static TheoryData<OtlpExportProtocol> Transports => [OtlpExportProtocol.Grpc, OtlpExportProtocol.HttpProtobuf];

    public static double CallCost(long input, long output, long cached) =>
        ((input - cached) * 0.15 + cached * 0.075 + output * 0.60) / 1e6;
}

using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using PerfOtel.Collector.Tests.Otlp.Support;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Testing;
using static PerfOtel.Collector.Tests.Otlp.Support.OtlpBuilders;

namespace PerfOtel.Collector.Tests.Otlp.Grpc;

/// <summary>
/// The collector as users run it, its own process on two loopback ports: OTLP/gRPC (HTTP/2) and OTLP/HTTP (HTTP/1.1),
/// fed by the real OpenTelemetry .NET exporter and by senders pointed at the wrong port.
/// </summary>
public sealed class OtlpGrpcProcessTests : IDisposable
{
    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();
    private readonly List<DirectoryInfo> _directories = [];

    [Fact]
    public async Task DefaultDotNetExporter_WithOnlyItsEndpoint_StoresAndExposesWhatTheHttpExporterDoes()
    {
        await using var viaGrpc = await CollectorProcess.StartAsync(NewDirectory());
        await using var viaHttp = await CollectorProcess.StartAsync(NewDirectory());
        var start = new DateTimeOffset(DateTime.UtcNow.Ticks / TimeSpan.TicksPerMinute * TimeSpan.TicksPerMinute, TimeSpan.Zero).AddMinutes(-2);

        // What a team writes: the endpoint and nothing else. The exporter's default protocol is gRPC.
        EmitAgentRun(start, exporter => exporter.Endpoint = viaGrpc.GrpcAddress);
        EmitAgentRun(start, exporter =>
        {
            exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
            exporter.Endpoint = new Uri(viaHttp.BaseAddress, "v1/traces");
        });

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var grpcRecords = await ExportedAsync(http, viaGrpc);
        var httpRecords = await ExportedAsync(http, viaHttp);
        Assert.Equal(2, httpRecords.Count(l => l.Contains("\"triage\"", StringComparison.Ordinal) || l.Contains("\"planner\"", StringComparison.Ordinal)));
        Assert.Equal(httpRecords, grpcRecords);

        // The analytics series are equal once both collectors refreshed; only their own self-metrics differ.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string[] grpcSeries, httpSeries;
        do
        {
            await Task.Delay(200);
            grpcSeries = DerivedSeries(await http.GetStringAsync(new Uri(viaGrpc.BaseAddress, "metrics")));
            httpSeries = DerivedSeries(await http.GetStringAsync(new Uri(viaHttp.BaseAddress, "metrics")));
        }
        while ((!grpcSeries.SequenceEqual(httpSeries) || !httpSeries.Any(s => s.Contains("agent=\"triage\"", StringComparison.Ordinal)))
               && DateTime.UtcNow < deadline);

        Assert.Contains(httpSeries, s => s.Contains("agent=\"triage\"", StringComparison.Ordinal));
        Assert.Equal(httpSeries, grpcSeries);
    }

    [Fact]
    public async Task DefaultDotNetMetricsExporter_IsAcceptedOverGrpc()
    {
        await using var collector = await CollectorProcess.StartAsync(NewDirectory());
        using var meter = new Meter("PerfOtel.Tests.Agent." + Guid.NewGuid());
        var tokens = meter.CreateHistogram<long>("gen_ai.client.token.usage", "{token}");
        using (var provider = Sdk.CreateMeterProviderBuilder()
            .AddMeter(meter.Name)
            .AddOtlpExporter((exporter, reader) =>
            {
                exporter.Endpoint = collector.GrpcAddress;
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 3_600_000;
            })
            .Build())
        {
            tokens.Record(120, new KeyValuePair<string, object?>(GenAiAttributes.TokenType, "input"));
            Assert.True(provider.ForceFlush(30_000), "the gRPC exporter reported a failed metrics export");
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var scrape = await http.GetStringAsync(new Uri(collector.BaseAddress, "metrics"));
        Assert.Matches("perfotel_collector_grpc_requests_total\\{[^}]*rpc_grpc_status_code=\"0\"[^}]*signal=\"metrics\"[^}]*\\} [1-9]", scrape);
    }

    [Fact]
    public async Task WrongTransportOnEitherPort_IsAnsweredWithTheRightPort_LoggedOnce_AndCounted()
    {
        await using var collector = await CollectorProcess.StartAsync(NewDirectory());
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };

        // An OTLP/HTTP exporter (or curl) pointed at the gRPC port, twice.
        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var response = await http.PostAsync(new Uri(collector.GrpcAddress, "v1/traces"), Protobuf(Traces([])));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var text = await response.Content.ReadAsStringAsync();
            Assert.Contains("OTLP/gRPC", text, StringComparison.Ordinal);
            Assert.Contains("4318", text, StringComparison.Ordinal);
        }

        // A gRPC exporter pointed at the HTTP port opens with the HTTP/2 preface, twice.
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var (settings, goAway) = await SendPrefaceAsync(collector.Port);
            Assert.Equal(0x4, settings.Type);
            Assert.Equal(0x7, goAway.Type);
            Assert.Equal(0xd, (goAway.Payload[4] << 24) | (goAway.Payload[5] << 16) | (goAway.Payload[6] << 8) | goAway.Payload[7]);
            var advice = Encoding.UTF8.GetString(goAway.Payload, 8, goAway.Payload.Length - 8);
            Assert.Contains($"port {collector.GrpcPort}", advice, StringComparison.Ordinal);
        }

        // The gRPC port still serves gRPC: the check consumed nothing of a real client's connection.
        using (var client = OtlpGrpcClient.Loopback(collector.GrpcAddress))
        {
            await client.ExportAsync(Traces([Span("invoke_agent a", TraceId(1), SpanId(1),
                attributes: [(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent)])]));
        }

        var scrape = await http.GetStringAsync(new Uri(collector.BaseAddress, "metrics"));
        Assert.Matches("perfotel_collector_connections_misdirected_total\\{[^}]*listener=\"otlp_grpc\"[^}]*\\} 2\\b", scrape);
        Assert.Matches("perfotel_collector_connections_misdirected_total\\{[^}]*listener=\"otlp_http\"[^}]*\\} 2\\b", scrape);

        var output = collector.Process.Output;
        Assert.Equal(1, Occurrences(output, $"An HTTP/1 request arrived on the OTLP/gRPC port {collector.GrpcPort}"));
        Assert.Equal(1, Occurrences(output, $"An HTTP/2 (gRPC) connection arrived on the OTLP/HTTP port {collector.Port}"));
        Assert.Contains($"OTLP/gRPC is served on port {collector.GrpcPort}", output, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        foreach (var directory in _directories)
        {
            directory.Delete(recursive: true);
        }
    }

    private string NewDirectory()
    {
        var directory = Directory.CreateTempSubdirectory("perfotel-grpc-");
        _directories.Add(directory);
        return directory.FullName;
    }

    private static int Occurrences(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }

    /// <summary>An agent run with fixed times, so that every derived number is the same whichever way it travelled.</summary>
    private static void EmitAgentRun(DateTimeOffset start, Action<OtlpExporterOptions> configure)
    {
        var sourceName = "PerfOtel.Tests.Agent." + Guid.NewGuid();
        using var source = new ActivitySource(sourceName);
        using var provider = Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("support-bot").AddAttributes([new(PerfOtelAttributes.Tenant, "acme")]))
            .AddSource(sourceName)
            .SetSampler(new AlwaysOnSampler())
            .AddOtlpExporter(configure)
            .Build();

        foreach (var (agent, outcome, offset) in new[] { ("triage", Outcomes.Partial, 0), ("planner", Outcomes.Success, 10) })
        {
            var at = start.AddSeconds(offset);
            using var invocation = source.StartActivity(ActivityKind.Internal, startTime: at, name: $"invoke_agent {agent}")!;
            invocation.SetTag(GenAiAttributes.OperationName, GenAiOperations.InvokeAgent);
            invocation.SetTag(GenAiAttributes.AgentName, agent);
            invocation.SetTag(PerfOtelAttributes.TaskId, "task-" + agent);
            invocation.SetTag(PerfOtelAttributes.Outcome, outcome);
            invocation.SetTag(PerfOtelAttributes.Confidence, 0.75);
            using (var chat = source.StartActivity(ActivityKind.Client, startTime: at.AddMilliseconds(100), name: "chat gpt-4o-mini")!)
            {
                chat.SetTag(GenAiAttributes.OperationName, GenAiOperations.Chat);
                chat.SetTag(GenAiAttributes.ProviderName, "openai");
                chat.SetTag(GenAiAttributes.RequestModel, "gpt-4o-mini");
                chat.SetTag(GenAiAttributes.UsageInputTokens, 1200L);
                chat.SetTag(GenAiAttributes.UsageOutputTokens, 300L);
                chat.SetEndTime(at.AddMilliseconds(1300).UtcDateTime);
            }

            using (var tool = source.StartActivity(ActivityKind.Internal, startTime: at.AddMilliseconds(1400), name: "execute_tool lookup_order")!)
            {
                tool.SetTag(GenAiAttributes.OperationName, GenAiOperations.ExecuteTool);
                tool.SetTag(GenAiAttributes.ToolName, "lookup_order");
                tool.SetStatus(ActivityStatusCode.Error, "timeout");
                tool.SetTag(GenAiAttributes.ErrorType, "TimeoutException");
                tool.SetEndTime(at.AddMilliseconds(1900).UtcDateTime);
            }

            invocation.AddEvent(new ActivityEvent(GenAiEvents.EvaluationResult, at.AddMilliseconds(1950), new ActivityTagsCollection
            {
                [GenAiAttributes.EvaluationName] = "relevance",
                [GenAiAttributes.EvaluationScoreValue] = 0.9,
            }));
            invocation.SetEndTime(at.AddSeconds(2).UtcDateTime);
        }

        Assert.True(provider.ForceFlush(30_000), "the exporter reported a failed export");
    }

    /// <summary>The stored invocations as exported, without the ids each run generates afresh.</summary>
    private static async Task<string[]> ExportedAsync(HttpClient http, CollectorProcess collector)
    {
        var since = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-1).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture));
        var text = await http.GetStringAsync(new Uri(collector.BaseAddress, $"api/v1/executions/export?tenant=acme&since={since}"));
        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => Normalise(JsonNode.Parse(line)!).ToJsonString())];
    }

    private static JsonNode Normalise(JsonNode node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var key in obj.Select(p => p.Key).ToList())
                {
                    if (key.EndsWith("SpanId", StringComparison.OrdinalIgnoreCase) || key.Equals("traceId", StringComparison.OrdinalIgnoreCase)
                        || key.Equals("spanId", StringComparison.OrdinalIgnoreCase))
                    {
                        obj.Remove(key);
                    }
                    else if (obj[key] is { } child)
                    {
                        Normalise(child);
                    }
                }

                break;
            case JsonArray array:
                foreach (var item in array)
                {
                    if (item is not null)
                    {
                        Normalise(item);
                    }
                }

                break;
        }

        return node;
    }

    /// <summary>Every sample except the collector's self-metrics (requests by transport differ by design).</summary>
    private static string[] DerivedSeries(string exposition) =>
        [.. exposition.Split('\n')
            .Where(l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith("perfotel_collector_", StringComparison.Ordinal)
                        && !l.StartsWith("target_info", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)];

    private static async Task<((int Type, byte[] Payload) Settings, (int Type, byte[] Payload) GoAway)> SendPrefaceAsync(int port)
    {
        using var tcp = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await tcp.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Preface, timeout.Token);
        await stream.WriteAsync(new byte[] { 0, 0, 0, 0x4, 0, 0, 0, 0, 0 }, timeout.Token);
        var first = await ReadFrameAsync(stream, timeout.Token);
        var second = await ReadFrameAsync(stream, timeout.Token);
        return (first, second);
    }

    private static async Task<(int Type, byte[] Payload)> ReadFrameAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var header = new byte[9];
        await stream.ReadExactlyAsync(header, cancellationToken);
        var payload = new byte[(header[0] << 16) | (header[1] << 8) | header[2]];
        await stream.ReadExactlyAsync(payload, cancellationToken);
        return (header[3], payload);
    }
}

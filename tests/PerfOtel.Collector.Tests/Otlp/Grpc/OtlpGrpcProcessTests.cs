using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
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
        var start = AgentRunFixture.Start();

        // What a team writes: the endpoint and nothing else. The exporter's default protocol is gRPC.
        AgentRunFixture.EmitAgentRun(start, exporter => exporter.Endpoint = viaGrpc.GrpcAddress);
        AgentRunFixture.EmitAgentRun(start, exporter =>
        {
            exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
            exporter.Endpoint = new Uri(viaHttp.BaseAddress, "v1/traces");
        });

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var grpcRecords = await AgentRunFixture.ExportedAsync(http, viaGrpc);
        var httpRecords = await AgentRunFixture.ExportedAsync(http, viaHttp);
        Assert.Equal(2, httpRecords.Count(l => l.Contains("\"triage\"", StringComparison.Ordinal) || l.Contains("\"planner\"", StringComparison.Ordinal)));
        Assert.Equal(httpRecords, grpcRecords);

        // The analytics series are equal once both collectors refreshed; only their own self-metrics differ.
        var (httpSeries, grpcSeries) = await AgentRunFixture.SeriesOnceSettledAsync(http, viaHttp, viaGrpc);
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

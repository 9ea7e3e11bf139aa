using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Receiving.Grpc;

/// <summary>
/// Looks at the first bytes of each connection to tell an exporter pointed at the wrong port: a gRPC exporter on the
/// OTLP/HTTP port opens with the HTTP/2 connection preface (<c>PRI * HTTP/2.0</c>, RFC 9113 section 3.4), and an
/// OTLP/HTTP exporter or curl on the gRPC port sends an HTTP/1 request line. Either is logged (a warning once per
/// listener, then at debug level), counted on <c>perfotel.collector.connections.misdirected</c>, and answered in the
/// sender's own protocol with a sentence naming the right port, instead of Kestrel's silent protocol error.
/// </summary>
internal sealed partial class MisdirectedProtocolDetector(CollectorMetrics metrics, ILogger logger, int? grpcPort)
{
    public const string GrpcListener = "otlp_grpc";
    public const string HttpListener = "otlp_http";

    private static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();

    // One detector per listener: "once" means once per listener and process.
    private int _grpcLogged;
    private int _httpLogged;

    private enum Opening
    {
        Http2Preface,
        Other,
        Closed,
    }

    public ConnectionDelegate OnGrpcListener(ConnectionDelegate next) => async connection =>
    {
        var opening = await PeekAsync(connection.Transport.Input, connection.ConnectionClosed).ConfigureAwait(false);
        if (opening != Opening.Other)
        {
            await next(connection).ConfigureAwait(false);
            return;
        }

        var port = LocalPort(connection);
        metrics.MisdirectedConnection(GrpcListener);
        if (Interlocked.Exchange(ref _grpcLogged, 1) == 0)
        {
            LogHttp1OnGrpc(logger, port);
        }
        else
        {
            LogHttp1OnGrpcAgain(logger, port);
        }

        var body = Encoding.UTF8.GetBytes(
            $"Port {port} is the PerfOtel collector's OTLP/gRPC listener (HTTP/2 only). Send OTLP/HTTP (POST /v1/traces, /v1/metrics, /v1/logs) " +
            "to the OTLP/HTTP port (4318 by default), or use a gRPC exporter here.\n");
        var head = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n");
        await WriteAndCloseAsync(connection, [.. head, .. body]).ConfigureAwait(false);
    };

    public ConnectionDelegate OnHttpListener(ConnectionDelegate next) => async connection =>
    {
        var opening = await PeekAsync(connection.Transport.Input, connection.ConnectionClosed).ConfigureAwait(false);
        if (opening != Opening.Http2Preface)
        {
            await next(connection).ConfigureAwait(false);
            return;
        }

        var port = LocalPort(connection);
        metrics.MisdirectedConnection(HttpListener);
        var advice = grpcPort is { } grpc
            ? $"OTLP/gRPC is served on port {grpc} (Otlp:GrpcEndpoint); point gRPC exporters there, or set their protocol to http/protobuf for port {port}"
            : $"OTLP/gRPC is turned off (Otlp:GrpcEndpoint); set the exporter's protocol to http/protobuf for port {port}";
        if (Interlocked.Exchange(ref _httpLogged, 1) == 0)
        {
            LogHttp2OnHttp(logger, port, advice);
        }
        else
        {
            LogHttp2OnHttpAgain(logger, port, advice);
        }

        // The server's connection preface (an empty SETTINGS frame), then GOAWAY with HTTP_1_1_REQUIRED and the advice
        // as debug data: what an HTTP/2 client can read and report (RFC 9113 sections 6.5 and 6.8).
        await WriteAndCloseAsync(connection, [.. Frame(0x4, [], 0), .. GoAway(Encoding.UTF8.GetBytes(advice))]).ConfigureAwait(false);
    };

    /// <summary>Reads just enough to classify the connection, consuming nothing: Kestrel then reads the same bytes.</summary>
    private static async Task<Opening> PeekAsync(PipeReader input, CancellationToken closed)
    {
        SequencePosition? examined = null;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(closed).ConfigureAwait(false);
                var buffer = result.Buffer;
                var opening = Classify(buffer);
                if (opening is not null || result.IsCompleted || result.IsCanceled)
                {
                    // Examined no further than before: the next read (Kestrel's) returns these bytes at once.
                    input.AdvanceTo(buffer.Start, examined ?? buffer.Start);
                    return opening ?? Opening.Closed;
                }

                examined = buffer.End;
                input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (Exception error) when (error is OperationCanceledException or IOException or ConnectionResetException)
        {
            return Opening.Closed;
        }
    }

    private static Opening? Classify(ReadOnlySequence<byte> buffer)
    {
        var length = (int)Math.Min(buffer.Length, Preface.Length);
        Span<byte> start = stackalloc byte[Preface.Length];
        buffer.Slice(0, length).CopyTo(start);
        if (!start[..length].SequenceEqual(Preface.AsSpan(0, length)))
        {
            return Opening.Other;
        }

        return length == Preface.Length ? Opening.Http2Preface : null;
    }

    private static byte[] GoAway(byte[] debug)
    {
        var payload = new byte[8 + debug.Length];
        BinaryPrimitives.WriteInt32BigEndian(payload.AsSpan(0), 0); // last stream id: none was processed
        BinaryPrimitives.WriteInt32BigEndian(payload.AsSpan(4), 0xd); // HTTP_1_1_REQUIRED
        debug.CopyTo(payload, 8);
        return Frame(0x7, payload, 0);
    }

    private static byte[] Frame(byte type, byte[] payload, int streamId)
    {
        var frame = new byte[9 + payload.Length];
        frame[0] = (byte)(payload.Length >> 16);
        frame[1] = (byte)(payload.Length >> 8);
        frame[2] = (byte)payload.Length;
        frame[3] = type;
        frame[4] = 0;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), streamId);
        payload.CopyTo(frame, 9);
        return frame;
    }

    private static async Task WriteAndCloseAsync(ConnectionContext connection, byte[] bytes)
    {
        try
        {
            await connection.Transport.Output.WriteAsync(bytes, connection.ConnectionClosed).ConfigureAwait(false);
            await connection.Transport.Output.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception error) when (error is OperationCanceledException or IOException or ConnectionResetException)
        {
            // The sender left first: nothing to tell it.
        }
    }

    private static int LocalPort(ConnectionContext connection) => (connection.LocalEndPoint as System.Net.IPEndPoint)?.Port ?? 0;

    [LoggerMessage(EventId = 70, Level = LogLevel.Warning, Message =
        "An HTTP/1 request arrived on the OTLP/gRPC port {Port}, which speaks HTTP/2 (gRPC) only: an OTLP/HTTP exporter " +
        "should send to the OTLP/HTTP port (4318 by default, the collector's urls). Further ones are logged at debug level " +
        "and counted on perfotel_collector_connections_misdirected_total{{listener=\"otlp_grpc\"}}.")]
    private static partial void LogHttp1OnGrpc(ILogger logger, int port);

    [LoggerMessage(EventId = 71, Level = LogLevel.Debug, Message = "Another HTTP/1 request on the OTLP/gRPC port {Port}")]
    private static partial void LogHttp1OnGrpcAgain(ILogger logger, int port);

    [LoggerMessage(EventId = 72, Level = LogLevel.Warning, Message =
        "An HTTP/2 (gRPC) connection arrived on the OTLP/HTTP port {Port}, which speaks HTTP/1.1 only: {Advice}. Further " +
        "ones are logged at debug level and counted on perfotel_collector_connections_misdirected_total{{listener=\"otlp_http\"}}.")]
    private static partial void LogHttp2OnHttp(ILogger logger, int port, string advice);

    [LoggerMessage(EventId = 73, Level = LogLevel.Debug, Message = "Another HTTP/2 connection on the OTLP/HTTP port {Port}: {Advice}")]
    private static partial void LogHttp2OnHttpAgain(ILogger logger, int port, string advice);
}

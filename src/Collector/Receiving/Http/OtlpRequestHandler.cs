using System.Diagnostics;
using System.Globalization;
using Google.Protobuf;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Receiving.Http;

/// <summary>
/// One OTLP/HTTP export request, per the OTLP specification's HTTP section: POST only, protobuf or JSON, optional gzip,
/// answered 200 only once the records are committed; failures carry a google.rpc.Status in the request's encoding.
/// </summary>
internal sealed partial class OtlpRequestHandler(
    OtlpConsumer consumer,
    IOptions<OtlpOptions> otlpOptions,
    RejectionSummary rejections,
    ILogger<OtlpRequestHandler> logger)
{
    private readonly long _maxRequestBytes = otlpOptions.Value.MaxRequestBytes;
    private readonly string _retryAfter = consumer.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);

    public async Task HandleAsync(HttpContext context, OtlpSignal signal)
    {
        await ProcessAsync(context, signal).ConfigureAwait(false);
        consumer.Metrics.RequestAnswered(signal.Name, context.Response.StatusCode);
    }

    private async Task ProcessAsync(HttpContext context, OtlpSignal signal)
    {
        var request = context.Request;
        var encoding = OtlpMediaTypes.FromContentType(request.ContentType);
        if (!HttpMethods.IsPost(request.Method))
        {
            context.Response.Headers.Allow = HttpMethods.Post;
            await RefuseAsync(context, signal, StatusCodes.Status405MethodNotAllowed, encoding, RpcCode.Unimplemented,
                $"{request.Method} is not allowed on {signal.Path}; OTLP/HTTP exports use POST").ConfigureAwait(false);
            return;
        }

        if (encoding is null)
        {
            await RefuseAsync(context, signal, StatusCodes.Status415UnsupportedMediaType, null, RpcCode.InvalidArgument,
                $"Content-Type '{request.ContentType}' is not supported; use {OtlpMediaTypes.Protobuf} or {OtlpMediaTypes.Json}").ConfigureAwait(false);
            return;
        }

        if (consumer.TryEnter() is { } refusal)
        {
            await WriteRefusalAsync(context, signal, encoding, ExportOutcome.Refused(refusal)).ConfigureAwait(false);
            return;
        }

        Submission submission;
        var started = Stopwatch.GetTimestamp();
        long received;
        try
        {
            BodyReadResult body;
            try
            {
                body = await OtlpBodyReader.ReadAsync(request, _maxRequestBytes, context.RequestAborted).ConfigureAwait(false);
                received = Stopwatch.GetTimestamp();
            }
            catch (BadHttpRequestException error)
            {
                await RefuseAsync(context, signal, error.StatusCode, encoding, RpcCode.InvalidArgument, error.Message).ConfigureAwait(false);
                return;
            }
            catch (Exception error) when (error is IOException || (error is OperationCanceledException && context.RequestAborted.IsCancellationRequested))
            {
                // The sender went away mid-body: nothing was accepted and nobody is left to answer.
                LogSenderGone(logger, signal.Path, error.Message);
                return;
            }

            switch (body.Status)
            {
                case BodyReadStatus.TooLarge:
                    await RefuseAsync(context, signal, StatusCodes.Status413PayloadTooLarge, encoding, RpcCode.InvalidArgument,
                        $"request body exceeds {_maxRequestBytes} bytes after decompression (Otlp:MaxRequestBytes)").ConfigureAwait(false);
                    return;
                case BodyReadStatus.UnsupportedEncoding:
                    await RefuseAsync(context, signal, StatusCodes.Status415UnsupportedMediaType, encoding, RpcCode.InvalidArgument, body.Detail!).ConfigureAwait(false);
                    return;
                case BodyReadStatus.CorruptCompression:
                    await RefuseAsync(context, signal, StatusCodes.Status400BadRequest, encoding, RpcCode.InvalidArgument, body.Detail!).ConfigureAwait(false);
                    return;
            }

            Mapping.MappingResult result;
            try
            {
                // With authentication on, a tenant key's data is its tenant's, whatever the payload claims.
                result = signal.Decode(body.Memory, encoding.Value, Security.ApiCaller.Of(context)?.IngestTenant);
            }
            catch (OtlpDecodeException error)
            {
                LogUndecodable(logger, signal.Path, error.Message);
                await RefuseAsync(context, signal, StatusCodes.Status400BadRequest, encoding, RpcCode.InvalidArgument, error.Message).ConfigureAwait(false);
                return;
            }
            finally
            {
                // Decoding copies what it keeps: the pooled body can go back before the commit is awaited.
                OtlpBodyReader.Return(body);
            }

            submission = consumer.Submit(signal, result);
        }
        finally
        {
            consumer.Leave();
        }

        var outcome = await consumer.CompleteAsync(submission).ConfigureAwait(false);
        if (outcome.Status != ExportStatus.Accepted)
        {
            await WriteRefusalAsync(context, signal, encoding, outcome).ConfigureAwait(false);
            return;
        }

        await WriteMessageAsync(context, StatusCodes.Status200OK, encoding.Value, signal.Response(outcome.Rejected, outcome.ErrorMessage)).ConfigureAwait(false);
        if (submission.Pending is { } pending)
        {
            // The phases of a request that went through the ingest queue (the writer records those in between).
            var metrics = consumer.Metrics;
            metrics.IngestPhaseEnded(IngestPhase.Receive, started, received);
            metrics.IngestPhaseEnded(IngestPhase.Decode, received, pending.EnqueuedAt);
            metrics.IngestPhaseEnded(IngestPhase.Answer, pending.AnsweredAt, Stopwatch.GetTimestamp());
        }
    }

    private Task WriteRefusalAsync(HttpContext context, OtlpSignal signal, OtlpEncoding? encoding, ExportOutcome outcome)
    {
        // Both are retryable per OTLP/HTTP; Retry-After says when.
        var (statusCode, rpcCode) = outcome.Status is ExportStatus.Busy or ExportStatus.QueueFull
            ? (StatusCodes.Status429TooManyRequests, RpcCode.ResourceExhausted)
            : (StatusCodes.Status503ServiceUnavailable, RpcCode.Unavailable);
        context.Response.Headers.RetryAfter = _retryAfter;
        return RefuseAsync(context, signal, statusCode, encoding, rpcCode, outcome.Message);
    }

    // Refusals are summarised once a minute (RejectionSummary), never logged one line per request at the default level.
    private Task RefuseAsync(HttpContext context, OtlpSignal signal, int statusCode, OtlpEncoding? encoding, int rpcCode, string message)
    {
        rejections.Note(string.Create(CultureInfo.InvariantCulture, $"{signal.Path} {statusCode}"), message);
        return WriteErrorAsync(context, statusCode, encoding, rpcCode, message);
    }

    internal static Task WriteErrorAsync(HttpContext context, int statusCode, OtlpEncoding? encoding, int rpcCode, string message)
    {
        if (encoding is null)
        {
            // The sender speaks neither OTLP encoding: a readable sentence is all that can help.
            context.Response.StatusCode = statusCode;
            context.Response.ContentType = "text/plain; charset=utf-8";
            return context.Response.WriteAsync(message, context.RequestAborted);
        }

        return WriteMessageAsync(context, statusCode, encoding.Value, new Google.Rpc.Status { Code = rpcCode, Message = message });
    }

    private static async Task WriteMessageAsync(HttpContext context, int statusCode, OtlpEncoding encoding, IMessage message)
    {
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = OtlpMediaTypes.ContentType(encoding);
        var bytes = encoding == OtlpEncoding.Json
            ? System.Text.Encoding.UTF8.GetBytes(OtlpJson.Format(message))
            : message.ToByteArray();
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 11, Level = LogLevel.Debug, Message = "OTLP sender on {Path} disconnected while sending: {Reason}")]
    private static partial void LogSenderGone(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 10, Level = LogLevel.Debug, Message = "Undecodable OTLP request on {Path}: {Reason}")]
    private static partial void LogUndecodable(ILogger logger, string path, string reason);
}

/// <summary>google.rpc.Code values used in Status bodies.</summary>
internal static class RpcCode
{
    public const int InvalidArgument = 3;
    public const int PermissionDenied = 7;
    public const int ResourceExhausted = 8;
    public const int Unimplemented = 12;
    public const int Unavailable = 14;
    public const int Unauthenticated = 16;
}

using System.Globalization;
using Google.Protobuf;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Ingest;

namespace PerfOtel.Collector.Receiving.Http;

/// <summary>
/// One OTLP/HTTP export request, per the OTLP specification's HTTP section: POST only, protobuf or JSON, optional gzip,
/// answered 200 only once the records are committed; failures carry a google.rpc.Status in the request's encoding.
/// </summary>
internal sealed partial class OtlpRequestHandler(
    IngestQueue queue,
    CollectorMetrics metrics,
    IOptions<OtlpOptions> otlpOptions,
    IOptions<IngestOptions> ingestOptions,
    RejectionSummary rejections,
    ILogger<OtlpRequestHandler> logger) : IDisposable
{
    private readonly SemaphoreSlim _decodeSlots = new(otlpOptions.Value.MaxConcurrentRequests, otlpOptions.Value.MaxConcurrentRequests);
    private readonly long _maxRequestBytes = otlpOptions.Value.MaxRequestBytes;
    private readonly string _retryAfter = ingestOptions.Value.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);

    public async Task HandleAsync(HttpContext context, OtlpSignal signal)
    {
        await ProcessAsync(context, signal).ConfigureAwait(false);
        metrics.RequestAnswered(signal.Name, context.Response.StatusCode);
    }

    public void Dispose() => _decodeSlots.Dispose();

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

        if (!queue.IsAccepting)
        {
            await RefuseRetryableAsync(context, signal, StatusCodes.Status503ServiceUnavailable, encoding, "the collector is shutting down").ConfigureAwait(false);
            return;
        }

        if (!_decodeSlots.Wait(0))
        {
            await RefuseRetryableAsync(context, signal, StatusCodes.Status429TooManyRequests, encoding,
                "too many export requests are being decoded at once").ConfigureAwait(false);
            return;
        }

        Mapping.MappingResult result;
        PendingBatch? pending = null;
        EnqueueOutcome outcome;
        try
        {
            BodyReadResult body;
            try
            {
                body = await OtlpBodyReader.ReadAsync(request, _maxRequestBytes, context.RequestAborted).ConfigureAwait(false);
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

            try
            {
                // With authentication on, a tenant key's data is its tenant's, whatever the payload claims.
                result = signal.Decode(body.Span, encoding.Value, Security.ApiCaller.Of(context)?.IngestTenant);
            }
            catch (OtlpDecodeException error)
            {
                OtlpBodyReader.Return(body);
                LogUndecodable(logger, signal.Path, error.Message);
                await RefuseAsync(context, signal, StatusCodes.Status400BadRequest, encoding, RpcCode.InvalidArgument, error.Message).ConfigureAwait(false);
                return;
            }

            OtlpBodyReader.Return(body);
            signal.CountReceived(metrics, result.Received);
            signal.CountRejected(metrics, result.Rejected, RejectReasons.Invalid);
            rejections.Note($"{signal.Path} items refused in partial_success", result.ErrorMessage, result.Rejected);
            outcome = result.Batch.Count == 0 ? EnqueueOutcome.Accepted : queue.TryEnqueue(result.Batch, out pending);
        }
        finally
        {
            _decodeSlots.Release();
        }

        var valid = result.Received - result.Rejected;
        switch (outcome)
        {
            case EnqueueOutcome.Full:
                signal.CountRejected(metrics, valid, RejectReasons.QueueFull);
                await RefuseRetryableAsync(context, signal, StatusCodes.Status429TooManyRequests, encoding,
                    "the ingest queue is full (Ingest:QueueCapacityRecords / Ingest:QueueCapacityBytes)").ConfigureAwait(false);
                return;
            case EnqueueOutcome.ShuttingDown:
                signal.CountRejected(metrics, valid, RejectReasons.ShuttingDown);
                await RefuseRetryableAsync(context, signal, StatusCodes.Status503ServiceUnavailable, encoding, "the collector is shutting down").ConfigureAwait(false);
                return;
        }

        if (pending is not null)
        {
            try
            {
                // Not RequestAborted: the batch is in the writer's hands; a sender that hung up gets no answer but loses nothing.
                await pending.Committed.ConfigureAwait(false);
            }
#pragma warning disable CA1031 // Whatever the store threw, the sender must hear "retry" and nothing was acknowledged.
            catch (Exception)
#pragma warning restore CA1031
            {
                signal.CountRejected(metrics, valid, RejectReasons.StoreFailed);
                await RefuseRetryableAsync(context, signal, StatusCodes.Status503ServiceUnavailable, encoding,
                    "the execution store could not commit this batch").ConfigureAwait(false);
                return;
            }
        }

        signal.CountAccepted(metrics, valid);
        await WriteMessageAsync(context, StatusCodes.Status200OK, encoding.Value, signal.Response(result.Rejected, result.ErrorMessage)).ConfigureAwait(false);
    }

    private Task RefuseRetryableAsync(HttpContext context, OtlpSignal signal, int statusCode, OtlpEncoding? encoding, string message)
    {
        context.Response.Headers.RetryAfter = _retryAfter;
        return RefuseAsync(context, signal, statusCode, encoding,
            statusCode == StatusCodes.Status429TooManyRequests ? RpcCode.ResourceExhausted : RpcCode.Unavailable, message);
    }

    // Refusals are summarised once a minute (RejectionSummary), never logged one line per request at the default level.
    private Task RefuseAsync(HttpContext context, OtlpSignal signal, int statusCode, OtlpEncoding? encoding, int rpcCode, string message)
    {
        rejections.Note($"{signal.Path} {statusCode}", message);
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

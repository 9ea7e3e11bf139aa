using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using PerfOtel.Collector.Ingest;
using PerfOtel.Collector.Receiving.Feedback;
using PerfOtel.Collector.Receiving.Privacy;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Exposure.Api;

/// <summary>
/// <c>POST /api/v1/feedback</c>: attaches an actual outcome to an invocation, now or when it arrives. The record goes
/// through the ingest queue and its single writer like spans do, so the derivations see feedback the same one way.
/// </summary>
public static class FeedbackEndpoint
{
    public const string Route = "/api/v1/feedback";

    // Feedback carries two payloads at most; anything near this is a client bug, not feedback.
    private const long MaxBodyBytes = 1024 * 1024;

    public static IEndpointRouteBuilder MapPerfOtelFeedback(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost(Route, HandleAsync)
            .Describe("Attaches an actual outcome to an invocation (by taskId, or traceId and spanId), now or when it arrives.", [])
            .WithMetadata(new RequestBodyDescription(typeof(FeedbackDocument), "application/json"))
            .Produces<FeedbackAccepted>(StatusCodes.Status202Accepted)
            .Produces<ApiError>(StatusCodes.Status413PayloadTooLarge)
            .Produces<ApiError>(StatusCodes.Status415UnsupportedMediaType)
            .Produces<ApiError>(StatusCodes.Status429TooManyRequests)
            .Produces<ApiError>(StatusCodes.Status503ServiceUnavailable);
        return endpoints;
    }

    private static async Task<IResult> HandleAsync(HttpContext context, IngestQueue queue, IOptions<IngestOptions> ingest,
        TimeProvider clock, PrivacyPolicy privacy)
    {
        var request = context.Request;
        if (!request.HasJsonContentType())
        {
            return Results.Json(new ApiError("the body must be application/json", "Content-Type"),
                statusCode: StatusCodes.Status415UnsupportedMediaType);
        }

        if (request.ContentLength > MaxBodyBytes)
        {
            return Results.Json(new ApiError($"the body exceeds {MaxBodyBytes} bytes", "body"),
                statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        JsonDocument document;
        try
        {
            using var limited = new LengthLimitedStream(request.Body, MaxBodyBytes);
            document = await JsonDocument.ParseAsync(limited, default, context.RequestAborted).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            return Results.BadRequest(new ApiError($"the body is not valid JSON: {ex.Message}", "body"));
        }
        catch (LengthLimitedStream.TooLongException)
        {
            return Results.Json(new ApiError($"the body exceeds {MaxBodyBytes} bytes", "body"),
                statusCode: StatusCodes.Status413PayloadTooLarge);
        }

        FeedbackRecord record;
        using (document)
        {
            FeedbackRecord? parsed;
            FeedbackValidationError? error;
            try
            {
                (parsed, error) = FeedbackRequestParser.Parse(document.RootElement, RequestTenant.Resolve(context),
                    clock.GetUtcNow());
            }
            catch (InvalidOperationException ex)
            {
                // JsonDocument checks structure, not the UTF-8 inside strings; reading a string finds that out.
                return Results.BadRequest(new ApiError($"the body is not valid UTF-8 JSON: {ex.Message}", "body"));
            }
            if (error is not null)
            {
                return Results.BadRequest(new ApiError(error.Message, error.Field));
            }

            record = privacy.Apply(parsed!);
        }

        var batch = new IngestBatch();
        batch.Feedback.Add(record);
        switch (queue.TryEnqueue(batch, out var pending))
        {
            case EnqueueOutcome.Full:
                return Retryable(context, ingest, StatusCodes.Status429TooManyRequests, "the ingest queue is full; retry later");
            case EnqueueOutcome.ShuttingDown:
                return Retryable(context, ingest, StatusCodes.Status503ServiceUnavailable, "the collector is shutting down");
        }

        try
        {
            // Not RequestAborted: once queued the record is committed whether or not the client still listens.
            await pending!.Committed.ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The store refused the write: the sender retries (the feedback id keeps that idempotent).
        catch (Exception)
#pragma warning restore CA1031
        {
            return Retryable(context, ingest, StatusCodes.Status503ServiceUnavailable, "the store could not commit the feedback; retry later");
        }

        var result = pending.FeedbackResults[0];
        return Results.Json(new FeedbackAccepted(result.Joined, record.FeedbackId),
            statusCode: StatusCodes.Status202Accepted);
    }

    private static IResult Retryable(HttpContext context, IOptions<IngestOptions> ingest, int statusCode, string message)
    {
        context.Response.Headers.RetryAfter = ingest.Value.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return Results.Json(new ApiError(message), statusCode: statusCode);
    }

    internal sealed record FeedbackAccepted(bool Joined, string FeedbackId);

    /// <summary>The body <see cref="FeedbackRequestParser"/> reads, described for the OpenAPI document.</summary>
    internal sealed record FeedbackDocument(
        string? TaskId, string? TraceId, string? SpanId, string? FeedbackId, bool? Success, double? Score,
        System.Text.Json.JsonElement? Predicted, System.Text.Json.JsonElement? Actual);
}

using System.Text.Json;
using PerfOtel.Collector.Exposure.Api;
using PerfOtel.Collector.Receiving.Privacy;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Receiving.Feedback;

/// <summary><c>POST /api/v1/feedback</c>: attaches an actual outcome to an invocation, now or when it arrives.</summary>
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
            .Accepts<FeedbackDocument>("application/json")
            .Produces<FeedbackAccepted>(StatusCodes.Status202Accepted)
            .Produces<ApiError>(StatusCodes.Status413PayloadTooLarge)
            .Produces<ApiError>(StatusCodes.Status415UnsupportedMediaType);
        return endpoints;
    }

    private static async Task<IResult> HandleAsync(HttpContext context, IExecutionStore store,
        IEnumerable<IIngestObserver> observers, TimeProvider clock, ILoggerFactory loggers, PrivacyPolicy privacy)
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

        var result = await store.AddFeedbackAsync(record, context.RequestAborted).ConfigureAwait(false);
        if (result is { Joined: true, Invocation: { } invocation, AlreadyStored: false })
        {
            var join = new FeedbackJoin(invocation, record);
            foreach (var observer in observers)
            {
                try
                {
                    observer.OnFeedbackJoined(join);
                }
#pragma warning disable CA1031 // The feedback is committed; a faulty observer must not turn that into an error.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    loggers.CreateLogger(typeof(FeedbackEndpoint)).LogError(ex,
                        "Ingest observer {Observer} failed on a feedback join", observer.GetType().Name);
                }
            }
        }

        return Results.Json(new FeedbackAccepted(result.Joined, record.FeedbackId),
            statusCode: StatusCodes.Status202Accepted);
    }

    internal sealed record FeedbackAccepted(bool Joined, string FeedbackId);

    /// <summary>The body <see cref="FeedbackRequestParser"/> reads, described for the OpenAPI document.</summary>
    internal sealed record FeedbackDocument(
        string? TaskId, string? TraceId, string? SpanId, string? FeedbackId, bool? Success, double? Score,
        System.Text.Json.JsonElement? Predicted, System.Text.Json.JsonElement? Actual);
}

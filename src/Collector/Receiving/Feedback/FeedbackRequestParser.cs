using System.Text.Json;
using PerfOtel.Instrumentation.Evaluation;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Receiving.Feedback;

/// <summary>A body field that failed validation, named as the client spelled it.</summary>
internal sealed record FeedbackValidationError(string Field, string Message);

/// <summary>
/// Turns a <c>POST /api/v1/feedback</c> body into a <see cref="FeedbackRecord"/>, or into an error naming the field.
/// Hand-parsed rather than model-bound so every error says which field is wrong and why; unknown fields are ignored
/// (clients newer than the collector may send more).
/// </summary>
internal static class FeedbackRequestParser
{
    public const int MaxIdLength = 256;

    public static (FeedbackRecord? Record, FeedbackValidationError? Error) Parse(JsonElement body, string tenant,
        DateTimeOffset receivedAt)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            return Fail("body", "the body must be a JSON object");
        }

        string? taskId = null, traceId = null, spanId = null, feedbackId = null;
        bool? success = null;
        double? score = null;
        JsonElement? predicted = null, actual = null;
        foreach (var property in body.EnumerateObject())
        {
            var value = property.Value;
            switch (property.Name)
            {
                case "taskId":
                    if (!TryIdentifier(value, out taskId))
                    {
                        return Fail("taskId", $"taskId must be a non-empty string of at most {MaxIdLength} characters");
                    }
                    break;
                case "feedbackId":
                    if (!TryIdentifier(value, out feedbackId))
                    {
                        return Fail("feedbackId", $"feedbackId must be a non-empty string of at most {MaxIdLength} characters");
                    }
                    break;
                case "traceId":
                    if (!TryHexId(value, 32, out traceId))
                    {
                        return Fail("traceId", "traceId must be 32 hexadecimal characters, not all zero");
                    }
                    break;
                case "spanId":
                    if (!TryHexId(value, 16, out spanId))
                    {
                        return Fail("spanId", "spanId must be 16 hexadecimal characters, not all zero");
                    }
                    break;
                case "success":
                    if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                    {
                        return Fail("success", "success must be true or false");
                    }
                    success = value.GetBoolean();
                    break;
                case "score":
                    if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number)
                        || !double.IsFinite(number) || number is < 0 or > 1)
                    {
                        return Fail("score", "score must be a number from 0 to 1");
                    }
                    score = number;
                    break;
                case "predicted":
                    predicted = value.Clone();
                    break;
                case "actual":
                    actual = value.Clone();
                    break;
            }
        }

        if ((traceId is null) != (spanId is null))
        {
            return traceId is null
                ? Fail("traceId", "traceId is required with spanId")
                : Fail("spanId", "spanId is required with traceId");
        }

        if (taskId is null && traceId is null)
        {
            return Fail("taskId", "taskId, or traceId and spanId, must identify the invocation");
        }

        if (predicted.HasValue != actual.HasValue)
        {
            return predicted.HasValue
                ? Fail("actual", "actual is required with predicted")
                : Fail("predicted", "predicted is required with actual");
        }

        if (success is null && score is null && actual is null)
        {
            return Fail("success", "at least one of success, score, or predicted and actual is required");
        }

        var record = new FeedbackRecord
        {
            Tenant = tenant,
            FeedbackId = feedbackId ?? Guid.NewGuid().ToString("N"),
            TaskId = taskId,
            TraceId = traceId,
            SpanId = spanId,
            Success = success,
            Score = score,
            PredictedJson = predicted?.GetRawText(),
            ActualJson = actual?.GetRawText(),
            Accuracy = actual is { } actualValue ? AccuracyScorer.Score(predicted!.Value, actualValue) : null,
            ReceivedAt = receivedAt,
        };
        return (record, null);
    }

    private static (FeedbackRecord?, FeedbackValidationError?) Fail(string field, string message) =>
        (null, new FeedbackValidationError(field, message));

    private static bool TryIdentifier(JsonElement value, out string? id)
    {
        id = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        if (string.IsNullOrWhiteSpace(id) || id.Length > MaxIdLength)
        {
            return false;
        }

        // Cleaned by the rule span attributes pass, so a task id with a control character still matches its span's.
        id = Mapping.StoredText.Clean(id);
        return true;
    }

    private static bool TryHexId(JsonElement value, int length, out string? id)
    {
        id = null;
        if (value.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        var text = value.GetString()!;
        if (text.Length != length || !text.All(char.IsAsciiHexDigit) || text.All(c => c == '0'))
        {
            return false;
        }

        // Records keep ids as lowercase hex; clients may copy them from tools that print uppercase.
        id = text.ToLowerInvariant();
        return true;
    }
}

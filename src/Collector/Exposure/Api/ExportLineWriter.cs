using System.Globalization;
using System.Text.Json;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Exposure.Api;

/// <summary>
/// One export line: the invocation's own fields (camelCase, nulls omitted; <c>sampleWeight</c> always), <c>rollUp</c> with the totals of its
/// provider calls, and <c>feedback</c> when an outcome was posted for it.
/// </summary>
internal static class ExportLineWriter
{
    public static void Write(Utf8JsonWriter json, StoredInvocation stored)
    {
        var i = stored.Invocation;
        json.WriteStartObject();
        json.WriteString("tenant", i.Tenant);
        json.WriteString("traceId", i.TraceId);
        json.WriteString("spanId", i.SpanId);
        Optional(json, "parentSpanId", i.ParentSpanId);
        Optional(json, "serviceName", i.ServiceName);
        json.WriteString("agentName", i.AgentName);
        Optional(json, "agentId", i.AgentId);
        Optional(json, "agentType", i.AgentType);
        Optional(json, "taskId", i.TaskId);
        Optional(json, "taskType", i.TaskType);
        Optional(json, "jobId", i.JobId);
        Optional(json, "conversationId", i.ConversationId);
        Optional(json, "experiment", i.Experiment);
        Optional(json, "variant", i.Variant);
        json.WriteString("startTime", Rfc3339(i.StartTime));
        json.WriteNumber("durationSeconds", i.DurationSeconds);
        json.WriteString("outcome", i.Outcome);
        Optional(json, "errorType", i.ErrorType);
        Optional(json, "confidence", i.Confidence);
        Optional(json, "quality", i.Quality);
        Tokens(json, "tokens", i.Tokens);
        Optional(json, "costUsd", i.CostUsd);
        // The adjusted count of a sampled trace (1 unsampled): what this line stands for in counts and totals, so an
        // export re-aggregated elsewhere gives the collector's own figures (docs/collector/otlp-ingest.md, sampling).
        json.WriteNumber("sampleWeight", i.SampleWeight);
        RawJson(json, "attributes", i.AttributesJson);

        json.WriteStartObject("rollUp");
        Tokens(json, "tokens", stored.RolledUpTokens);
        Optional(json, "costUsd", stored.RolledUpCostUsd);
        json.WriteNumber("unpricedTokens", stored.UnpricedTokens);
        json.WriteEndObject();

        if (stored.Feedback is { } f)
        {
            json.WriteStartObject("feedback");
            json.WriteString("feedbackId", f.FeedbackId);
            if (f.Success is { } success)
            {
                json.WriteBoolean("success", success);
            }

            Optional(json, "score", f.Score);
            Optional(json, "accuracy", f.Accuracy);
            RawJson(json, "predicted", f.PredictedJson);
            RawJson(json, "actual", f.ActualJson);
            json.WriteString("receivedAt", Rfc3339(f.ReceivedAt));
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }

    private static string Rfc3339(DateTimeOffset time) =>
        time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    private static void Tokens(Utf8JsonWriter json, string name, TokenCounts tokens)
    {
        json.WriteStartObject(name);
        json.WriteNumber("input", tokens.Input);
        json.WriteNumber("output", tokens.Output);
        json.WriteNumber("cacheRead", tokens.CacheRead);
        json.WriteNumber("cacheCreation", tokens.CacheCreation);
        json.WriteNumber("reasoning", tokens.Reasoning);
        json.WriteEndObject();
    }

    private static void Optional(Utf8JsonWriter json, string name, string? value)
    {
        if (value is not null)
        {
            json.WriteString(name, value);
        }
    }

    private static void Optional(Utf8JsonWriter json, string name, double? value)
    {
        if (value is { } number && double.IsFinite(number))
        {
            json.WriteNumber(name, number);
        }
    }

    private static void RawJson(Utf8JsonWriter json, string name, string? raw)
    {
        if (raw is null)
        {
            return;
        }

        // Stored JSON came through a parser, but a line must stay valid even if a row was edited by hand.
        try
        {
            using var document = JsonDocument.Parse(raw);
            json.WritePropertyName(name);
            document.RootElement.WriteTo(json);
        }
        catch (JsonException)
        {
            json.WriteString(name, raw);
        }
    }
}

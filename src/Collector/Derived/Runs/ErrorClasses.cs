namespace PerfOtel.Collector.Derived.Runs;

/// <summary>
/// The one set of error classes a run's failures are sorted into, from the <c>error.type</c> of the step that failed
/// and the kind of that step (docs/collector/rest-api.md, "Error classes"). Provider availability problems are thus
/// told apart from the agent's own failures.
/// </summary>
public static class ErrorClasses
{
    public const string ProviderUnavailable = "provider_unavailable";
    public const string ProviderThrottled = "provider_throttled";
    public const string ProviderTimeout = "provider_timeout";
    public const string ProviderBadRequest = "provider_bad_request";
    public const string ToolError = "tool_error";
    public const string ValidationError = "validation_error";
    public const string GenerationError = "generation_error";
    public const string Other = "other";

    /// <summary>Every class, in the documented order.</summary>
    public static IReadOnlyList<string> All { get; } =
    [
        ProviderUnavailable, ProviderThrottled, ProviderTimeout, ProviderBadRequest, ToolError, ValidationError,
        GenerationError, Other,
    ];

    // Checked in this order; a keyword matches anywhere in the lower-cased error.type, a status code only as a whole
    // token (so "500" does not match "15000").
    private static readonly (string Class, string[] Codes, string[] Keywords)[] ProviderRules =
    [
        (ProviderTimeout, ["408", "504"], ["timeout", "timed_out", "timedout", "deadline"]),
        (ProviderThrottled, ["429"], ["rate_limit", "ratelimit", "throttl", "too_many_requests", "quota", "resource_exhausted"]),
        (ProviderUnavailable, ["500", "502", "503", "529"],
            ["unavailable", "overloaded", "server_error", "internal_server", "connection", "network", "socket", "http_request"]),
        (ProviderBadRequest, ["400", "401", "403", "404", "413", "422"],
            ["bad_request", "badrequest", "invalid", "context_length", "unauthorized", "forbidden", "not_found", "authentication", "permission"]),
    ];

    private static readonly string[] ValidationKeywords = ["validation", "schema", "parse", "json", "format"];

    private static readonly string[] GenerationKeywords =
        ["generation", "content_filter", "refusal", "max_tokens", "length", "hallucination", "empty_response"];

    /// <summary>A provider call that failed: one of the provider classes, else <see cref="Other"/>.</summary>
    public static string OfProviderCall(string errorType) => Provider(Normalize(errorType)) ?? Other;

    /// <summary>A tool call that failed is a tool error whatever its error.type.</summary>
    public static string OfToolCall() => ToolError;

    /// <summary>
    /// An invocation's own failure (its <c>error.type</c>, or a failure status without one): validation and generation
    /// errors first; a timeout, throttling or unavailability the agent reports itself still points at the provider;
    /// anything else (including no error.type at all) is <see cref="Other"/>.
    /// </summary>
    public static string OfInvocation(string? errorType)
    {
        if (errorType is null)
        {
            return Other;
        }
        var text = Normalize(errorType);
        if (ValidationKeywords.Any(text.Contains))
        {
            return ValidationError;
        }
        if (GenerationKeywords.Any(text.Contains))
        {
            return GenerationError;
        }
        return Provider(text) is { } provider && provider != ProviderBadRequest ? provider : Other;
    }

    private static string? Provider(string text)
    {
        var tokens = text.Split(['_', '.', ' ', '-', ':', '/'], StringSplitOptions.RemoveEmptyEntries);
        foreach (var (name, codes, keywords) in ProviderRules)
        {
            if (codes.Any(tokens.Contains) || keywords.Any(text.Contains))
            {
                return name;
            }
        }
        return null;
    }

    // "RateLimitError" and "rate-limit" read like "rate_limit": case folded, camel case and dashes turned into '_'.
    private static string Normalize(string errorType)
    {
        var text = new System.Text.StringBuilder(errorType.Length + 8);
        for (var i = 0; i < errorType.Length; i++)
        {
            var c = errorType[i];
            if (char.IsUpper(c) && i > 0 && char.IsLower(errorType[i - 1]))
            {
                text.Append('_');
            }
            text.Append(c is '-' or ' ' ? '_' : char.ToLowerInvariant(c));
        }
        return text.ToString();
    }
}

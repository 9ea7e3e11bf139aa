namespace PerfOtel.Instrumentation.Pricing;

/// <summary>
/// Tokens of one model call, counted as the OpenTelemetry GenAI conventions count them.
/// </summary>
/// <remarks>
/// <see cref="InputTokens"/> includes every input token, cached ones too: <see cref="CacheReadInputTokens"/> and
/// <see cref="CacheCreationInputTokens"/> are parts of it, not additions to it (for Anthropic's API, whose
/// <c>input_tokens</c> excludes them, pass their sum). Likewise <see cref="ReasoningOutputTokens"/> are part of
/// <see cref="OutputTokens"/>.
/// </remarks>
/// <param name="InputTokens">All input (prompt) tokens, cached ones included.</param>
/// <param name="OutputTokens">All output (completion) tokens, reasoning ones included.</param>
/// <param name="CacheReadInputTokens">Input tokens served from the provider's prompt cache.</param>
/// <param name="CacheCreationInputTokens">Input tokens written to the provider's prompt cache.</param>
/// <param name="ReasoningOutputTokens">Output tokens spent on reasoning.</param>
public readonly record struct TokenUsage(
    long InputTokens,
    long OutputTokens,
    long CacheReadInputTokens = 0,
    long CacheCreationInputTokens = 0,
    long ReasoningOutputTokens = 0);

namespace PerfOtel.Collector.Receiving.Mapping;

// Attribute names that other instrumentations emit instead of (or before) the current GenAI semantic conventions.
// The collector only reads them; PerfOtel never writes them. Current names live in GenAiConventions.cs.
// docs/collector/foreign-conventions.md lists every constant here with where it comes from; ForeignConventionsDocTests
// keeps that table and these classes equal.

/// <summary>Names from earlier versions of the GenAI conventions that libraries still emit.</summary>
internal static class LegacyGenAiAttributes
{
    /// <summary>Pre-1.37 spelling of the prompt-cache read count (OpenLLMetry, Anthropic instrumentations).</summary>
    public const string UsageCacheReadInputTokens = "gen_ai.usage.cache_read_input_tokens";

    /// <summary>Pre-1.37 spelling of the prompt-cache write count.</summary>
    public const string UsageCacheCreationInputTokens = "gen_ai.usage.cache_creation_input_tokens";

    /// <summary>Reasoning-token count as some SDKs spelled it before the conventions named it.</summary>
    public const string UsageReasoningTokens = "gen_ai.usage.reasoning_tokens";

    /// <summary>Event name carried as an attribute on log records by SDKs older than the LogRecord event_name field.</summary>
    public const string EventName = "event.name";

    /// <summary>Semantic Kernel's token counts before the <c>gen_ai.usage.*</c> names (1.x ModelDiagnostics).</summary>
    public const string ResponsePromptTokens = "gen_ai.response.prompt_tokens";

    /// <summary>Semantic Kernel's output-token count before the <c>gen_ai.usage.*</c> names.</summary>
    public const string ResponseCompletionTokens = "gen_ai.response.completion_tokens";
}

/// <summary>
/// Names the GenAI conventions have renamed in changelog fragments not yet released (open-telemetry/semantic-conventions,
/// <c>.chloggen/</c>). Read beside the released names, which win when a span carries both.
/// </summary>
internal static class RenamedGenAiAttributes
{
    /// <summary>The renamed <c>gen_ai.usage.cache_creation.input_tokens</c>.</summary>
    public const string UsageCacheWriteInputTokens = "gen_ai.usage.cache_write.input_tokens";
}

/// <summary>Values of <c>gen_ai.operation.name</c> that older releases of the conventions (and Semantic Kernel) used.</summary>
internal static class LegacyGenAiOperations
{
    /// <summary>Semantic Kernel's chat operation before the conventions settled on <c>chat</c>.</summary>
    public const string ChatCompletions = "chat.completions";

    /// <summary>Semantic Kernel's text completion operation before <c>text_completion</c>.</summary>
    public const string TextCompletions = "text.completions";
}

/// <summary>OpenLLMetry (Traceloop) attributes.</summary>
internal static class OpenLlmetryAttributes
{
    /// <summary><c>chat</c>, <c>completion</c>, <c>embedding</c>, <c>rerank</c>.</summary>
    public const string RequestType = "llm.request.type";
    public const string Vendor = "llm.vendor";
    public const string UsagePromptTokens = "llm.usage.prompt_tokens";
    public const string UsageCompletionTokens = "llm.usage.completion_tokens";
    public const string UsageTotalTokens = "llm.usage.total_tokens";
    public const string UsageCacheReadInputTokens = "llm.usage.cache_read_input_tokens";
    public const string UsageReasoningTokens = "llm.usage.reasoning_tokens";

    /// <summary><c>workflow</c>, <c>task</c>, <c>agent</c>, <c>tool</c>.</summary>
    public const string SpanKind = "traceloop.span.kind";
    public const string EntityName = "traceloop.entity.name";
}

/// <summary>OpenInference (Arize Phoenix) attributes.</summary>
internal static class OpenInferenceAttributes
{
    /// <summary><c>LLM</c>, <c>EMBEDDING</c>, <c>TOOL</c>, <c>AGENT</c>, <c>CHAIN</c>, <c>RETRIEVER</c>, ...</summary>
    public const string SpanKind = "openinference.span.kind";
    public const string ModelName = "llm.model_name";
    public const string Provider = "llm.provider";
    public const string System = "llm.system";
    public const string TokenCountPrompt = "llm.token_count.prompt";
    public const string TokenCountCompletion = "llm.token_count.completion";
    public const string TokenCountTotal = "llm.token_count.total";
    public const string TokenCountCacheRead = "llm.token_count.prompt_details.cache_read";
    public const string TokenCountCacheWrite = "llm.token_count.prompt_details.cache_write";
    public const string TokenCountReasoning = "llm.token_count.completion_details.reasoning";
    public const string ToolName = "tool.name";
    public const string AgentName = "agent.name";
    public const string SessionId = "session.id";
}

/// <summary>General OpenTelemetry names the mapper reads.</summary>
internal static class OtelAttributes
{
    public const string ServiceName = "service.name";
    public const string ExceptionEvent = "exception";
    public const string ExceptionType = "exception.type";
}

/// <summary>
/// Span attributes other samplers record the sampling rate in, read when the tracestate carries no OpenTelemetry
/// threshold (<see cref="SamplingWeight"/>).
/// </summary>
internal static class SamplingAttributes
{
    /// <summary>Honeycomb's samplers and Beelines: the span stands for this many.</summary>
    public const string SampleRate = "SampleRate";

    /// <summary>Jaeger clients' sampler kind (<c>probabilistic</c>, <c>const</c>, <c>ratelimiting</c>, ...).</summary>
    public const string JaegerSamplerType = "sampler.type";

    /// <summary>Jaeger clients' sampler parameter: the probability when the kind is <c>probabilistic</c>.</summary>
    public const string JaegerSamplerParam = "sampler.param";
}

namespace PerfOtel.Instrumentation.Conventions;

/// <summary>
/// Names from the OpenTelemetry semantic conventions for generative AI
/// (https://opentelemetry.io/docs/specs/semconv/gen-ai/). The single place where the project spells them;
/// the collector reads spans with the same constants.
/// </summary>
public static class GenAiAttributes
{
    /// <summary><c>gen_ai.operation.name</c>: chat, text_completion, generate_content, embeddings, invoke_agent, execute_tool, create_agent.</summary>
    public const string OperationName = "gen_ai.operation.name";

    /// <summary><c>gen_ai.provider.name</c>: the provider, e.g. <c>openai</c>, <c>anthropic</c>, <c>gcp.gemini</c>, <c>mistral_ai</c>.</summary>
    public const string ProviderName = "gen_ai.provider.name";

    /// <summary><c>gen_ai.system</c>: the deprecated predecessor of <see cref="ProviderName"/>, still emitted by many libraries.</summary>
    public const string SystemDeprecated = "gen_ai.system";

    /// <summary><c>gen_ai.request.model</c>.</summary>
    public const string RequestModel = "gen_ai.request.model";

    /// <summary><c>gen_ai.response.model</c>.</summary>
    public const string ResponseModel = "gen_ai.response.model";

    /// <summary><c>gen_ai.response.id</c>.</summary>
    public const string ResponseId = "gen_ai.response.id";

    /// <summary><c>gen_ai.response.finish_reasons</c>.</summary>
    public const string ResponseFinishReasons = "gen_ai.response.finish_reasons";

    /// <summary><c>gen_ai.request.max_tokens</c>.</summary>
    public const string RequestMaxTokens = "gen_ai.request.max_tokens";

    /// <summary><c>gen_ai.request.temperature</c>.</summary>
    public const string RequestTemperature = "gen_ai.request.temperature";

    /// <summary><c>gen_ai.usage.input_tokens</c>.</summary>
    public const string UsageInputTokens = "gen_ai.usage.input_tokens";

    /// <summary><c>gen_ai.usage.output_tokens</c>.</summary>
    public const string UsageOutputTokens = "gen_ai.usage.output_tokens";

    /// <summary><c>gen_ai.usage.cache_read.input_tokens</c>: input tokens served from the provider's prompt cache.</summary>
    public const string UsageCacheReadInputTokens = "gen_ai.usage.cache_read.input_tokens";

    /// <summary><c>gen_ai.usage.cache_creation.input_tokens</c>: input tokens written to the provider's prompt cache.</summary>
    public const string UsageCacheCreationInputTokens = "gen_ai.usage.cache_creation.input_tokens";

    /// <summary><c>gen_ai.usage.reasoning.output_tokens</c>: output tokens spent on reasoning.</summary>
    public const string UsageReasoningOutputTokens = "gen_ai.usage.reasoning.output_tokens";

    /// <summary><c>gen_ai.usage.prompt_tokens</c>: deprecated name of <see cref="UsageInputTokens"/>.</summary>
    public const string UsagePromptTokensDeprecated = "gen_ai.usage.prompt_tokens";

    /// <summary><c>gen_ai.usage.completion_tokens</c>: deprecated name of <see cref="UsageOutputTokens"/>.</summary>
    public const string UsageCompletionTokensDeprecated = "gen_ai.usage.completion_tokens";

    /// <summary><c>gen_ai.token.type</c> on <c>gen_ai.client.token.usage</c>: <c>input</c> or <c>output</c>.</summary>
    public const string TokenType = "gen_ai.token.type";

    /// <summary><c>gen_ai.agent.name</c>.</summary>
    public const string AgentName = "gen_ai.agent.name";

    /// <summary><c>gen_ai.agent.id</c>.</summary>
    public const string AgentId = "gen_ai.agent.id";

    /// <summary><c>gen_ai.agent.description</c>.</summary>
    public const string AgentDescription = "gen_ai.agent.description";

    /// <summary><c>gen_ai.conversation.id</c>.</summary>
    public const string ConversationId = "gen_ai.conversation.id";

    /// <summary><c>gen_ai.tool.name</c>.</summary>
    public const string ToolName = "gen_ai.tool.name";

    /// <summary><c>gen_ai.tool.call.id</c>.</summary>
    public const string ToolCallId = "gen_ai.tool.call.id";

    /// <summary><c>gen_ai.tool.type</c>: function, extension, datastore.</summary>
    public const string ToolType = "gen_ai.tool.type";

    /// <summary><c>gen_ai.input.messages</c>: message content (privacy-sensitive).</summary>
    public const string InputMessages = "gen_ai.input.messages";

    /// <summary><c>gen_ai.output.messages</c>: message content (privacy-sensitive).</summary>
    public const string OutputMessages = "gen_ai.output.messages";

    /// <summary><c>gen_ai.system_instructions</c>: system prompt content (privacy-sensitive).</summary>
    public const string SystemInstructions = "gen_ai.system_instructions";

    /// <summary><c>gen_ai.evaluation.name</c> on the <c>gen_ai.evaluation.result</c> event.</summary>
    public const string EvaluationName = "gen_ai.evaluation.name";

    /// <summary><c>gen_ai.evaluation.score.value</c> on the <c>gen_ai.evaluation.result</c> event.</summary>
    public const string EvaluationScoreValue = "gen_ai.evaluation.score.value";

    /// <summary><c>gen_ai.evaluation.score.label</c> on the <c>gen_ai.evaluation.result</c> event.</summary>
    public const string EvaluationScoreLabel = "gen_ai.evaluation.score.label";

    /// <summary><c>gen_ai.evaluation.explanation</c> on the <c>gen_ai.evaluation.result</c> event.</summary>
    public const string EvaluationExplanation = "gen_ai.evaluation.explanation";

    /// <summary><c>error.type</c>: the error class, or <c>_OTHER</c>.</summary>
    public const string ErrorType = "error.type";

    /// <summary><c>server.address</c>.</summary>
    public const string ServerAddress = "server.address";

    /// <summary><c>server.port</c>.</summary>
    public const string ServerPort = "server.port";
}

/// <summary>Values of <c>gen_ai.operation.name</c> and span names derived from them.</summary>
public static class GenAiOperations
{
    /// <summary><c>chat</c>.</summary>
    public const string Chat = "chat";

    /// <summary><c>text_completion</c>.</summary>
    public const string TextCompletion = "text_completion";

    /// <summary><c>generate_content</c>.</summary>
    public const string GenerateContent = "generate_content";

    /// <summary><c>embeddings</c>.</summary>
    public const string Embeddings = "embeddings";

    /// <summary><c>invoke_agent</c>.</summary>
    public const string InvokeAgent = "invoke_agent";

    /// <summary><c>create_agent</c>.</summary>
    public const string CreateAgent = "create_agent";

    /// <summary><c>execute_tool</c>.</summary>
    public const string ExecuteTool = "execute_tool";

    /// <summary>Whether an operation name denotes a call to a model (an inference).</summary>
    public static bool IsInference(string? operation) =>
        operation is Chat or TextCompletion or GenerateContent or Embeddings;
}

/// <summary>Event names from the GenAI conventions.</summary>
public static class GenAiEvents
{
    /// <summary><c>gen_ai.evaluation.result</c>: the result of an evaluation of a GenAI output.</summary>
    public const string EvaluationResult = "gen_ai.evaluation.result";
}

/// <summary>
/// PerfOtel's own attributes for what the GenAI conventions lack (docs/architecture.md, Contracts).
/// Never new <c>gen_ai.*</c> names.
/// </summary>
public static class PerfOtelAttributes
{
    /// <summary><c>perfotel.tenant</c>: on invoke_agent spans or as a resource attribute.</summary>
    public const string Tenant = "perfotel.tenant";

    /// <summary><c>perfotel.agent.type</c>.</summary>
    public const string AgentType = "perfotel.agent.type";

    /// <summary><c>perfotel.task.id</c>.</summary>
    public const string TaskId = "perfotel.task.id";

    /// <summary><c>perfotel.task.type</c>.</summary>
    public const string TaskType = "perfotel.task.type";

    /// <summary><c>perfotel.job.id</c>.</summary>
    public const string JobId = "perfotel.job.id";

    /// <summary><c>perfotel.outcome</c>: success, failure or partial.</summary>
    public const string Outcome = "perfotel.outcome";

    /// <summary><c>perfotel.confidence</c>: the agent's confidence in its answer, in [0, 1].</summary>
    public const string Confidence = "perfotel.confidence";

    /// <summary><c>perfotel.quality</c>: a quality score of the invocation, in [0, 1].</summary>
    public const string Quality = "perfotel.quality";

    /// <summary><c>perfotel.experiment</c>.</summary>
    public const string Experiment = "perfotel.experiment";

    /// <summary><c>perfotel.variant</c>.</summary>
    public const string Variant = "perfotel.variant";

    /// <summary><c>perfotel.cost.usd</c>: cost of an inference (or roll-up on an invocation) in US dollars.</summary>
    public const string CostUsd = "perfotel.cost.usd";

    /// <summary><c>perfotel.retry.attempt</c>: 1 for the first try.</summary>
    public const string RetryAttempt = "perfotel.retry.attempt";

    /// <summary><c>perfotel.fallback.from</c>: the provider/model that was abandoned for this call.</summary>
    public const string FallbackFrom = "perfotel.fallback.from";

    /// <summary><c>perfotel.fallback.reason</c>.</summary>
    public const string FallbackReason = "perfotel.fallback.reason";
}

/// <summary>Values of <c>perfotel.outcome</c>.</summary>
public static class Outcomes
{
    /// <summary><c>success</c>.</summary>
    public const string Success = "success";

    /// <summary><c>failure</c>.</summary>
    public const string Failure = "failure";

    /// <summary><c>partial</c>.</summary>
    public const string Partial = "partial";
}

using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Collector.Receiving.Privacy;

/// <summary>
/// The one list of attributes that carry message content and of those that identify a user. Sources: the GenAI
/// semantic conventions (current and the pre-1.37 <c>gen_ai.prompt</c>/<c>gen_ai.completion</c> family that
/// OpenLLMetry still writes as <c>gen_ai.prompt.0.content</c>), OpenInference, and the general
/// <c>enduser.*</c>/<c>user.*</c> registry.
/// </summary>
internal static class PrivacyAttributes
{
    private static readonly HashSet<string> ContentKeys = new(StringComparer.Ordinal)
    {
        GenAiAttributes.InputMessages,
        GenAiAttributes.OutputMessages,
        GenAiAttributes.SystemInstructions,
        GenAiAttributes.EvaluationExplanation,
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
        "gen_ai.tool.definitions",
        "gen_ai.prompt",
        "gen_ai.completion",
        // OpenInference
        "input.value",
        "output.value",
        "llm.prompts",
        "llm.input_messages",
        "llm.output_messages",
        // OpenLLMetry (Traceloop) workflow and task payloads
        "traceloop.entity.input",
        "traceloop.entity.output",
    };

    private static readonly string[] ContentPrefixes =
    [
        "gen_ai.prompt.",
        "gen_ai.completion.",
        "llm.input_messages.",
        "llm.output_messages.",
        "llm.prompts.",
    ];

    /// <summary>Attributes that identify a person: stored only as keyed hashes.</summary>
    public static readonly IReadOnlyList<string> UserIdentifiers =
    [
        "enduser.id",
        "enduser.pseudo.id",
        "user.id",
        "user.email",
        "user.name",
        "user.full_name",
        // OpenAI's end-user field as the OpenAI instrumentations record it.
        "gen_ai.openai.request.user",
    ];

    private static readonly HashSet<string> UserIdentifierKeys = new(UserIdentifiers, StringComparer.Ordinal);

    public static bool IsContent(string key) =>
        ContentKeys.Contains(key) || ContentPrefixes.Any(prefix => key.StartsWith(prefix, StringComparison.Ordinal));

    public static bool IsUserIdentifier(string key) => UserIdentifierKeys.Contains(key);
}

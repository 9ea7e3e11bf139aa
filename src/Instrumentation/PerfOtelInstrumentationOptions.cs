using PerfOtel.Instrumentation.Pricing;

namespace PerfOtel.Instrumentation;

/// <summary>Options of the PerfOtel instrumentation, set when it is added to a MeterProvider or TracerProvider.</summary>
public sealed class PerfOtelInstrumentationOptions
{
    /// <summary>The prices that turn tokens into cost. Default: <see cref="PricingCatalog.Default"/>.</summary>
    public PricingCatalog Pricing { get; set; } = PricingCatalog.Default;

    /// <summary>
    /// A JSON file of prices that replace or extend <see cref="Pricing"/>, model by model (the format of
    /// <see cref="PricingCatalog"/>). A file that cannot be read or parsed fails the registration with its reason.
    /// </summary>
    public string? PricingOverridesPath { get; set; }

    /// <summary>The tenant of invocations that name none: <c>default</c>, as the collector assumes.</summary>
    public string DefaultTenant { get; set; } = "default";

    /// <summary>
    /// How many distinct evaluation names the <c>perfotel.evaluation.score</c> metric may carry (default 32); further
    /// names are recorded as <c>_OTHER</c> on the metric (spans keep the real name), keeping its cardinality bounded.
    /// </summary>
    public int MaxEvaluationNames { get; set; } = 32;

    /// <summary>
    /// Whether GenAI spans of other instrumentations (by default those of the OpenAI .NET SDK, Microsoft.Extensions.AI,
    /// Microsoft Agent Framework and Semantic Kernel, see <see cref="AttributedSourcePrefixes"/>) that end inside an agent
    /// invocation have their tokens and cost recorded on that agent's metrics. Default: true. A model call that several
    /// layers report (Microsoft.Extensions.AI's span around the OpenAI SDK's, PerfOtel's chat client around either) is
    /// counted once. The OpenAI SDK emits spans only when its switch is on
    /// (<c>OPENAI_EXPERIMENTAL_ENABLE_OPEN_TELEMETRY=true</c> or the AppContext switch
    /// <c>OpenAI.Experimental.EnableOpenTelemetry</c>), Semantic Kernel only with
    /// <c>Microsoft.SemanticKernel.Experimental.GenAI.EnableOTelDiagnostics</c> (or its sensitive variant).
    /// </summary>
    public bool AttributeGenAiClientSpans { get; set; } = true;

    /// <summary>
    /// ActivitySource name prefixes whose GenAI client spans are attributed. Default: the OpenAI SDK (<c>OpenAI.</c>,
    /// <c>Experimental.OpenAI.</c>), Microsoft.Extensions.AI's <c>OpenTelemetryChatClient</c>
    /// (<c>Experimental.Microsoft.Extensions.AI</c>), Agent Framework (<c>Experimental.Microsoft.Agents.AI</c>) and
    /// Semantic Kernel (<c>Microsoft.SemanticKernel</c>). Add the name given to <c>UseOpenTelemetry(sourceName: ...)</c>
    /// when an application chose its own.
    /// </summary>
    public IList<string> AttributedSourcePrefixes { get; } =
    [
        "OpenAI.",
        "Experimental.OpenAI.",
        "Experimental.Microsoft.Extensions.AI",
        "Experimental.Microsoft.Agents.AI",
        "Microsoft.SemanticKernel",
    ];
}

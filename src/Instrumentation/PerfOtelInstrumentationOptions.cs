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
    /// Whether GenAI spans of other instrumentations (by default the OpenAI .NET SDK's, sources <c>OpenAI.*</c>) that
    /// end inside an agent invocation have their tokens and cost recorded on that agent's metrics. Default: true.
    /// The OpenAI SDK emits spans only when its switch is on (<c>OPENAI_EXPERIMENTAL_ENABLE_OPEN_TELEMETRY=true</c> or
    /// the AppContext switch <c>OpenAI.Experimental.EnableOpenTelemetry</c>).
    /// </summary>
    public bool AttributeGenAiClientSpans { get; set; } = true;

    /// <summary>ActivitySource name prefixes whose GenAI client spans are attributed (default <c>OpenAI.</c> and <c>Experimental.OpenAI.</c>).</summary>
    public IList<string> AttributedSourcePrefixes { get; } = ["OpenAI.", "Experimental.OpenAI."];
}

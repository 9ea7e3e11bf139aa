using PerfOtel.Instrumentation;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Instrumentation.Implementation;

namespace OpenTelemetry.Trace;

/// <summary>Adds PerfOtel's agent spans to a TracerProvider.</summary>
public static class PerfOtelTracerProviderBuilderExtensions
{
    /// <summary>Enables the spans of <c>PerfOtel.Agents</c> with default options.</summary>
    public static TracerProviderBuilder AddPerfOtelInstrumentation(this TracerProviderBuilder builder) =>
        AddPerfOtelInstrumentation(builder, name: null, configure: null);

    /// <summary>Enables the spans of <c>PerfOtel.Agents</c>.</summary>
    public static TracerProviderBuilder AddPerfOtelInstrumentation(this TracerProviderBuilder builder, Action<PerfOtelInstrumentationOptions>? configure) =>
        AddPerfOtelInstrumentation(builder, name: null, configure);

    /// <summary>
    /// Enables the spans of <c>PerfOtel.Agents</c> (<c>invoke_agent</c>, <c>chat</c> and other inferences,
    /// <c>execute_tool</c>). The options (pricing, default tenant) also shape span attributes such as
    /// <c>perfotel.cost.usd</c>.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="name">A name for this configuration; the options of the latest registration apply process-wide.</param>
    /// <param name="configure">Configures the options.</param>
    /// <exception cref="FormatException">The pricing overrides file is not valid.</exception>
    public static TracerProviderBuilder AddPerfOtelInstrumentation(this TracerProviderBuilder builder, string? name, Action<PerfOtelInstrumentationOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        Registration.Apply(name, configure);
        return builder.AddSource(MetricCatalog.SourceName);
    }
}

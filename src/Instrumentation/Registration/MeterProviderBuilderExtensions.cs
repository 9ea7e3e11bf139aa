using PerfOtel.Instrumentation;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Instrumentation.Implementation;

namespace OpenTelemetry.Metrics;

/// <summary>Adds PerfOtel's agent metrics to a MeterProvider.</summary>
public static class PerfOtelMeterProviderBuilderExtensions
{
    /// <summary>Enables the metrics of <c>PerfOtel.Agents</c> with default options.</summary>
    public static MeterProviderBuilder AddPerfOtelInstrumentation(this MeterProviderBuilder builder) =>
        AddPerfOtelInstrumentation(builder, name: null, configure: null);

    /// <summary>Enables the metrics of <c>PerfOtel.Agents</c>.</summary>
    public static MeterProviderBuilder AddPerfOtelInstrumentation(this MeterProviderBuilder builder, Action<PerfOtelInstrumentationOptions>? configure) =>
        AddPerfOtelInstrumentation(builder, name: null, configure);

    /// <summary>
    /// Enables the metrics of <c>PerfOtel.Agents</c>: the meter, whose histograms carry the GenAI conventions' bucket
    /// boundaries as instrument advice, and the attribution of other libraries' GenAI spans to agent invocations.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="name">
    /// A name for this configuration, kept for the self-diagnostics. The instruments are process-wide, so the options of
    /// the latest registration apply to every provider.
    /// </param>
    /// <param name="configure">Configures the options.</param>
    /// <exception cref="FormatException">The pricing overrides file is not valid.</exception>
    public static MeterProviderBuilder AddPerfOtelInstrumentation(this MeterProviderBuilder builder, string? name, Action<PerfOtelInstrumentationOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var settings = Registration.Apply(name, configure);
        if (settings.AttributeGenAiClientSpans)
        {
            GenAiSpanAttribution.EnsureListening();
        }
        return builder.AddMeter(MetricCatalog.SourceName);
    }

    /// <summary>
    /// Opt-in metrics of the agent process itself: memory and CPU time (<c>process.memory.usage</c>,
    /// <c>process.cpu.time</c>) from OpenTelemetry.Instrumentation.Process, and the .NET runtime's metrics (processors,
    /// GC, heap, thread pool, exceptions: <c>dotnet.*</c>) from OpenTelemetry.Instrumentation.Runtime. They describe the
    /// whole process, so they carry no tenant or agent attribute: PromQL joins them to the agents' series by scrape
    /// target (see <see cref="ProcessMetricCatalog"/>). PerfOtel's alerts on them: memory above
    /// <c>Thresholds:MaxProcessMemoryMegabytes</c> (critical), CPU above <c>Thresholds:MaxProcessCpuUtilization</c>.
    /// </summary>
    /// <param name="builder">The builder.</param>
    public static MeterProviderBuilder AddPerfOtelProcessMetrics(this MeterProviderBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddProcessInstrumentation().AddRuntimeInstrumentation();
    }
}

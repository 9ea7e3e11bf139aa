using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Reflection;
using PerfOtel.Instrumentation.Conventions;

namespace PerfOtel.Instrumentation.Implementation;

/// <summary>The Meter, the ActivitySource and every instrument, created once from <see cref="MetricCatalog"/>.</summary>
internal static class AgentInstruments
{
    /// <summary>The package version without the source-revision suffix, as Meter and ActivitySource versions.</summary>
    public static readonly string Version = ReadVersion();

    public static readonly ActivitySource ActivitySource = new(MetricCatalog.SourceName, Version);
    public static readonly Meter Meter = new(MetricCatalog.SourceName, Version);

    public static readonly Histogram<long> TokenUsage = CreateHistogram<long>(MetricCatalog.TokenUsage);
    public static readonly Histogram<double> OperationDuration = CreateHistogram<double>(MetricCatalog.OperationDuration);
    public static readonly Histogram<double> InvokeAgentDuration = CreateHistogram<double>(MetricCatalog.InvokeAgentDuration);
    public static readonly Histogram<double> ExecuteToolDuration = CreateHistogram<double>(MetricCatalog.ExecuteToolDuration);
    public static readonly Counter<long> AgentInvocations = CreateCounter<long>(MetricCatalog.AgentInvocations);
    public static readonly Counter<double> AgentCost = CreateCounter<double>(MetricCatalog.AgentCost);
    public static readonly Histogram<double> AgentConfidence = CreateHistogram<double>(MetricCatalog.AgentConfidence);
    public static readonly Histogram<double> EvaluationScore = CreateHistogram<double>(MetricCatalog.EvaluationScore);
    public static readonly Counter<long> ProviderRetries = CreateCounter<long>(MetricCatalog.ProviderRetries);
    public static readonly Counter<long> ProviderFallbacks = CreateCounter<long>(MetricCatalog.ProviderFallbacks);
    public static readonly Counter<long> UnpricedTokens = CreateCounter<long>(MetricCatalog.UnpricedTokens);

    /// <summary>Whether anything listens: when nothing does, scopes skip all work (see the benchmarks).</summary>
    public static bool AnyListener =>
        ActivitySource.HasListeners() || AgentInvocations.Enabled || InvokeAgentDuration.Enabled || OperationDuration.Enabled;

    private static Histogram<T> CreateHistogram<T>(MetricDefinition definition)
        where T : struct
    {
        // Instrument advice carries the conventions' bucket boundaries to any SDK that honours it (OpenTelemetry .NET
        // does since 1.10), so the boundaries hold without the SDK-only view API.
        var advice = new InstrumentAdvice<T>
        {
            HistogramBucketBoundaries = definition.BucketBoundaries!.Select(b => (T)Convert.ChangeType(b, typeof(T), System.Globalization.CultureInfo.InvariantCulture)).ToArray(),
        };
        return Meter.CreateHistogram(definition.Name, definition.Unit, definition.Description, tags: null, advice);
    }

    private static Counter<T> CreateCounter<T>(MetricDefinition definition)
        where T : struct =>
        Meter.CreateCounter<T>(definition.Name, definition.Unit, definition.Description);

    private static string ReadVersion()
    {
        var assembly = typeof(AgentInstruments).Assembly;
        var informational = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        if (string.IsNullOrEmpty(informational))
        {
            return assembly.GetName().Version?.ToString() ?? "0.0.0";
        }
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        return plus < 0 ? informational : informational[..plus];
    }
}

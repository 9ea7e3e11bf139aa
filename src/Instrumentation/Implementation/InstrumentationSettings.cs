using System.Collections.Concurrent;
using PerfOtel.Instrumentation.Pricing;

namespace PerfOtel.Instrumentation.Implementation;

/// <summary>
/// The options in effect, frozen. The instruments are process-wide (one Meter, one ActivitySource), so the options of
/// the latest registration apply to all of them.
/// </summary>
internal sealed class InstrumentationSettings
{
    public const string OtherEvaluationName = "_OTHER";
    private static volatile InstrumentationSettings current = new(new PerfOtelInstrumentationOptions(), PricingCatalog.Default);
    private readonly ConcurrentDictionary<string, byte> admittedEvaluationNames = new(StringComparer.Ordinal);

    private InstrumentationSettings(PerfOtelInstrumentationOptions options, PricingCatalog pricing)
    {
        Pricing = pricing;
        DefaultTenant = string.IsNullOrWhiteSpace(options.DefaultTenant) ? "default" : options.DefaultTenant;
        MaxEvaluationNames = Math.Max(1, options.MaxEvaluationNames);
        AttributeGenAiClientSpans = options.AttributeGenAiClientSpans;
        AttributedSourcePrefixes = [.. options.AttributedSourcePrefixes.Where(p => !string.IsNullOrEmpty(p))];
    }

    public static InstrumentationSettings Current => current;

    public PricingCatalog Pricing { get; }

    public string DefaultTenant { get; }

    public int MaxEvaluationNames { get; }

    public bool AttributeGenAiClientSpans { get; }

    public string[] AttributedSourcePrefixes { get; }

    /// <summary>Freezes <paramref name="options"/> as the settings in effect; a bad pricing file fails here, at start-up.</summary>
    public static InstrumentationSettings Apply(PerfOtelInstrumentationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var pricing = options.Pricing ?? PricingCatalog.Default;
        if (!string.IsNullOrWhiteSpace(options.PricingOverridesPath))
        {
            pricing = pricing.WithOverrides(PricingCatalog.Load(options.PricingOverridesPath));
        }
        var settings = new InstrumentationSettings(options, pricing);
        current = settings;
        return settings;
    }

    /// <summary>The evaluation name to put on metrics: itself while the set of names is within its limit.</summary>
    public string MetricEvaluationName(string name)
    {
        if (admittedEvaluationNames.ContainsKey(name))
        {
            return name;
        }
        // Racing threads may admit a few names past the limit; the bound stays close to the limit, which is its purpose.
        if (admittedEvaluationNames.Count < MaxEvaluationNames)
        {
            admittedEvaluationNames.TryAdd(name, 0);
            return name;
        }
        InstrumentationEventSource.Log.EvaluationNameOverLimit(name, MaxEvaluationNames);
        return OtherEvaluationName;
    }
}

using System.Globalization;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Derived.Experiments;

/// <summary>Configuration section <c>Experiments</c>.</summary>
public sealed class ExperimentOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Experiments";

    /// <summary>A winner is declared only when every variant has at least this many invocations.</summary>
    public int MinSamplesPerVariant { get; set; } = 100;

    /// <summary>A winner needs a p-value below this against every other variant.</summary>
    public double SignificanceLevel { get; set; } = 0.05;

    /// <summary>Tenants tracked; invocations of further tenants are counted as dropped under the tenant <c>(other)</c>.</summary>
    public int MaxTenants { get; set; } = 1000;

    /// <summary>Experiments tracked per tenant; invocations of further experiments are counted as dropped.</summary>
    public int MaxExperimentsPerTenant { get; set; } = 100;

    /// <summary>Variants tracked per experiment; invocations of further variants are counted as dropped.</summary>
    public int MaxVariantsPerExperiment { get; set; } = 20;

    /// <summary>
    /// Pre-registered experiments per tenant: <c>Experiments:Definitions:&lt;tenant&gt;:&lt;experiment&gt;</c>. Experiments seen
    /// in data without a definition are still reported, as undefined.
    /// </summary>
    public Dictionary<string, Dictionary<string, ExperimentDefinition>> Definitions { get; } = new(StringComparer.Ordinal);

    /// <summary>The definition of a tenant's experiment, or null.</summary>
    public ExperimentDefinition? Definition(string tenant, string experiment) =>
        Definitions.TryGetValue(tenant, out var experiments) && experiments.TryGetValue(experiment, out var definition) ? definition : null;

    /// <summary>Every problem with these options, each naming its setting.</summary>
    public IEnumerable<string> Problems()
    {
        foreach (var (tenant, experiments) in Definitions)
        {
            foreach (var (experiment, definition) in experiments)
            {
                foreach (var problem in definition.Problems($"{SectionName}:Definitions:{tenant}:{experiment}"))
                {
                    yield return problem;
                }
            }
        }
        if (MinSamplesPerVariant < 1)
        {
            yield return $"{SectionName}:MinSamplesPerVariant must be at least 1, was {MinSamplesPerVariant}.";
        }
        if (!(SignificanceLevel is > 0 and < 1))
        {
            yield return $"{SectionName}:SignificanceLevel must be in (0, 1), was {SignificanceLevel.ToString(CultureInfo.InvariantCulture)}.";
        }
        if (MaxTenants < 1)
        {
            yield return $"{SectionName}:MaxTenants must be at least 1, was {MaxTenants}.";
        }
        if (MaxExperimentsPerTenant < 1)
        {
            yield return $"{SectionName}:MaxExperimentsPerTenant must be at least 1, was {MaxExperimentsPerTenant}.";
        }
        if (MaxVariantsPerExperiment < 2)
        {
            yield return $"{SectionName}:MaxVariantsPerExperiment must be at least 2, was {MaxVariantsPerExperiment}.";
        }
    }
}

namespace PerfOtel.Collector.Derived.Cost;

/// <summary>Configuration section <c>Cost</c>.</summary>
public sealed class CostOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Cost";

    /// <summary>
    /// Distinct (agent, provider, model) series kept per tenant; calls of further series are pooled under
    /// <c>(other)</c> so that totals stay right while memory and metric cardinality stay bounded.
    /// </summary>
    public int MaxSeriesPerTenant { get; set; } = 2000;

    /// <summary>Distinct tenants kept; calls of further tenants are pooled under the tenant <c>(other)</c>.</summary>
    public int MaxTenants { get; set; } = 1000;

    /// <summary>
    /// Invocations whose model and cost are remembered (least recently used first out) to attribute their invocation,
    /// feedback and evaluations to a model. About 300 bytes each.
    /// </summary>
    public int AttributionCapacity { get; set; } = 100_000;

    /// <summary>Every problem with these options, each naming its setting.</summary>
    public IEnumerable<string> Problems()
    {
        if (MaxSeriesPerTenant < 1)
        {
            yield return $"{SectionName}:MaxSeriesPerTenant must be at least 1, was {MaxSeriesPerTenant}.";
        }
        if (AttributionCapacity < 1)
        {
            yield return $"{SectionName}:AttributionCapacity must be at least 1, was {AttributionCapacity}.";
        }
        if (MaxTenants < 1)
        {
            yield return $"{SectionName}:MaxTenants must be at least 1, was {MaxTenants}.";
        }
    }
}

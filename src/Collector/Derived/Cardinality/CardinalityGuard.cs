using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace PerfOtel.Collector.Derived.Cardinality;

/// <summary>
/// Decides which values keep series of their own: the first <see cref="CardinalityOptions"/>-many distinct values of a
/// tenant per dimension, in the order the collector counts them; every later value is folded into
/// <see cref="Overflow"/>, so totals stay right while in-memory state and metric series stay bounded. Only admitted
/// values are remembered (a folded value leaves no trace), so memory is O(limits), not O(values seen). Every part
/// that keys state by these values asks here, so they all fold alike. Thread-safe; lookups of admitted values take no
/// lock.
/// </summary>
/// <remarks>
/// Live data is counted in commit order and the start-up rebuild in the store's start-time order, so a restart
/// reproduces the live assignment whenever values first appeared in start-time order; around the limit, values that
/// first arrived out of order may change sides after a restart (totals are unaffected either way).
/// </remarks>
public sealed class CardinalityGuard
{
    /// <summary>The label value every folded value becomes (tenant, agent, provider, model, experiment, variant).</summary>
    public const string Overflow = "__overflow__";

    /// <summary>The tenant of data that names none: always keeps its own series.</summary>
    public const string DefaultTenant = "default";

    private readonly CardinalityOptions options;
    private readonly ConcurrentDictionary<string, TenantValues> tenants = new(StringComparer.Ordinal);
    private readonly Lock admission = new();
    private int admittedTenants;

    /// <summary>Creates a guard with nothing admitted yet (<see cref="CardinalityOptions.ConfiguredTenants"/> always are).</summary>
    public CardinalityGuard(IOptions<CardinalityOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options.Value;
    }

    /// <summary>The options in force.</summary>
    public CardinalityOptions Options => options;

    /// <summary>The tenant's own name, or <see cref="Overflow"/> beyond <see cref="CardinalityOptions.MaxTenants"/>.</summary>
    public string Tenant(string tenant) => TenantValuesOf(tenant).Name;

    /// <summary>The agent's name, or <see cref="Overflow"/> beyond the tenant's limit; null and empty stay as they are.</summary>
    public string? Agent(string tenant, string? agent) =>
        string.IsNullOrEmpty(agent) ? agent : TenantValuesOf(tenant).Admit(CardinalityDimension.Agent, agent, string.Empty).First;

    /// <summary>The (provider, model) pair, or both <see cref="Overflow"/> beyond the tenant's limit.</summary>
    public (string Provider, string Model) Model(string tenant, string provider, string model) =>
        TenantValuesOf(tenant).Admit(CardinalityDimension.Model, provider, model);

    /// <summary>The evaluation name, or <see cref="Overflow"/> beyond the tenant's limit (<c>accuracy</c> always passes).</summary>
    public string Evaluation(string tenant, string name) =>
        name == Instrumentation.EvaluationNames.Accuracy ? name
            : TenantValuesOf(tenant).Admit(CardinalityDimension.Evaluation, name, string.Empty).First;

    /// <summary>The (experiment, variant) pair, or both <see cref="Overflow"/> beyond the tenant's limit.</summary>
    public (string Experiment, string Variant) ExperimentVariant(string tenant, string experiment, string variant) =>
        TenantValuesOf(tenant).Admit(CardinalityDimension.ExperimentVariant, experiment, variant);

    /// <summary>
    /// Distinct values with series of their own: tenants (tenant null) and, per tenant (including
    /// <see cref="Overflow"/>), each per-tenant dimension.
    /// </summary>
    public IReadOnlyList<(string? Tenant, CardinalityDimension Dimension, int Values)> Tracked()
    {
        var result = new List<(string?, CardinalityDimension, int)> { (null, CardinalityDimension.Tenant, tenants.Count) };
        foreach (var values in tenants.Values)
        {
            foreach (var dimension in PerTenantDimensions)
            {
                result.Add((values.Name, dimension, values.Count(dimension)));
            }
        }
        return result;
    }

    private static readonly CardinalityDimension[] PerTenantDimensions =
        [CardinalityDimension.Agent, CardinalityDimension.Model, CardinalityDimension.Evaluation, CardinalityDimension.ExperimentVariant];

    private TenantValues TenantValuesOf(string tenant)
    {
        if (tenants.TryGetValue(tenant, out var known))
        {
            return known;
        }
        var reserved = tenant is DefaultTenant or Overflow || options.ConfiguredTenants.Contains(tenant);
        lock (admission)
        {
            if (tenants.TryGetValue(tenant, out known))
            {
                return known;
            }
            if (!reserved)
            {
                if (admittedTenants >= options.MaxTenants)
                {
                    return tenants.GetOrAdd(Overflow, static (name, o) => new TenantValues(name, o.LimitsFor(name)), options);
                }
                admittedTenants++;
            }
            var values = new TenantValues(tenant, options.LimitsFor(tenant));
            tenants[tenant] = values;
            return values;
        }
    }

    /// <summary>The values one tenant has admitted, per dimension; pairs are kept as pairs so lookups allocate nothing.</summary>
    private sealed class TenantValues(string name, TenantCardinalityLimits limits)
    {
        private readonly ConcurrentDictionary<(string, string), bool>[] admitted =
            PerTenantDimensions.Select(_ => new ConcurrentDictionary<(string, string), bool>()).ToArray();

        public string Name { get; } = name;

        public int Count(CardinalityDimension dimension) => admitted[Slot(dimension)].Count;

        public (string First, string Second) Admit(CardinalityDimension dimension, string first, string second)
        {
            if (first == Overflow)
            {
                return (Overflow, Overflow);
            }
            var values = admitted[Slot(dimension)];
            var key = (first, second);
            if (values.ContainsKey(key))
            {
                return key;
            }
            lock (values)
            {
                if (values.ContainsKey(key))
                {
                    return key;
                }
                if (values.Count >= limits.For(dimension))
                {
                    return (Overflow, Overflow);
                }
                values[key] = true;
                return key;
            }
        }

        private static int Slot(CardinalityDimension dimension) => (int)dimension - 1;
    }
}

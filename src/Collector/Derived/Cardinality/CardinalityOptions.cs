using System.Globalization;

namespace PerfOtel.Collector.Derived.Cardinality;

/// <summary>Per-tenant limits on distinct values; each null setting of an override falls back to the collector-wide one.</summary>
/// <param name="MaxAgents">Distinct agent names.</param>
/// <param name="MaxModels">Distinct (provider, model) pairs.</param>
/// <param name="MaxEvaluationNames">Distinct evaluation names.</param>
/// <param name="MaxExperimentVariants">Distinct (experiment, variant) pairs.</param>
public sealed record TenantCardinalityLimits(int MaxAgents, int MaxModels, int MaxEvaluationNames, int MaxExperimentVariants)
{
    /// <summary>The limit of one per-tenant dimension.</summary>
    public int For(CardinalityDimension dimension) => dimension switch
    {
        CardinalityDimension.Agent => MaxAgents,
        CardinalityDimension.Model => MaxModels,
        CardinalityDimension.Evaluation => MaxEvaluationNames,
        CardinalityDimension.ExperimentVariant => MaxExperimentVariants,
        _ => throw new ArgumentOutOfRangeException(nameof(dimension), dimension, "not a per-tenant dimension"),
    };
}

/// <summary>
/// Configuration section <c>Cardinality</c>: how many distinct tenants, and per tenant how many distinct agents,
/// models, evaluation names and experiment variants keep series of their own; further values are folded into
/// <see cref="CardinalityGuard.Overflow"/>. Read from the raw configuration rather than bound, because binding ignores
/// keys it does not know: a misspelt per-tenant override would silently not apply.
/// </summary>
public sealed class CardinalityOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Cardinality";

    private const string TenantsKey = "Tenants";
    private const string MaxTenantsKey = nameof(MaxTenants);
    private const string MaxAgentsKey = nameof(MaxAgentsPerTenant);
    private const string MaxModelsKey = nameof(MaxModelsPerTenant);
    private const string MaxEvaluationNamesKey = nameof(MaxEvaluationNamesPerTenant);
    private const string MaxExperimentVariantsKey = nameof(MaxExperimentVariantsPerTenant);
    private const string MaxMetricSeriesKey = nameof(MaxMetricSeriesPerTenant);
    private static readonly string[] PerTenantKeys = [MaxAgentsKey, MaxModelsKey, MaxEvaluationNamesKey, MaxExperimentVariantsKey];

    /// <summary>
    /// Distinct tenants with series of their own. With authentication off the tenant comes from the payload, so this is
    /// what bounds them. The tenant <c>default</c> and the <see cref="ConfiguredTenants"/> always keep their own and do
    /// not count against it.
    /// </summary>
    public int MaxTenants { get; set; } = 100;

    /// <summary>Distinct agent names per tenant (the analytics scrape is sized for 1 000 agents x 2 windows).</summary>
    public int MaxAgentsPerTenant { get; set; } = 2000;

    /// <summary>Distinct (provider, model) pairs per tenant.</summary>
    public int MaxModelsPerTenant { get; set; } = 200;

    /// <summary>Distinct evaluation names per tenant (<c>accuracy</c> is always admitted and does not count).</summary>
    public int MaxEvaluationNamesPerTenant { get; set; } = 100;

    /// <summary>Distinct (experiment, variant) pairs per tenant.</summary>
    public int MaxExperimentVariantsPerTenant { get; set; } = 200;

    /// <summary>
    /// Series per tenant of the GenAI and <c>perfotel.*</c> metrics pushed over OTLP and re-exposed on <c>/metrics</c>
    /// (a series: one metric name with one label set). Points of further series are refused in partial_success and
    /// counted; the series already kept go on updating. Collector-wide, no per-tenant override.
    /// </summary>
    public int MaxMetricSeriesPerTenant { get; set; } = 10_000;

    /// <summary>Per-tenant overrides of the per-tenant limits, by tenant (<c>Cardinality:Tenants:&lt;tenant&gt;:&lt;setting&gt;</c>).</summary>
    public Dictionary<string, PartialLimits> Tenants { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Tenants named under <c>Cardinality:Tenants</c>, <c>Thresholds:Tenants</c> or <c>Budgets:Tenants</c>: someone
    /// configured them, so they always keep series of their own (their number is bounded by the configuration).
    /// </summary>
    public HashSet<string> ConfiguredTenants { get; } = new(StringComparer.Ordinal);

    /// <summary>Every problem found while reading, each naming its setting.</summary>
    public List<string> Problems { get; } = [];

    /// <summary>The limits in force for a tenant.</summary>
    public TenantCardinalityLimits LimitsFor(string tenant)
    {
        var custom = Tenants.GetValueOrDefault(tenant);
        return new TenantCardinalityLimits(
            custom?.MaxAgents ?? MaxAgentsPerTenant,
            custom?.MaxModels ?? MaxModelsPerTenant,
            custom?.MaxEvaluationNames ?? MaxEvaluationNamesPerTenant,
            custom?.MaxExperimentVariants ?? MaxExperimentVariantsPerTenant);
    }

    /// <summary>Reads the section; problems (unknown keys, values that are not positive integers) go to <see cref="Problems"/>.</summary>
    public static CardinalityOptions Read(IConfiguration configuration)
    {
        var options = new CardinalityOptions();
        ReadInto(configuration, options);
        return options;
    }

    /// <summary>Same as <see cref="Read"/>, into existing options (for the options pattern).</summary>
    public static void ReadInto(IConfiguration configuration, CardinalityOptions options)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);
        foreach (var section in new[] { SectionName, Thresholds.ThresholdOptions.SectionName, Budgets.BudgetConfiguration.SectionName })
        {
            options.ConfiguredTenants.UnionWith(configuration.GetSection(section).GetSection(TenantsKey).GetChildren().Select(t => t.Key));
        }
        foreach (var setting in configuration.GetSection(SectionName).GetChildren())
        {
            if (Is(setting, TenantsKey))
            {
                foreach (var tenant in setting.GetChildren())
                {
                    ReadTenant(tenant, options);
                }
            }
            else if (Is(setting, MaxTenantsKey))
            {
                options.MaxTenants = Limit(setting, options.Problems) ?? options.MaxTenants;
            }
            else if (Is(setting, MaxAgentsKey))
            {
                options.MaxAgentsPerTenant = Limit(setting, options.Problems) ?? options.MaxAgentsPerTenant;
            }
            else if (Is(setting, MaxModelsKey))
            {
                options.MaxModelsPerTenant = Limit(setting, options.Problems) ?? options.MaxModelsPerTenant;
            }
            else if (Is(setting, MaxEvaluationNamesKey))
            {
                options.MaxEvaluationNamesPerTenant = Limit(setting, options.Problems) ?? options.MaxEvaluationNamesPerTenant;
            }
            else if (Is(setting, MaxExperimentVariantsKey))
            {
                options.MaxExperimentVariantsPerTenant = Limit(setting, options.Problems) ?? options.MaxExperimentVariantsPerTenant;
            }
            else if (Is(setting, MaxMetricSeriesKey))
            {
                options.MaxMetricSeriesPerTenant = Limit(setting, options.Problems) ?? options.MaxMetricSeriesPerTenant;
            }
            else
            {
                options.Problems.Add($"unknown setting {setting.Path}; expected {MaxTenantsKey}, {string.Join(", ", PerTenantKeys)}, {MaxMetricSeriesKey} or {TenantsKey}");
            }
        }
    }

    private static void ReadTenant(IConfigurationSection tenant, CardinalityOptions options)
    {
        var settings = tenant.GetChildren().ToList();
        if (settings.Count == 0)
        {
            options.Problems.Add($"{tenant.Path} must be a section with {string.Join(", ", PerTenantKeys)}, was '{tenant.Value}'");
            return;
        }
        var limits = new PartialLimits();
        foreach (var setting in settings)
        {
            if (Is(setting, MaxAgentsKey))
            {
                limits.MaxAgents = Limit(setting, options.Problems);
            }
            else if (Is(setting, MaxModelsKey))
            {
                limits.MaxModels = Limit(setting, options.Problems);
            }
            else if (Is(setting, MaxEvaluationNamesKey))
            {
                limits.MaxEvaluationNames = Limit(setting, options.Problems);
            }
            else if (Is(setting, MaxExperimentVariantsKey))
            {
                limits.MaxExperimentVariants = Limit(setting, options.Problems);
            }
            else
            {
                options.Problems.Add($"unknown setting {setting.Path}; expected {string.Join(", ", PerTenantKeys)} (the number of tenants is limited collector-wide by {SectionName}:{MaxTenantsKey})");
            }
        }
        options.Tenants[tenant.Key] = limits;
    }

    private static int? Limit(IConfigurationSection setting, List<string> problems)
    {
        if (int.TryParse(setting.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var limit) && limit >= 1)
        {
            return limit;
        }
        problems.Add($"{setting.Path} must be a whole number of at least 1, was '{setting.Value}'");
        return null;
    }

    private static bool Is(IConfigurationSection section, string key) =>
        string.Equals(section.Key, key, StringComparison.OrdinalIgnoreCase);

    /// <summary>A tenant's overrides; null keeps the collector-wide limit.</summary>
    public sealed class PartialLimits
    {
        /// <summary>Override of <see cref="MaxAgentsPerTenant"/>.</summary>
        public int? MaxAgents { get; set; }

        /// <summary>Override of <see cref="MaxModelsPerTenant"/>.</summary>
        public int? MaxModels { get; set; }

        /// <summary>Override of <see cref="MaxEvaluationNamesPerTenant"/>.</summary>
        public int? MaxEvaluationNames { get; set; }

        /// <summary>Override of <see cref="MaxExperimentVariantsPerTenant"/>.</summary>
        public int? MaxExperimentVariants { get; set; }
    }
}

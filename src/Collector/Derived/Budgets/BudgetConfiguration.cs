using System.Globalization;
using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Derived.Budgets;

/// <summary>
/// Reads budgets from the raw configuration rather than by binding, because binding ignores keys it does not know:
/// a misspelt <c>Budgets:Tenants:default:Daily</c> would silently leave a tenant without a budget.
/// </summary>
public static class BudgetConfiguration
{
    /// <summary>The configuration section of budgets.</summary>
    public const string SectionName = "Budgets";

    private const string TenantsKey = "Tenants";
    private const string AgentsKey = "Agents";
    private const string HourlyKey = "HourlyUsd";
    private const string DailyKey = "DailyUsd";
    private const string MonthlyKey = "MonthlyUsd";

    /// <summary>Reads every budget; problems are listed in <see cref="BudgetOptions.Problems"/>.</summary>
    public static BudgetOptions Read(IConfiguration configuration)
    {
        var options = new BudgetOptions();
        ReadInto(configuration, options);
        return options;
    }

    /// <summary>Same as <see cref="Read"/>, into existing options (for the options pattern).</summary>
    public static void ReadInto(IConfiguration configuration, BudgetOptions options)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);
        var section = configuration.GetSection(SectionName);
        foreach (var child in section.GetChildren())
        {
            if (!Is(child, TenantsKey))
            {
                options.Problems.Add($"unknown setting {child.Path}; expected {TenantsKey}");
                continue;
            }
            foreach (var tenant in child.GetChildren())
            {
                ReadTenant(tenant, options);
            }
        }
    }

    private static void ReadTenant(IConfigurationSection tenant, BudgetOptions options)
    {
        double? hourly = null, daily = null, monthly = null;
        if (tenant.Value is not null && !tenant.GetChildren().Any())
        {
            options.Problems.Add($"{tenant.Path} must be a section with {HourlyKey}, {DailyKey}, {MonthlyKey} or {AgentsKey}, was the value '{tenant.Value}'");
            return;
        }
        foreach (var setting in tenant.GetChildren())
        {
            if (Is(setting, AgentsKey))
            {
                foreach (var agent in setting.GetChildren())
                {
                    ReadAgent(tenant.Key, agent, options);
                }
            }
            else if (!ReadLimit(setting, options, ref hourly, ref daily, ref monthly))
            {
                options.Problems.Add($"unknown setting {setting.Path}; expected {HourlyKey}, {DailyKey}, {MonthlyKey} or {AgentsKey}");
            }
        }
        if (hourly is not null || daily is not null || monthly is not null)
        {
            options.Budgets[new BudgetScope(tenant.Key, null)] = new BudgetLimits(hourly, daily, monthly);
        }
    }

    private static void ReadAgent(string tenant, IConfigurationSection agent, BudgetOptions options)
    {
        double? hourly = null, daily = null, monthly = null;
        var children = agent.GetChildren().ToList();
        if (children.Count == 0)
        {
            options.Problems.Add($"{agent.Path} must be a section with {HourlyKey}, {DailyKey} or {MonthlyKey}");
            return;
        }
        foreach (var setting in children)
        {
            if (!ReadLimit(setting, options, ref hourly, ref daily, ref monthly))
            {
                options.Problems.Add($"unknown setting {setting.Path}; expected {HourlyKey}, {DailyKey} or {MonthlyKey}");
            }
        }
        if (hourly is not null || daily is not null || monthly is not null)
        {
            options.Budgets[new BudgetScope(tenant, agent.Key)] = new BudgetLimits(hourly, daily, monthly);
        }
    }

    /// <summary>False when the key is not a limit; a limit that does not parse is reported and left unset.</summary>
    private static bool ReadLimit(IConfigurationSection setting, BudgetOptions options,
        ref double? hourly, ref double? daily, ref double? monthly)
    {
        if (Is(setting, HourlyKey))
        {
            hourly = Limit(setting, options);
        }
        else if (Is(setting, DailyKey))
        {
            daily = Limit(setting, options);
        }
        else if (Is(setting, MonthlyKey))
        {
            monthly = Limit(setting, options);
        }
        else
        {
            return false;
        }
        return true;
    }

    private static double? Limit(IConfigurationSection setting, BudgetOptions options)
    {
        if (!double.TryParse(setting.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            options.Problems.Add($"{setting.Path} must be a number of US dollars, was '{setting.Value}'");
            return null;
        }
        // A zero limit would make every cent infinitely over budget; leaving the setting out means "no limit".
        if (!double.IsFinite(value) || value <= 0)
        {
            options.Problems.Add($"{setting.Path} must be a positive, finite number of US dollars (leave it out for no limit), was {setting.Value}");
            return null;
        }
        return value;
    }

    private static bool Is(IConfigurationSection section, string key) =>
        string.Equals(section.Key, key, StringComparison.OrdinalIgnoreCase);
}

using System.Globalization;

namespace PerfOtel.Collector.Derived.Thresholds;

/// <summary>A complete set of thresholds (the defaults, or a tenant's or an agent's after its overrides).</summary>
public sealed record ThresholdSet
{
    public double MinSuccessRate { get; init; } = ThresholdDefaults.MinSuccessRate;
    public double MaxErrorRate { get; init; } = ThresholdDefaults.MaxErrorRate;
    public double MaxLatencyP95Seconds { get; init; } = ThresholdDefaults.MaxLatencyP95Seconds;
    public double MaxCostPerInvocationUsd { get; init; } = ThresholdDefaults.MaxCostPerInvocationUsd;
    public double MinAccuracy { get; init; } = ThresholdDefaults.MinAccuracy;
    public double MinQuality { get; init; } = ThresholdDefaults.MinQuality;
    public double MaxTokensPerInvocation { get; init; } = ThresholdDefaults.MaxTokensPerInvocation;
    public double BudgetWarningRatio { get; init; } = ThresholdDefaults.BudgetWarningRatio;
    public double BudgetCriticalRatio { get; init; } = ThresholdDefaults.BudgetCriticalRatio;
    public double HourlyCostSpikeFactor { get; init; } = ThresholdDefaults.HourlyCostSpikeFactor;
    public double MinRunConfidence { get; init; } = ThresholdDefaults.MinRunConfidence;
    public double MinRunQuality { get; init; } = ThresholdDefaults.MinRunQuality;
    public double MaxRunRetries { get; init; } = ThresholdDefaults.MaxRunRetries;
    public double SlowRunFactor { get; init; } = ThresholdDefaults.SlowRunFactor;
    public double AgentIdleAfterSeconds { get; init; } = ThresholdDefaults.AgentIdleAfterSeconds;
    public double AgentSilentAfterSeconds { get; init; } = ThresholdDefaults.AgentSilentAfterSeconds;
    public double ResponseTimeExcellentSeconds { get; init; } = ThresholdDefaults.ResponseTimeExcellentSeconds;
    public double ResponseTimeGoodSeconds { get; init; } = ThresholdDefaults.ResponseTimeGoodSeconds;
    public double ResponseTimeAcceptableSeconds { get; init; } = ThresholdDefaults.ResponseTimeAcceptableSeconds;
    public double TokensPerRunExcellent { get; init; } = ThresholdDefaults.TokensPerRunExcellent;
    public double TokensPerRunGood { get; init; } = ThresholdDefaults.TokensPerRunGood;
    public double TokensPerRunAcceptable { get; init; } = ThresholdDefaults.TokensPerRunAcceptable;
    public double StepsPerRunExcellent { get; init; } = ThresholdDefaults.StepsPerRunExcellent;
    public double StepsPerRunGood { get; init; } = ThresholdDefaults.StepsPerRunGood;
    public double StepsPerRunAcceptable { get; init; } = ThresholdDefaults.StepsPerRunAcceptable;
    public double MaxProcessMemoryMegabytes { get; init; } = ThresholdDefaults.MaxProcessMemoryMegabytes;
    public double MaxProcessCpuUtilization { get; init; } = ThresholdDefaults.MaxProcessCpuUtilization;
}

/// <summary>Overrides of a tenant or an agent: every setting left out keeps the value of the enclosing scope.</summary>
public class ThresholdOverrides
{
    public double? MinSuccessRate { get; set; }
    public double? MaxErrorRate { get; set; }
    public double? MaxLatencyP95Seconds { get; set; }
    public double? MaxCostPerInvocationUsd { get; set; }
    public double? MinAccuracy { get; set; }
    public double? MinQuality { get; set; }
    public double? MaxTokensPerInvocation { get; set; }
    public double? BudgetWarningRatio { get; set; }
    public double? BudgetCriticalRatio { get; set; }
    public double? HourlyCostSpikeFactor { get; set; }
    public double? MinRunConfidence { get; set; }
    public double? MinRunQuality { get; set; }
    public double? MaxRunRetries { get; set; }
    public double? SlowRunFactor { get; set; }
    public double? AgentIdleAfterSeconds { get; set; }
    public double? AgentSilentAfterSeconds { get; set; }
    public double? ResponseTimeExcellentSeconds { get; set; }
    public double? ResponseTimeGoodSeconds { get; set; }
    public double? ResponseTimeAcceptableSeconds { get; set; }
    public double? TokensPerRunExcellent { get; set; }
    public double? TokensPerRunGood { get; set; }
    public double? TokensPerRunAcceptable { get; set; }
    public double? StepsPerRunExcellent { get; set; }
    public double? StepsPerRunGood { get; set; }
    public double? StepsPerRunAcceptable { get; set; }
    public double? MaxProcessMemoryMegabytes { get; set; }
    public double? MaxProcessCpuUtilization { get; set; }

    /// <summary>This scope's values over those of the enclosing scope.</summary>
    public ThresholdSet Over(ThresholdSet outer) => new()
    {
        MinSuccessRate = MinSuccessRate ?? outer.MinSuccessRate,
        MaxErrorRate = MaxErrorRate ?? outer.MaxErrorRate,
        MaxLatencyP95Seconds = MaxLatencyP95Seconds ?? outer.MaxLatencyP95Seconds,
        MaxCostPerInvocationUsd = MaxCostPerInvocationUsd ?? outer.MaxCostPerInvocationUsd,
        MinAccuracy = MinAccuracy ?? outer.MinAccuracy,
        MinQuality = MinQuality ?? outer.MinQuality,
        MaxTokensPerInvocation = MaxTokensPerInvocation ?? outer.MaxTokensPerInvocation,
        BudgetWarningRatio = BudgetWarningRatio ?? outer.BudgetWarningRatio,
        BudgetCriticalRatio = BudgetCriticalRatio ?? outer.BudgetCriticalRatio,
        HourlyCostSpikeFactor = HourlyCostSpikeFactor ?? outer.HourlyCostSpikeFactor,
        MinRunConfidence = MinRunConfidence ?? outer.MinRunConfidence,
        MinRunQuality = MinRunQuality ?? outer.MinRunQuality,
        MaxRunRetries = MaxRunRetries ?? outer.MaxRunRetries,
        SlowRunFactor = SlowRunFactor ?? outer.SlowRunFactor,
        AgentIdleAfterSeconds = AgentIdleAfterSeconds ?? outer.AgentIdleAfterSeconds,
        AgentSilentAfterSeconds = AgentSilentAfterSeconds ?? outer.AgentSilentAfterSeconds,
        ResponseTimeExcellentSeconds = ResponseTimeExcellentSeconds ?? outer.ResponseTimeExcellentSeconds,
        ResponseTimeGoodSeconds = ResponseTimeGoodSeconds ?? outer.ResponseTimeGoodSeconds,
        ResponseTimeAcceptableSeconds = ResponseTimeAcceptableSeconds ?? outer.ResponseTimeAcceptableSeconds,
        TokensPerRunExcellent = TokensPerRunExcellent ?? outer.TokensPerRunExcellent,
        TokensPerRunGood = TokensPerRunGood ?? outer.TokensPerRunGood,
        TokensPerRunAcceptable = TokensPerRunAcceptable ?? outer.TokensPerRunAcceptable,
        StepsPerRunExcellent = StepsPerRunExcellent ?? outer.StepsPerRunExcellent,
        StepsPerRunGood = StepsPerRunGood ?? outer.StepsPerRunGood,
        StepsPerRunAcceptable = StepsPerRunAcceptable ?? outer.StepsPerRunAcceptable,
        MaxProcessMemoryMegabytes = MaxProcessMemoryMegabytes ?? outer.MaxProcessMemoryMegabytes,
        MaxProcessCpuUtilization = MaxProcessCpuUtilization ?? outer.MaxProcessCpuUtilization,
    };
}

/// <summary>An agent's overrides, under <c>Thresholds:Tenants:&lt;tenant&gt;:Agents:&lt;agent&gt;:&lt;setting&gt;</c>.</summary>
public sealed class AgentThresholdOverrides : ThresholdOverrides;

/// <summary>A tenant's overrides, and overrides of some of its agents.</summary>
public sealed class TenantThresholdOverrides : ThresholdOverrides
{
    /// <summary>Per-agent overrides by agent name; they apply over the tenant's values.</summary>
    public Dictionary<string, AgentThresholdOverrides> Agents { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>
/// Configuration section <c>Thresholds</c>: section-wide values (defaulting to <see cref="ThresholdDefaults"/>),
/// per-tenant overrides under <c>Thresholds:Tenants:&lt;tenant&gt;:&lt;setting&gt;</c> and per-agent overrides under
/// <c>Thresholds:Tenants:&lt;tenant&gt;:Agents:&lt;agent&gt;:&lt;setting&gt;</c>. An agent's value wins over its
/// tenant's, a tenant's over the section's. The same resolved values drive the REST alerts, the health score's latency
/// limit and the <c>perfotel_threshold</c> series the Prometheus rules compare against (docs/collector/analytics.md).
/// </summary>
public sealed class ThresholdOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Thresholds";

    public double MinSuccessRate { get; set; } = ThresholdDefaults.MinSuccessRate;
    public double MaxErrorRate { get; set; } = ThresholdDefaults.MaxErrorRate;
    public double MaxLatencyP95Seconds { get; set; } = ThresholdDefaults.MaxLatencyP95Seconds;
    public double MaxCostPerInvocationUsd { get; set; } = ThresholdDefaults.MaxCostPerInvocationUsd;
    public double MinAccuracy { get; set; } = ThresholdDefaults.MinAccuracy;
    public double MinQuality { get; set; } = ThresholdDefaults.MinQuality;
    public double MaxTokensPerInvocation { get; set; } = ThresholdDefaults.MaxTokensPerInvocation;
    public double BudgetWarningRatio { get; set; } = ThresholdDefaults.BudgetWarningRatio;
    public double BudgetCriticalRatio { get; set; } = ThresholdDefaults.BudgetCriticalRatio;
    public double HourlyCostSpikeFactor { get; set; } = ThresholdDefaults.HourlyCostSpikeFactor;
    public double MinRunConfidence { get; set; } = ThresholdDefaults.MinRunConfidence;
    public double MinRunQuality { get; set; } = ThresholdDefaults.MinRunQuality;
    public double MaxRunRetries { get; set; } = ThresholdDefaults.MaxRunRetries;
    public double SlowRunFactor { get; set; } = ThresholdDefaults.SlowRunFactor;
    public double AgentIdleAfterSeconds { get; set; } = ThresholdDefaults.AgentIdleAfterSeconds;
    public double AgentSilentAfterSeconds { get; set; } = ThresholdDefaults.AgentSilentAfterSeconds;
    public double ResponseTimeExcellentSeconds { get; set; } = ThresholdDefaults.ResponseTimeExcellentSeconds;
    public double ResponseTimeGoodSeconds { get; set; } = ThresholdDefaults.ResponseTimeGoodSeconds;
    public double ResponseTimeAcceptableSeconds { get; set; } = ThresholdDefaults.ResponseTimeAcceptableSeconds;
    public double TokensPerRunExcellent { get; set; } = ThresholdDefaults.TokensPerRunExcellent;
    public double TokensPerRunGood { get; set; } = ThresholdDefaults.TokensPerRunGood;
    public double TokensPerRunAcceptable { get; set; } = ThresholdDefaults.TokensPerRunAcceptable;
    public double StepsPerRunExcellent { get; set; } = ThresholdDefaults.StepsPerRunExcellent;
    public double StepsPerRunGood { get; set; } = ThresholdDefaults.StepsPerRunGood;
    public double StepsPerRunAcceptable { get; set; } = ThresholdDefaults.StepsPerRunAcceptable;
    public double MaxProcessMemoryMegabytes { get; set; } = ThresholdDefaults.MaxProcessMemoryMegabytes;
    public double MaxProcessCpuUtilization { get; set; } = ThresholdDefaults.MaxProcessCpuUtilization;

    /// <summary>Per-tenant overrides by tenant name.</summary>
    public Dictionary<string, TenantThresholdOverrides> Tenants { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The section-wide thresholds: those of every tenant and agent without overrides.</summary>
    public ThresholdSet SectionWide() => new()
    {
        MinSuccessRate = MinSuccessRate,
        MaxErrorRate = MaxErrorRate,
        MaxLatencyP95Seconds = MaxLatencyP95Seconds,
        MaxCostPerInvocationUsd = MaxCostPerInvocationUsd,
        MinAccuracy = MinAccuracy,
        MinQuality = MinQuality,
        MaxTokensPerInvocation = MaxTokensPerInvocation,
        BudgetWarningRatio = BudgetWarningRatio,
        BudgetCriticalRatio = BudgetCriticalRatio,
        HourlyCostSpikeFactor = HourlyCostSpikeFactor,
        MinRunConfidence = MinRunConfidence,
        MinRunQuality = MinRunQuality,
        MaxRunRetries = MaxRunRetries,
        SlowRunFactor = SlowRunFactor,
        AgentIdleAfterSeconds = AgentIdleAfterSeconds,
        AgentSilentAfterSeconds = AgentSilentAfterSeconds,
        ResponseTimeExcellentSeconds = ResponseTimeExcellentSeconds,
        ResponseTimeGoodSeconds = ResponseTimeGoodSeconds,
        ResponseTimeAcceptableSeconds = ResponseTimeAcceptableSeconds,
        TokensPerRunExcellent = TokensPerRunExcellent,
        TokensPerRunGood = TokensPerRunGood,
        TokensPerRunAcceptable = TokensPerRunAcceptable,
        StepsPerRunExcellent = StepsPerRunExcellent,
        StepsPerRunGood = StepsPerRunGood,
        StepsPerRunAcceptable = StepsPerRunAcceptable,
        MaxProcessMemoryMegabytes = MaxProcessMemoryMegabytes,
        MaxProcessCpuUtilization = MaxProcessCpuUtilization,
    };

    /// <summary>The thresholds that apply to a tenant as a whole (and to its agents without overrides).</summary>
    public ThresholdSet For(string tenant) =>
        Tenants.TryGetValue(tenant, out var o) && o is not null ? o.Over(SectionWide()) : SectionWide();

    /// <summary>The thresholds that apply to one agent of a tenant.</summary>
    public ThresholdSet For(string tenant, string? agent)
    {
        var tenantSet = For(tenant);
        return agent is not null && Tenants.TryGetValue(tenant, out var o) && o?.Agents.TryGetValue(agent, out var a) == true && a is not null
            ? a.Over(tenantSet)
            : tenantSet;
    }

    /// <summary>Every invalid setting, each message naming the setting's full configuration key.</summary>
    public IEnumerable<string> Problems()
    {
        foreach (var problem in ProblemsOf(SectionName, SectionWide()))
        {
            yield return problem;
        }
        foreach (var (tenant, overrides) in Tenants)
        {
            if (overrides is null)
            {
                continue;
            }
            var prefix = $"{SectionName}:Tenants:{tenant}";
            foreach (var problem in ProblemsOf(prefix, For(tenant)))
            {
                yield return problem;
            }
            foreach (var (agent, agentOverrides) in overrides.Agents)
            {
                if (agentOverrides is null)
                {
                    continue;
                }
                foreach (var problem in ProblemsOf($"{prefix}:Agents:{agent}", For(tenant, agent)))
                {
                    yield return problem;
                }
            }
        }
    }

    private static IEnumerable<string> ProblemsOf(string prefix, ThresholdSet set)
    {
        static string Show(double value) => value.ToString(CultureInfo.InvariantCulture);

        if (!(set.MinSuccessRate is >= 0 and <= 1))
        {
            yield return $"{prefix}:MinSuccessRate must be in [0, 1], was {Show(set.MinSuccessRate)}.";
        }
        if (!(set.MaxErrorRate is >= 0 and <= 1))
        {
            yield return $"{prefix}:MaxErrorRate must be in [0, 1], was {Show(set.MaxErrorRate)}.";
        }
        if (!(set.MaxLatencyP95Seconds > 0) || double.IsInfinity(set.MaxLatencyP95Seconds))
        {
            yield return $"{prefix}:MaxLatencyP95Seconds must be a positive number of seconds, was {Show(set.MaxLatencyP95Seconds)}.";
        }
        if (!(set.MaxCostPerInvocationUsd >= 0) || double.IsInfinity(set.MaxCostPerInvocationUsd))
        {
            yield return $"{prefix}:MaxCostPerInvocationUsd must be 0 or more, was {Show(set.MaxCostPerInvocationUsd)}.";
        }
        if (!(set.MinAccuracy is >= 0 and <= 1))
        {
            yield return $"{prefix}:MinAccuracy must be in [0, 1], was {Show(set.MinAccuracy)}.";
        }
        if (!(set.MinQuality is >= 0 and <= 1))
        {
            yield return $"{prefix}:MinQuality must be in [0, 1], was {Show(set.MinQuality)}.";
        }
        if (!(set.MaxTokensPerInvocation >= 0) || double.IsInfinity(set.MaxTokensPerInvocation))
        {
            yield return $"{prefix}:MaxTokensPerInvocation must be 0 or more, was {Show(set.MaxTokensPerInvocation)}.";
        }
        if (!(set.BudgetWarningRatio > 0) || double.IsInfinity(set.BudgetWarningRatio))
        {
            yield return $"{prefix}:BudgetWarningRatio must be positive, was {Show(set.BudgetWarningRatio)}.";
        }
        if (!(set.BudgetCriticalRatio >= set.BudgetWarningRatio) || double.IsInfinity(set.BudgetCriticalRatio))
        {
            yield return $"{prefix}:BudgetCriticalRatio must be at least BudgetWarningRatio ({Show(set.BudgetWarningRatio)}), was {Show(set.BudgetCriticalRatio)}.";
        }
        if (!(set.HourlyCostSpikeFactor > 1) || double.IsInfinity(set.HourlyCostSpikeFactor))
        {
            yield return $"{prefix}:HourlyCostSpikeFactor must be greater than 1, was {Show(set.HourlyCostSpikeFactor)}.";
        }
        if (!(set.MinRunConfidence is >= 0 and <= 1))
        {
            yield return $"{prefix}:MinRunConfidence must be in [0, 1], was {Show(set.MinRunConfidence)}.";
        }
        if (!(set.MinRunQuality is >= 0 and <= 1))
        {
            yield return $"{prefix}:MinRunQuality must be in [0, 1], was {Show(set.MinRunQuality)}.";
        }
        if (!(set.MaxRunRetries >= 0) || double.IsInfinity(set.MaxRunRetries))
        {
            yield return $"{prefix}:MaxRunRetries must be 0 or more, was {Show(set.MaxRunRetries)}.";
        }
        if (!(set.SlowRunFactor > 0) || double.IsInfinity(set.SlowRunFactor))
        {
            yield return $"{prefix}:SlowRunFactor must be a positive number, was {Show(set.SlowRunFactor)}.";
        }
        if (!(set.AgentIdleAfterSeconds > 0) || double.IsInfinity(set.AgentIdleAfterSeconds))
        {
            yield return $"{prefix}:AgentIdleAfterSeconds must be a positive number of seconds, was {Show(set.AgentIdleAfterSeconds)}.";
        }
        if (!(set.AgentSilentAfterSeconds > set.AgentIdleAfterSeconds) || double.IsInfinity(set.AgentSilentAfterSeconds))
        {
            yield return $"{prefix}:AgentSilentAfterSeconds must be greater than AgentIdleAfterSeconds ({Show(set.AgentIdleAfterSeconds)}), was {Show(set.AgentSilentAfterSeconds)}.";
        }
        foreach (var (metric, excellent, good, acceptable) in new[]
                 {
                     ("ResponseTime", set.ResponseTimeExcellentSeconds, set.ResponseTimeGoodSeconds, set.ResponseTimeAcceptableSeconds),
                     ("TokensPerRun", set.TokensPerRunExcellent, set.TokensPerRunGood, set.TokensPerRunAcceptable),
                     ("StepsPerRun", set.StepsPerRunExcellent, set.StepsPerRunGood, set.StepsPerRunAcceptable),
                 })
        {
            var unit = metric == "ResponseTime" ? "Seconds" : "";
            if (!(excellent > 0 && good >= excellent && acceptable >= good) || double.IsInfinity(acceptable))
            {
                yield return $"{prefix}:{metric}Excellent{unit}, {metric}Good{unit} and {metric}Acceptable{unit} must be positive and ascending, were {Show(excellent)}, {Show(good)} and {Show(acceptable)}.";
            }
        }
        if (!(set.MaxProcessMemoryMegabytes > 0) || double.IsInfinity(set.MaxProcessMemoryMegabytes))
        {
            yield return $"{prefix}:MaxProcessMemoryMegabytes must be a positive number of megabytes, was {Show(set.MaxProcessMemoryMegabytes)}.";
        }
        if (!(set.MaxProcessCpuUtilization is > 0 and <= 1))
        {
            yield return $"{prefix}:MaxProcessCpuUtilization must be in (0, 1], was {Show(set.MaxProcessCpuUtilization)}.";
        }
    }
}

using System.Globalization;

namespace PerfOtel.Collector.Derived.Thresholds;

/// <summary>A complete set of thresholds (the defaults, or a tenant's after its overrides).</summary>
public sealed record ThresholdSet
{
    public double MinSuccessRate { get; init; } = ThresholdDefaults.MinSuccessRate;
    public double MaxErrorRate { get; init; } = ThresholdDefaults.MaxErrorRate;
    public double MaxLatencyP95Seconds { get; init; } = ThresholdDefaults.MaxLatencyP95Seconds;
    public double MaxCostPerInvocationUsd { get; init; } = ThresholdDefaults.MaxCostPerInvocationUsd;
    public double MinAccuracy { get; init; } = ThresholdDefaults.MinAccuracy;
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
}

/// <summary>A tenant's overrides: every setting left out keeps the section-wide value.</summary>
public sealed class TenantThresholdOverrides
{
    public double? MinSuccessRate { get; set; }
    public double? MaxErrorRate { get; set; }
    public double? MaxLatencyP95Seconds { get; set; }
    public double? MaxCostPerInvocationUsd { get; set; }
    public double? MinAccuracy { get; set; }
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
}

/// <summary>
/// Configuration section <c>Thresholds</c>: section-wide values (defaulting to <see cref="ThresholdDefaults"/>) and
/// per-tenant overrides under <c>Thresholds:Tenants:&lt;tenant&gt;:&lt;setting&gt;</c>.
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

    /// <summary>Per-tenant overrides by tenant name.</summary>
    public Dictionary<string, TenantThresholdOverrides> Tenants { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The thresholds that apply to a tenant.</summary>
    public ThresholdSet For(string tenant)
    {
        Tenants.TryGetValue(tenant, out var o);
        return new ThresholdSet
        {
            MinSuccessRate = o?.MinSuccessRate ?? MinSuccessRate,
            MaxErrorRate = o?.MaxErrorRate ?? MaxErrorRate,
            MaxLatencyP95Seconds = o?.MaxLatencyP95Seconds ?? MaxLatencyP95Seconds,
            MaxCostPerInvocationUsd = o?.MaxCostPerInvocationUsd ?? MaxCostPerInvocationUsd,
            MinAccuracy = o?.MinAccuracy ?? MinAccuracy,
            MaxTokensPerInvocation = o?.MaxTokensPerInvocation ?? MaxTokensPerInvocation,
            BudgetWarningRatio = o?.BudgetWarningRatio ?? BudgetWarningRatio,
            BudgetCriticalRatio = o?.BudgetCriticalRatio ?? BudgetCriticalRatio,
            HourlyCostSpikeFactor = o?.HourlyCostSpikeFactor ?? HourlyCostSpikeFactor,
            MinRunConfidence = o?.MinRunConfidence ?? MinRunConfidence,
            MinRunQuality = o?.MinRunQuality ?? MinRunQuality,
            MaxRunRetries = o?.MaxRunRetries ?? MaxRunRetries,
            SlowRunFactor = o?.SlowRunFactor ?? SlowRunFactor,
            AgentIdleAfterSeconds = o?.AgentIdleAfterSeconds ?? AgentIdleAfterSeconds,
            AgentSilentAfterSeconds = o?.AgentSilentAfterSeconds ?? AgentSilentAfterSeconds,
            ResponseTimeExcellentSeconds = o?.ResponseTimeExcellentSeconds ?? ResponseTimeExcellentSeconds,
            ResponseTimeGoodSeconds = o?.ResponseTimeGoodSeconds ?? ResponseTimeGoodSeconds,
            ResponseTimeAcceptableSeconds = o?.ResponseTimeAcceptableSeconds ?? ResponseTimeAcceptableSeconds,
            TokensPerRunExcellent = o?.TokensPerRunExcellent ?? TokensPerRunExcellent,
            TokensPerRunGood = o?.TokensPerRunGood ?? TokensPerRunGood,
            TokensPerRunAcceptable = o?.TokensPerRunAcceptable ?? TokensPerRunAcceptable,
            StepsPerRunExcellent = o?.StepsPerRunExcellent ?? StepsPerRunExcellent,
            StepsPerRunGood = o?.StepsPerRunGood ?? StepsPerRunGood,
            StepsPerRunAcceptable = o?.StepsPerRunAcceptable ?? StepsPerRunAcceptable,
        };
    }

    /// <summary>Every invalid setting, each message naming the setting's full configuration key.</summary>
    public IEnumerable<string> Problems()
    {
        foreach (var problem in ProblemsOf(SectionName, For("\0section")))
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
        if (!(set.MaxCostPerInvocationUsd >= 0))
        {
            yield return $"{prefix}:MaxCostPerInvocationUsd must be 0 or more, was {Show(set.MaxCostPerInvocationUsd)}.";
        }
        if (!(set.MinAccuracy is >= 0 and <= 1))
        {
            yield return $"{prefix}:MinAccuracy must be in [0, 1], was {Show(set.MinAccuracy)}.";
        }
        if (!(set.MaxTokensPerInvocation >= 0))
        {
            yield return $"{prefix}:MaxTokensPerInvocation must be 0 or more, was {Show(set.MaxTokensPerInvocation)}.";
        }
        if (!(set.BudgetWarningRatio > 0))
        {
            yield return $"{prefix}:BudgetWarningRatio must be positive, was {Show(set.BudgetWarningRatio)}.";
        }
        if (!(set.BudgetCriticalRatio >= set.BudgetWarningRatio))
        {
            yield return $"{prefix}:BudgetCriticalRatio must be at least BudgetWarningRatio ({Show(set.BudgetWarningRatio)}), was {Show(set.BudgetCriticalRatio)}.";
        }
        if (!(set.HourlyCostSpikeFactor > 1))
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
    }
}

using System.Globalization;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Collector.Derived.Models;

/// <summary>A rolling window of the model comparison.</summary>
/// <param name="Name">The <c>window</c> label value, e.g. <c>1h</c>.</param>
/// <param name="Duration">Length.</param>
/// <param name="BucketWidth">Width of a time bucket (the resolution of expiry).</param>
public sealed record ComparisonWindow(string Name, TimeSpan Duration, TimeSpan BucketWidth);

/// <summary>
/// Configuration section <c>Models</c>. The windows are the analytics windows (<c>Analytics:Windows</c>, default 1h in
/// 1-minute buckets and 24h in 15-minute buckets), so a model and an agent are compared over the same spans of time.
/// </summary>
public sealed class ModelComparisonOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Models";

    /// <summary>The default windows, the same as the analytics'.</summary>
    public static IReadOnlyList<ComparisonWindow> DefaultWindows { get; } =
    [
        new("1h", TimeSpan.FromHours(1), TimeSpan.FromMinutes(1)),
        new("24h", TimeSpan.FromHours(24), TimeSpan.FromMinutes(15)),
        new("7d", TimeSpan.FromDays(7), TimeSpan.FromHours(1)),
    ];

    /// <summary>The windows: the analytics' <c>EffectiveWindows</c>, set by the service registration.</summary>
    public IReadOnlyList<ComparisonWindow> Windows { get; set; } = DefaultWindows;

    /// <summary>Tenants compared; models of further tenants are pooled under the tenant <c>(other)</c>.</summary>
    public int MaxTenants { get; set; } = 1000;

    /// <summary>Distinct (provider, model) series per tenant; calls to further models are pooled under <c>(other)</c>.</summary>
    public int MaxModelsPerTenant { get; set; } = 200;

    /// <summary>A model is compared (as the current or the cheaper one) only with at least this many invocations served in the window.</summary>
    public int MinInvocations { get; set; } = 30;

    /// <summary>Accuracy is compared only when both models have at least this many accuracy samples in the window.</summary>
    public int MinAccuracySamples { get; set; } = 10;

    /// <summary>
    /// Non-inferiority margin of the success rate (absolute): a cheaper model is recommended only when the lower limit of
    /// the 95 % Newcombe interval of (its success rate - the current one's), for the same agent and task type, is at
    /// least minus this.
    /// </summary>
    public double SuccessRateTolerance { get; set; } = 0.05;

    /// <summary>(agent, task type, model) cohorts kept per tenant for the like-for-like advice; further ones get no advice.</summary>
    public int MaxCohortsPerTenant { get; set; } = 5000;

    /// <summary>... and its mean accuracy at most this much lower (absolute).</summary>
    public double AccuracyTolerance { get; set; } = 0.02;

    /// <summary>A model is recommended only when it saves at least this share of the cost per invocation.</summary>
    public double MinSavingsRatio { get; set; } = 0.10;

    /// <summary>The window recommendations are made over (the default is the longest).</summary>
    public string? RecommendationWindow { get; set; }

    /// <summary>The window recommendations use.</summary>
    public ComparisonWindow EffectiveRecommendationWindow =>
        Windows.FirstOrDefault(w => w.Name == RecommendationWindow) ?? Windows.MaxBy(w => w.Duration)!;

    /// <summary>Every problem with these options, each naming its setting.</summary>
    public IEnumerable<string> Problems()
    {
        static string Show(double value) => value.ToString(CultureInfo.InvariantCulture);

        if (MaxTenants < 1)
        {
            yield return $"{SectionName}:MaxTenants must be at least 1, was {MaxTenants}.";
        }
        if (MaxModelsPerTenant < 1)
        {
            yield return $"{SectionName}:MaxModelsPerTenant must be at least 1, was {MaxModelsPerTenant}.";
        }
        if (MinInvocations < 1)
        {
            yield return $"{SectionName}:MinInvocations must be at least 1, was {MinInvocations}.";
        }
        if (MaxCohortsPerTenant < 1)
        {
            yield return $"{SectionName}:MaxCohortsPerTenant must be at least 1, was {MaxCohortsPerTenant}.";
        }
        if (MinAccuracySamples < 1)
        {
            yield return $"{SectionName}:MinAccuracySamples must be at least 1, was {MinAccuracySamples}.";
        }
        if (!(SuccessRateTolerance is >= 0 and <= 1))
        {
            yield return $"{SectionName}:SuccessRateTolerance must be in [0, 1], was {Show(SuccessRateTolerance)}.";
        }
        if (!(AccuracyTolerance is >= 0 and <= 1))
        {
            yield return $"{SectionName}:AccuracyTolerance must be in [0, 1], was {Show(AccuracyTolerance)}.";
        }
        if (!(MinSavingsRatio is >= 0 and < 1))
        {
            yield return $"{SectionName}:MinSavingsRatio must be in [0, 1), was {Show(MinSavingsRatio)}.";
        }
        if (RecommendationWindow is not null && Windows.All(w => w.Name != RecommendationWindow))
        {
            yield return $"{SectionName}:RecommendationWindow '{RecommendationWindow}' is not one of the windows ({string.Join(", ", Windows.Select(w => w.Name))}).";
        }
        foreach (var window in Windows)
        {
            if (window.BucketWidth <= TimeSpan.Zero || window.Duration < window.BucketWidth ||
                window.Duration.Ticks % window.BucketWidth.Ticks != 0)
            {
                yield return $"Analytics:Windows '{window.Name}': Duration ({window.Duration}) must be a whole multiple of a positive BucketWidth ({window.BucketWidth}).";
            }
            else if (window.BucketWidth.Ticks % TimeSpan.TicksPerSecond != 0)
            {
                yield return $"Analytics:Windows '{window.Name}': BucketWidth must be a whole number of seconds, was {window.BucketWidth}.";
            }
        }
    }
}

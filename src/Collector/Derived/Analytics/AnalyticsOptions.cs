using PerfOtel.Collector.Derived.Analytics.Formulas;
using PerfOtel.Collector.Derived.Kernel;

namespace PerfOtel.Collector.Derived.Analytics;

/// <summary>One rolling window: its label value, length and time-bucket width.</summary>
public sealed class RollingWindowOptions
{
    /// <summary>The <c>window</c> label value, e.g. <c>1h</c>.</summary>
    public string Name { get; set; } = "";

    /// <summary>Window length; a whole multiple of <see cref="BucketWidth"/>.</summary>
    public TimeSpan Duration { get; set; }

    /// <summary>Width of one time bucket (the resolution of expiry and of the anomaly series).</summary>
    public TimeSpan BucketWidth { get; set; }
}

/// <summary>Configuration section <c>Analytics</c>.</summary>
public sealed class AnalyticsOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Analytics";

    /// <summary>
    /// Rolling windows; empty means the defaults 1h in 1-minute buckets, 24h in 15-minute buckets and 7d in 1-hour
    /// buckets (the weekly report's window: 168 buckets, so its memory is that of 24h's 96, not of a week of events).
    /// </summary>
    public List<RollingWindowOptions> Windows { get; set; } = [];

    /// <summary>Equal-width confidence bins.</summary>
    public int CalibrationBins { get; set; } = CalibrationFormulas.DefaultBinCount;

    /// <summary>Calibration values are withheld below this many (confidence, outcome) samples.</summary>
    public int CalibrationMinimumSamples { get; set; } = CalibrationFormulas.DefaultMinimumSamples;

    /// <summary>EWMA smoothing factor of the anomaly detector, in (0, 1).</summary>
    public double AnomalyAlpha { get; set; } = AnomalyDetector.DefaultAlpha;

    /// <summary>|z| at and above which a point is an anomaly.</summary>
    public double AnomalyThreshold { get; set; } = AnomalyDetector.DefaultThreshold;

    /// <summary>Distinct task types tracked per agent; further types are pooled under <see cref="OtherTaskType"/>.</summary>
    public int MaxTaskTypesPerAgent { get; set; } = 32;

    /// <summary>The task type of invocations beyond the per-agent cap of distinct task types.</summary>
    /// <summary>
    /// How often the encoded analytics on <c>/metrics</c> are re-derived in the background. A scrape serves the latest
    /// encoding (at most twice this old, else it derives itself), so its time does not grow with the number of agents
    /// that changed since the last scrape. Zero derives on every scrape instead. Default 1 s; at most 1 minute.
    /// </summary>
    public TimeSpan ExpositionRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    public const string OtherTaskType = "(other)";

    /// <summary>The task type of invocations that carry none.</summary>
    public const string NoTaskType = "(none)";

    /// <summary>The default windows.</summary>
    public static IReadOnlyList<RollingWindowOptions> DefaultWindows { get; } =
    [
        new() { Name = "1h", Duration = TimeSpan.FromHours(1), BucketWidth = TimeSpan.FromMinutes(1) },
        new() { Name = "24h", Duration = TimeSpan.FromHours(24), BucketWidth = TimeSpan.FromMinutes(15) },
        new() { Name = "7d", Duration = TimeSpan.FromDays(7), BucketWidth = TimeSpan.FromHours(1) },
    ];

    /// <summary>
    /// The span of history the windows hold: twice the longest window (the current one and the previous one, for
    /// trends). The start-up replay can only restore what the store kept, so retention must cover it.
    /// </summary>
    public TimeSpan History => TimeSpan.FromTicks(2 * EffectiveWindows.Max(w => w.Duration.Ticks));

    /// <summary>The configured windows, or the defaults.</summary>
    public IReadOnlyList<RollingWindowOptions> EffectiveWindows => Windows.Count > 0 ? Windows : DefaultWindows;

    /// <summary>Every problem with these options, each naming its setting.</summary>
    public IEnumerable<string> Problems()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Windows.Count; i++)
        {
            var window = Windows[i];
            var setting = $"{SectionName}:Windows:{i}";
            if (string.IsNullOrWhiteSpace(window.Name) || !window.Name.All(char.IsAsciiLetterOrDigit))
            {
                yield return $"{setting}:Name must be letters and digits (a label value such as 1h), was '{window.Name}'.";
            }
            else if (!names.Add(window.Name))
            {
                yield return $"{setting}:Name '{window.Name}' is used by two windows.";
            }
            if (window.BucketWidth < TimeSpan.FromSeconds(1))
            {
                yield return $"{setting}:BucketWidth must be at least 1 second, was {window.BucketWidth}.";
            }
            else if (window.Duration < window.BucketWidth || window.Duration.Ticks % window.BucketWidth.Ticks != 0)
            {
                yield return $"{setting}:Duration must be a whole multiple of BucketWidth ({window.BucketWidth}), was {window.Duration}.";
            }
            else if (window.Duration.Ticks / window.BucketWidth.Ticks > 10_000)
            {
                yield return $"{setting}: at most 10000 buckets per window, {window.Duration} / {window.BucketWidth} is more.";
            }
        }
        if (CalibrationBins is < 1 or > 100)
        {
            yield return $"{SectionName}:CalibrationBins must be in [1, 100], was {CalibrationBins}.";
        }
        if (CalibrationMinimumSamples < 1)
        {
            yield return $"{SectionName}:CalibrationMinimumSamples must be at least 1, was {CalibrationMinimumSamples}.";
        }
        if (!(AnomalyAlpha is > 0 and < 1))
        {
            yield return $"{SectionName}:AnomalyAlpha must be in (0, 1), was {AnomalyAlpha}.";
        }
        if (!(AnomalyThreshold > 0))
        {
            yield return $"{SectionName}:AnomalyThreshold must be positive, was {AnomalyThreshold}.";
        }
        if (ExpositionRefreshInterval < TimeSpan.Zero || ExpositionRefreshInterval > TimeSpan.FromMinutes(1))
        {
            yield return $"{SectionName}:ExpositionRefreshInterval must be between 0 and 1 minute, was {ExpositionRefreshInterval}.";
        }
        if (MaxTaskTypesPerAgent < 1)
        {
            yield return $"{SectionName}:MaxTaskTypesPerAgent must be at least 1, was {MaxTaskTypesPerAgent}.";
        }
    }
}

using System.Globalization;

namespace PerfOtel.Collector.Derived.Experiments;

/// <summary>A metric an experiment is analysed on.</summary>
public enum ExperimentMetric
{
    /// <summary>Success rate (a proportion); higher is better.</summary>
    Success,

    /// <summary>Mean accuracy 0-1; higher is better.</summary>
    Accuracy,

    /// <summary>Mean <c>perfotel.quality</c>; higher is better.</summary>
    Quality,

    /// <summary>Mean invocation latency in seconds; lower is better.</summary>
    Latency,

    /// <summary>Mean cost in US dollars of a priced invocation; lower is better.</summary>
    Cost,
}

/// <summary>Names and directions of <see cref="ExperimentMetric"/>.</summary>
public static class ExperimentMetricNames
{
    /// <summary>Every metric in report order.</summary>
    public static IReadOnlyList<ExperimentMetric> All { get; } =
        [ExperimentMetric.Success, ExperimentMetric.Accuracy, ExperimentMetric.Quality, ExperimentMetric.Latency, ExperimentMetric.Cost];

    /// <summary>The name used in configuration and in the API (lower case).</summary>
    public static string Name(ExperimentMetric metric) => metric.ToString().ToLowerInvariant();

    /// <summary>Parses a configured name (case-insensitive); null when unknown.</summary>
    public static ExperimentMetric? Parse(string? name) =>
        All.Select(m => (ExperimentMetric?)m).FirstOrDefault(m => string.Equals(Name(m!.Value), name, StringComparison.OrdinalIgnoreCase));

    /// <summary>Whether a higher value is better (success, accuracy, quality) or a lower one (latency, cost).</summary>
    public static bool HigherIsBetter(ExperimentMetric metric) => metric is ExperimentMetric.Success or ExperimentMetric.Accuracy or ExperimentMetric.Quality;

    /// <summary>The accepted names, for error messages.</summary>
    public static string Names => string.Join("|", All.Select(Name));
}

/// <summary>
/// One pre-registered experiment: <c>Experiments:Definitions:&lt;tenant&gt;:&lt;experiment&gt;</c>.
/// </summary>
public sealed class ExperimentDefinition
{
    /// <summary>Default τ of the always-valid test and equivalence margin for success, accuracy and quality (absolute).</summary>
    public const double DefaultMinimumDetectableEffect = 0.05;

    /// <summary>Intended weight per variant (<c>Variants:&lt;variant&gt; = weight</c>); weights are relative, 0 means no traffic intended.</summary>
    public Dictionary<string, double> Variants { get; } = new(StringComparer.Ordinal);

    /// <summary>The control variant; default the first variant in configuration order (the configuration sorts keys).</summary>
    public string? Control { get; set; }

    /// <summary>Invocations that started before this are not counted.</summary>
    public DateTimeOffset? Start { get; set; }

    /// <summary>Invocations that started at or after this are not counted; once passed, an undecided experiment ends as no_difference.</summary>
    public DateTimeOffset? End { get; set; }

    /// <summary>The metric the verdict is about: success, accuracy, quality, latency or cost.</summary>
    public string PrimaryMetric { get; set; } = "success";

    /// <summary>Tolerated relative degradation per guardrail metric (<c>Guardrails:latency = 0.1</c>: at most 10 % slower).</summary>
    public Dictionary<string, double> Guardrails { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// Smallest absolute difference of the primary metric worth detecting (τ of the mSPRT, margin of no_difference);
    /// default 0.05 for success, accuracy and quality; required for latency (seconds) and cost (USD).
    /// </summary>
    public double? MinimumDetectableEffect { get; set; }

    /// <summary>Minimum invocations of every variant before a verdict; default <c>Experiments:MinSamplesPerVariant</c>.</summary>
    public int? MinSamplesPerVariant { get; set; }

    /// <summary>The parsed primary metric (valid once <see cref="Problems"/> is empty).</summary>
    public ExperimentMetric Primary => ExperimentMetricNames.Parse(PrimaryMetric) ?? ExperimentMetric.Success;

    /// <summary>τ in force.</summary>
    public double Tau => MinimumDetectableEffect ?? DefaultMinimumDetectableEffect;

    /// <summary>The control in force.</summary>
    public string ControlVariant => Control ?? Variants.Keys.First();

    /// <summary>Whether an invocation that started at <paramref name="start"/> belongs to the experiment.</summary>
    public bool Covers(DateTimeOffset start) => (Start is not { } from || start >= from) && (End is not { } to || start < to);

    /// <summary>Every problem, each naming its setting under <paramref name="key"/>.</summary>
    public IEnumerable<string> Problems(string key)
    {
        if (Variants.Count < 2)
        {
            yield return $"{key}:Variants must name at least two variants, had {Variants.Count}.";
        }
        foreach (var (variant, weight) in Variants)
        {
            if (!double.IsFinite(weight) || weight < 0)
            {
                yield return $"{key}:Variants:{variant} must be a finite weight >= 0, was {weight.ToString(CultureInfo.InvariantCulture)}.";
            }
        }
        if (Variants.Count >= 2 && Variants.Values.Count(w => w > 0) < 2)
        {
            yield return $"{key}:Variants must give at least two variants a positive weight.";
        }
        if (Control is not null && !Variants.ContainsKey(Control))
        {
            yield return $"{key}:Control must be one of the variants ({string.Join(", ", Variants.Keys)}), was '{Control}'.";
        }
        if (Start is { } s && End is { } e && e <= s)
        {
            yield return $"{key}:End must be after {key}:Start, was {e:O} against {s:O}.";
        }
        var primary = ExperimentMetricNames.Parse(PrimaryMetric);
        if (primary is null)
        {
            yield return $"{key}:PrimaryMetric must be one of {ExperimentMetricNames.Names}, was '{PrimaryMetric}'.";
        }
        foreach (var (metric, tolerance) in Guardrails)
        {
            if (ExperimentMetricNames.Parse(metric) is null)
            {
                yield return $"{key}:Guardrails:{metric} is not a metric; use one of {ExperimentMetricNames.Names}.";
            }
            if (!double.IsFinite(tolerance) || tolerance < 0)
            {
                yield return $"{key}:Guardrails:{metric} must be a finite tolerated relative degradation >= 0, was {tolerance.ToString(CultureInfo.InvariantCulture)}.";
            }
        }
        if (MinimumDetectableEffect is { } mde && !(double.IsFinite(mde) && mde > 0))
        {
            yield return $"{key}:MinimumDetectableEffect must be a positive number, was {mde.ToString(CultureInfo.InvariantCulture)}.";
        }
        if (MinimumDetectableEffect is null && primary is ExperimentMetric.Latency or ExperimentMetric.Cost)
        {
            yield return $"{key}:MinimumDetectableEffect is required when PrimaryMetric is {PrimaryMetric} (an absolute difference in {(primary == ExperimentMetric.Latency ? "seconds" : "USD")}).";
        }
        if (MinSamplesPerVariant is < 1)
        {
            yield return $"{key}:MinSamplesPerVariant must be at least 1, was {MinSamplesPerVariant}.";
        }
    }
}

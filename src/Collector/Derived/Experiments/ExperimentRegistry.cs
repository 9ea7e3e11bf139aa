using Microsoft.Extensions.Options;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Derived.Cardinality;
using PerfOtel.Collector.Derived.Experiments.Statistics;
using PerfOtel.Collector.Exposure.Metrics;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Experiments;

/// <summary>One variant's figures; means are null without samples.</summary>
public sealed record VariantReport(
    string Variant,
    long Invocations,
    long Successes,
    double? SuccessRate,
    double? LatencyP95Seconds,
    double? CostPerInvocationUsd,
    long PricedInvocations,
    long UnpricedInvocations,
    double? MeanQuality,
    long QualitySamples,
    double? MeanAccuracy,
    long AccuracySamples,
    double? ZAgainstLeader,
    double? PValueAgainstLeader);

/// <summary>Where an experiment stands.</summary>
public enum ExperimentState
{
    /// <summary>Fewer than two variants, or a variant below the minimum sample.</summary>
    InsufficientSamples,

    /// <summary>Enough samples, but the leader does not beat every other variant at the significance level.</summary>
    NoSignificantDifference,

    /// <summary>The leader beats every other variant at the significance level.</summary>
    Winner,
}

/// <summary>An experiment's variants and verdict.</summary>
/// <param name="Experiment">Experiment id (<c>perfotel.experiment</c>).</param>
/// <param name="Variants">Variants by name.</param>
/// <param name="Leader">The variant with the highest success rate (ties: more invocations, then name), or null.</param>
/// <param name="PValue">The largest p-value of the leader against another variant (with two variants, the test's p-value).</param>
/// <param name="State">The verdict.</param>
/// <param name="Winner">The leader when <paramref name="State"/> is <see cref="ExperimentState.Winner"/>, else null.</param>
/// <param name="MinSamplesPerVariant">The minimum sample in force.</param>
/// <param name="SignificanceLevel">The significance level in force.</param>
public sealed record ExperimentReport(
    string Experiment,
    IReadOnlyList<VariantReport> Variants,
    string? Leader,
    double? PValue,
    ExperimentState State,
    string? Winner,
    int MinSamplesPerVariant,
    double SignificanceLevel)
{
    /// <summary>Whether the experiment is defined in configuration (<c>Experiments:Definitions</c>).</summary>
    public bool Defined { get; init; }

    /// <summary>Estimates with intervals against the control, the SRM check and the verdict; null without variants.</summary>
    public ExperimentAnalysis? Analysis { get; init; }
}

/// <summary>
/// Cumulative statistics per (tenant, experiment, variant) of the invocations tagged <c>perfotel.experiment</c> and
/// <c>perfotel.variant</c>, and the verdict of a two-proportion z-test on success. Memory: one <see cref="VariantStats"/>
/// per variant, at most <see cref="ExperimentOptions.MaxExperimentsPerTenant"/> x
/// <see cref="ExperimentOptions.MaxVariantsPerExperiment"/> per tenant. Thread-safe.
/// </summary>
/// <remarks>
/// With more than two variants the leader (highest success rate) is the winner only when it beats every other variant
/// at p &lt; the significance level, each pairwise test on its own. Requiring every test to reject is an
/// intersection-union test, whose level is the level of each test, so no multiple-comparison correction is needed.
/// </remarks>
public sealed class ExperimentRegistry
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, TenantExperiments> tenants = new(StringComparer.Ordinal);
    private readonly ExperimentOptions options;
    private readonly CardinalityGuard? guard;
    private readonly TimeProvider time;

    /// <summary>Creates an empty registry.</summary>
    /// <param name="options">Statistics settings and the registry's own caps.</param>
    /// <param name="guard">
    /// Folds tenants and (experiment, variant) pairs beyond their limits into the overflow experiment and variant;
    /// none: only the registry's caps, which drop what is beyond them.
    /// </param>
    /// <param name="time">The clock that says whether a defined experiment has ended; default the system clock.</param>
    public ExperimentRegistry(IOptions<ExperimentOptions> options, CardinalityGuard? guard = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options.Value;
        this.guard = guard;
        this.time = time ?? TimeProvider.System;
    }

    /// <summary>The options in force.</summary>
    public ExperimentOptions Options => options;

    /// <summary>
    /// Counts an invocation of an experiment (nothing when it has no experiment and variant).
    /// <paramref name="knownCostUsd"/> is its cost when every call was priced, else null.
    /// </summary>
    public void RecordInvocation(AgentInvocation invocation, double? knownCostUsd, double? accuracy)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        var succeeded = invocation.Outcome == Outcomes.Success;
        var quality = invocation.Quality is { } q && double.IsFinite(q) ? q : (double?)null;
        Update(invocation, stats =>
        {
            stats.Invocations++;
            if (succeeded)
            {
                stats.Successes++;
            }
            stats.Latency.Record(invocation.DurationSeconds);
            stats.LatencySums = stats.LatencySums.Add(invocation.DurationSeconds);
            if (knownCostUsd is { } cost && double.IsFinite(cost))
            {
                stats.CostSums = stats.CostSums.Add(cost);
            }
            else
            {
                stats.UnpricedInvocations++;
            }
            if (quality is { } value)
            {
                stats.QualitySums = stats.QualitySums.Add(value);
            }
            if (accuracy is { } a)
            {
                stats.AccuracySums = stats.AccuracySums.Add(a);
            }
        });
    }

    /// <summary>Counts an accuracy sample that arrived after its invocation.</summary>
    public void RecordAccuracy(string tenant, string? experiment, string? variant, double accuracy)
    {
        if (string.IsNullOrEmpty(experiment) || string.IsNullOrEmpty(variant))
        {
            return;
        }
        if (guard is not null)
        {
            (experiment, variant) = guard.ExperimentVariant(tenant, experiment, variant);
            tenant = guard.Tenant(tenant);
        }
        lock (gate)
        {
            if (Find(tenant, experiment, variant) is { } stats)
            {
                stats.AccuracySums = stats.AccuracySums.Add(accuracy);
            }
        }
    }

    /// <summary>Tenants with experiments seen in data.</summary>
    public IReadOnlyList<string> Tenants()
    {
        lock (gate)
        {
            return tenants.Keys.Order(StringComparer.Ordinal).ToList();
        }
    }

    /// <summary>Invocations of a tenant left out because of the experiment or variant caps.</summary>
    public long DroppedInvocations(string tenant)
    {
        lock (gate)
        {
            return tenants.TryGetValue(tenant, out var t) ? t.Dropped : 0;
        }
    }

    /// <summary>The tenant's experiments by id.</summary>
    public IReadOnlyList<ExperimentReport> Reports(string tenant)
    {
        lock (gate)
        {
            var seen = tenants.TryGetValue(tenant, out var t) ? t.Experiments.Keys : Enumerable.Empty<string>();
            var defined = options.Definitions.TryGetValue(tenant, out var d) ? d.Keys : Enumerable.Empty<string>();
            return seen.Union(defined, StringComparer.Ordinal).Order(StringComparer.Ordinal)
                .Select(id => ReportOf(tenant, id, t is not null && t.Experiments.TryGetValue(id, out var v) ? v : null)).ToList();
        }
    }

    /// <summary>One experiment, or null when the tenant has none of that id.</summary>
    public ExperimentReport? Report(string tenant, string experiment)
    {
        lock (gate)
        {
            var variants = tenants.TryGetValue(tenant, out var t) && t.Experiments.TryGetValue(experiment, out var v) ? v : null;
            return variants is not null || options.Definition(tenant, experiment) is not null
                ? ReportOf(tenant, experiment, variants)
                : null;
        }
    }

    private ExperimentReport ReportOf(string tenant, string experiment, Dictionary<string, VariantStats>? seen)
    {
        var definition = options.Definition(tenant, experiment);
        var variants = new Dictionary<string, VariantStats>(seen ?? [], StringComparer.Ordinal);
        foreach (var name in definition?.Variants.Keys ?? Enumerable.Empty<string>())
        {
            variants.TryAdd(name, new VariantStats());
        }
        var ordered = variants.OrderBy(v => v.Key, StringComparer.Ordinal).ToList();
        var leader = ordered
            .Where(v => v.Value.Invocations > 0)
            .OrderByDescending(v => (double)v.Value.Successes / v.Value.Invocations)
            .ThenByDescending(v => v.Value.Invocations)
            .ThenBy(v => v.Key, StringComparer.Ordinal)
            .Select(v => v.Key)
            .FirstOrDefault();
        var leaderStats = leader is null ? null : variants[leader];

        double? experimentP = null;
        var allSignificant = true;
        var reports = new List<VariantReport>();
        foreach (var (name, stats) in ordered)
        {
            ZTestResult? test = null;
            if (leaderStats is not null && name != leader)
            {
                test = TwoProportionZTest.Test(leaderStats.Successes, leaderStats.Invocations, stats.Successes, stats.Invocations);
                if (test is { } t)
                {
                    experimentP = Math.Max(experimentP ?? 0, t.PValue);
                    allSignificant &= t.Z > 0 && t.PValue < options.SignificanceLevel;
                }
                else
                {
                    allSignificant = false;
                }
            }
            reports.Add(ReportOf(name, stats, test));
        }

        var enoughSamples = ordered.Count >= 2 && ordered.All(v => v.Value.Invocations >= options.MinSamplesPerVariant);
        var state = !enoughSamples || experimentP is null ? ExperimentState.InsufficientSamples
            : allSignificant ? ExperimentState.Winner
            : ExperimentState.NoSignificantDifference;
        // The leader's own p-value is the experiment's: the weakest of its wins.
        for (var i = 0; i < reports.Count; i++)
        {
            if (reports[i].Variant == leader && experimentP is not null)
            {
                reports[i] = reports[i] with { PValueAgainstLeader = experimentP };
            }
        }
        return new ExperimentReport(experiment, reports, leader, experimentP, state,
            state == ExperimentState.Winner ? leader : null, options.MinSamplesPerVariant, options.SignificanceLevel)
        {
            Defined = definition is not null,
            Analysis = ExperimentAnalyzer.Analyze(ordered.Select(v => (v.Key, v.Value)).ToList(), definition, options, time.GetUtcNow()),
        };
    }

    private static VariantReport ReportOf(string name, VariantStats s, ZTestResult? test) => new(
        name,
        s.Invocations,
        s.Successes,
        s.Invocations > 0 ? (double)s.Successes / s.Invocations : null,
        s.Latency.Quantile(0.95),
        s.PricedInvocations > 0 ? s.CostSums.Mean : null,
        s.PricedInvocations,
        s.UnpricedInvocations,
        s.QualitySums.Count > 0 ? s.QualitySums.Mean : null,
        s.QualitySums.Count,
        s.AccuracySums.Count > 0 ? s.AccuracySums.Mean : null,
        s.AccuracySums.Count,
        test?.Z,
        test?.PValue);

    private void Update(AgentInvocation invocation, Action<VariantStats> update)
    {
        if (string.IsNullOrEmpty(invocation.Experiment) || string.IsNullOrEmpty(invocation.Variant))
        {
            return;
        }
        var (tenant, experiment, variant) = (invocation.Tenant, invocation.Experiment, invocation.Variant);
        if (options.Definition(tenant, experiment) is { } definition && !definition.Covers(invocation.StartTime))
        {
            // Outside the defined experiment's [Start, End): not part of it.
            return;
        }
        if (guard is not null)
        {
            (experiment, variant) = guard.ExperimentVariant(tenant, experiment, variant);
            tenant = guard.Tenant(tenant);
        }
        lock (gate)
        {
            if (!tenants.TryGetValue(tenant, out var t))
            {
                if (tenants.Count >= options.MaxTenants)
                {
                    // Pooling the invocations of several tenants would mix their experiments: they are only counted.
                    if (!tenants.TryGetValue(Cost.CostKeys.Other, out var pool))
                    {
                        pool = new TenantExperiments();
                        tenants[Cost.CostKeys.Other] = pool;
                    }
                    pool.Dropped++;
                    return;
                }
                t = new TenantExperiments();
                tenants[tenant] = t;
            }
            if (!t.Experiments.TryGetValue(experiment, out var variants))
            {
                if (t.Experiments.Count >= options.MaxExperimentsPerTenant)
                {
                    t.Dropped++;
                    return;
                }
                variants = new Dictionary<string, VariantStats>(StringComparer.Ordinal);
                t.Experiments[experiment] = variants;
            }
            if (!variants.TryGetValue(variant, out var stats))
            {
                if (variants.Count >= options.MaxVariantsPerExperiment)
                {
                    t.Dropped++;
                    return;
                }
                stats = new VariantStats();
                variants[variant] = stats;
            }
            update(stats);
        }
    }

    private VariantStats? Find(string tenant, string experiment, string variant) =>
        tenants.TryGetValue(tenant, out var t) && t.Experiments.TryGetValue(experiment, out var variants) &&
        variants.TryGetValue(variant, out var stats)
            ? stats
            : null;

    private sealed class TenantExperiments
    {
        public Dictionary<string, Dictionary<string, VariantStats>> Experiments { get; } = new(StringComparer.Ordinal);
        public long Dropped { get; set; }
    }
}

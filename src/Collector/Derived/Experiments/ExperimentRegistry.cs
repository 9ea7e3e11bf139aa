using Microsoft.Extensions.Options;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Derived.Cardinality;
using PerfOtel.Collector.Derived.Experiments.Statistics;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Experiments;

/// <summary>
/// The mergeable sums of one variant (docs/architecture.md, principle 4): counts and, per mean metric, (n, Σx, Σx²).
/// Replicas add them up; every figure of the analysis is a function of them (the p95 also of the latency histogram).
/// </summary>
/// <param name="Variant">The variant's name.</param>
/// <param name="Invocations">Invocations counted in the experiment.</param>
/// <param name="Successes">Those that succeeded.</param>
/// <param name="Accuracy">Accuracy samples (feedback and accuracy evaluations).</param>
/// <param name="Quality">perfotel.quality samples.</param>
/// <param name="Latency">Invocation durations in seconds.</param>
/// <param name="Cost">Costs in USD of the priced invocations (the others are not in the mean).</param>
/// <param name="Models">
/// The models that served the variant's invocations (the model of each invocation's last provider call, as the model
/// comparison counts it), most invocations first; empty before any call was seen.
/// </param>
/// <param name="LatencyHistogram">The invocation durations per bucket of the one <see cref="Kernel.LatencyHistogram"/>.</param>
/// <param name="Work">The (agent, task type) pairs of the variant's invocations, with their counts.</param>
public sealed record VariantSums(string Variant, long Invocations, long Successes, MeanSums Accuracy, MeanSums Quality,
    MeanSums Latency, MeanSums Cost, IReadOnlyList<VariantModel> Models, LatencyBuckets LatencyHistogram, IReadOnlyList<VariantWork> Work)
{
    /// <summary>The model that served every invocation of the variant whose model is known, or null when none or several did.</summary>
    public VariantModel? ServedBy => Models.Count == 1 ? Models[0] : null;

    /// <summary>The sums of a mean metric (not success, whose sums are the two counts).</summary>
    public MeanSums Of(ExperimentMetric metric) => metric switch
    {
        ExperimentMetric.Accuracy => Accuracy,
        ExperimentMetric.Quality => Quality,
        ExperimentMetric.Latency => Latency,
        ExperimentMetric.Cost => Cost,
        _ => throw new ArgumentOutOfRangeException(nameof(metric), metric, "success has counts, not mean sums"),
    };
}

/// <summary>An agent and task type whose invocations a variant counted.</summary>
/// <param name="Agent">Agent (<c>gen_ai.agent.name</c>).</param>
/// <param name="TaskType">Task type (<c>perfotel.task.type</c>; <c>(none)</c> when absent).</param>
/// <param name="Invocations">Invocations of the variant by that agent on that task type.</param>
public sealed record VariantWork(string Agent, string TaskType, long Invocations);

/// <summary>A model that served invocations of a variant.</summary>
/// <param name="Provider">Provider (<c>gen_ai.provider.name</c>).</param>
/// <param name="Model">Model, as the model comparison names it.</param>
/// <param name="Invocations">Invocations of the variant whose last provider call it answered.</param>
public sealed record VariantModel(string Provider, string Model, long Invocations);

/// <summary>
/// A variant's invocation durations as a cumulative-ready histogram over the bounds of the one log-bucketed
/// <see cref="Kernel.LatencyHistogram"/> (<see cref="Kernel.LatencyHistogram.UpperBounds"/>).
/// </summary>
/// <param name="Counts">Durations per bucket, <see cref="Kernel.LatencyHistogram.BucketCount"/> of them (not cumulative).</param>
/// <param name="SumSeconds">Sum of the durations.</param>
/// <param name="Count">Number of durations.</param>
public sealed record LatencyBuckets(IReadOnlyList<ulong> Counts, double SumSeconds, ulong Count);

/// <summary>An experiment: whether it is defined, its variants' sums and its analysis.</summary>
/// <param name="Experiment">Experiment id (<c>perfotel.experiment</c>).</param>
/// <param name="Defined">Whether the experiment is defined in configuration (<c>Experiments:Definitions</c>).</param>
/// <param name="Definition">The definition, when defined.</param>
/// <param name="Variants">Every variant's sums, by name (the defined ones without data at 0).</param>
/// <param name="Analysis">Estimates with intervals against the control, the SRM check and the verdict; null without variants.</param>
public sealed record ExperimentReport(string Experiment, bool Defined, ExperimentDefinition? Definition,
    IReadOnlyList<VariantSums> Variants, ExperimentAnalysis? Analysis);

/// <summary>
/// Cumulative statistics per (tenant, experiment, variant) of the invocations tagged <c>perfotel.experiment</c> and
/// <c>perfotel.variant</c>, analysed by <see cref="ExperimentAnalyzer"/>. Memory: one <see cref="VariantStats"/>
/// per variant, at most <see cref="ExperimentOptions.MaxExperimentsPerTenant"/> x
/// <see cref="ExperimentOptions.MaxVariantsPerExperiment"/> per tenant. Thread-safe.
/// </summary>
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
    /// Counts an invocation of an experiment (nothing when it has no experiment and variant) with its cost and no
    /// serving model: <paramref name="knownCostUsd"/> is its cost when every call was priced, else null. The derivation
    /// uses <see cref="CountInvocation"/> and <see cref="AddShare"/> instead, so that calls committed later still count.
    /// </summary>
    public void RecordInvocation(AgentInvocation invocation, double? knownCostUsd, double? accuracy)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        CountInvocation(invocation, accuracy);
        if (!string.IsNullOrEmpty(invocation.Experiment) && !string.IsNullOrEmpty(invocation.Variant))
        {
            AddShare(invocation.Tenant, new ExperimentShare(invocation.Experiment, invocation.Variant, invocation.StartTime, knownCostUsd, null, null), 1);
        }
    }

    /// <summary>
    /// Counts what an invocation's own span says (count, success, latency, quality, an accuracy sample known with it);
    /// its cost and serving model come from its calls, through <see cref="AddShare"/>.
    /// </summary>
    public void CountInvocation(AgentInvocation invocation, double? accuracy)
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
            var work = (invocation.AgentName, string.IsNullOrEmpty(invocation.TaskType) ? Models.ModelComparison.NoTaskType : invocation.TaskType);
            stats.Work[work] = stats.Work.GetValueOrDefault(work) + 1;
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

    /// <summary>
    /// Adds (<paramref name="sign"/> 1) or withdraws (-1) an invocation's cost and serving model in its variant: the
    /// derivation moves the share when a call committed after the invocation changes it. Only a variant the invocation
    /// was counted in (<see cref="CountInvocation"/>: inside the definition's [Start, End) and the caps) takes it.
    /// </summary>
    public void AddShare(string tenant, ExperimentShare share, int sign)
    {
        ArgumentNullException.ThrowIfNull(share);
        if (options.Definition(tenant, share.Experiment) is { } definition && !definition.Covers(share.InvocationStart))
        {
            return;
        }
        var (experiment, variant) = (share.Experiment, share.Variant);
        if (guard is not null)
        {
            (experiment, variant) = guard.ExperimentVariant(tenant, experiment, variant);
            tenant = guard.Tenant(tenant);
        }
        lock (gate)
        {
            if (Find(tenant, experiment, variant) is not { } stats)
            {
                return;
            }
            stats.AddCost(share.KnownCostUsd, sign);
            if (share.Provider is { } provider && share.Model is { } model)
            {
                stats.AddModel(provider, model, sign);
            }
        }
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
        return new ExperimentReport(experiment, definition is not null, definition,
            ordered.Select(v => new VariantSums(v.Key, v.Value.Invocations, v.Value.Successes, v.Value.AccuracySums,
                v.Value.QualitySums, v.Value.LatencySums, v.Value.CostSums, ServedBy(v.Value),
                LatencyBuckets(v.Value), WorkOf(v.Value))).ToList(),
            ExperimentAnalyzer.Analyze(ordered.Select(v => (v.Key, v.Value)).ToList(), definition, options, time.GetUtcNow()));
    }

    private static IReadOnlyList<VariantModel> ServedBy(VariantStats stats) => stats.Models
        .Where(m => m.Value > 0)
        .OrderByDescending(m => m.Value).ThenBy(m => m.Key.Provider, StringComparer.Ordinal).ThenBy(m => m.Key.Model, StringComparer.Ordinal)
        .Select(m => new VariantModel(m.Key.Provider, m.Key.Model, m.Value)).ToList();

    private static IReadOnlyList<VariantWork> WorkOf(VariantStats stats) => stats.Work
        .OrderBy(w => w.Key.Agent, StringComparer.Ordinal).ThenBy(w => w.Key.TaskType, StringComparer.Ordinal)
        .Select(w => new VariantWork(w.Key.Agent, w.Key.TaskType, w.Value)).ToList();

    private static LatencyBuckets LatencyBuckets(VariantStats stats)
    {
        var counts = new ulong[LatencyHistogram.BucketCount];
        stats.Latency.CopyCounts(counts);
        return new LatencyBuckets(counts, stats.LatencySums.Sum, (ulong)stats.Latency.Count);
    }

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

using Microsoft.Extensions.Options;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Derived.Cardinality;
using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Telemetry;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Models;

/// <summary>One model's figures over one window; rates and means are null without data to compute them from.</summary>
public sealed record ModelStats(
    string Provider,
    string Model,
    string Window,
    long Calls,
    long Errors,
    double? ErrorRate,
    double? LatencyP95Seconds,
    double CostUsd,
    double? CostPerCallUsd,
    long Tokens,
    long UnpricedTokens,
    long Invocations,
    double? SuccessRate,
    double? CostPerInvocationUsd,
    long PricedInvocations,
    double? Accuracy,
    long AccuracySamples);

/// <summary>
/// One model's invocations for one agent on one task type over the recommendation window: the like-for-like cohort the
/// cheaper-model advice compares (<see cref="ModelRecommendations"/>).
/// </summary>
public sealed record CohortStats(
    string Agent,
    string TaskType,
    string Provider,
    string Model,
    long Invocations,
    long Successes,
    long PricedInvocations,
    double? CostPerInvocationUsd,
    double? Accuracy,
    long AccuracySamples);

/// <summary>
/// Rolling-window statistics per (tenant, provider, model): calls, errors and latency of the model's provider calls at
/// their start time, and the invocations it served at the invocation's start time. An invocation is served by the model
/// of its last provider call (by start time) committed before or with it (<see cref="InvocationAttribution"/>); its
/// success, cost (all its calls, when every one was priced) and later accuracy samples count for that model. Memory:
/// one ring of time buckets per window per model, at most <see cref="ModelComparisonOptions.MaxModelsPerTenant"/>
/// models per tenant. Thread-safe.
/// </summary>
public sealed class ModelComparison
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, Dictionary<(string Provider, string Model), TimeBucketRing<ModelWindowStats>[]>> tenants =
        new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dictionary<CohortKey, TimeBucketRing<ModelWindowStats>>> cohorts = new(StringComparer.Ordinal);
    private readonly ModelComparisonOptions options;
    private readonly TimeProvider clock;
    private readonly CardinalityGuard? guard;
    // Options are bound once at start: the window is found once, not a search and a closure each invocation.
    private readonly ComparisonWindow recommendationWindow;
    private long version;

    /// <summary>Creates empty windows.</summary>
    /// <param name="options">Windows and the comparison's own caps.</param>
    /// <param name="clock">The clock.</param>
    /// <param name="guard">Folds tenants and models beyond their limits into the overflow series; none: only the comparison's caps.</param>
    public ModelComparison(IOptions<ModelComparisonOptions> options, TimeProvider clock, CardinalityGuard? guard = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.options = options.Value;
        this.clock = clock;
        this.guard = guard;
        recommendationWindow = this.options.EffectiveRecommendationWindow;
    }

    /// <summary>The options in force.</summary>
    public ModelComparisonOptions Options => options;

    /// <summary>The clock's current time.</summary>
    public DateTimeOffset Now => clock.GetUtcNow();

    /// <summary>Changes whenever data is recorded: readers cache what they computed from the windows against it.</summary>
    public long Version => Interlocked.Read(ref version);

    /// <summary>Counts a provider call for its model.</summary>
    public void RecordCall(ProviderCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        var figures = CostTotals.Weighted(call);
        var failed = !string.IsNullOrEmpty(call.ErrorType);
        // A static update and its state: no closure and delegate a call.
        Record(call.Tenant, call.Provider, CostKeys.ModelOf(call), call.StartTime, (call, figures, failed), static (stats, s) =>
        {
            var (call, figures, failed) = s;
            stats.Calls += figures.Calls;
            if (failed)
            {
                stats.Errors += figures.Calls;
            }
            stats.Latency.Record(call.DurationSeconds, (int)figures.Calls);
            stats.PricedCalls += figures.PricedCalls;
            stats.AddCost(figures.CostUsd);
            stats.UnpricedTokens += figures.UnpricedTokens;
            stats.Tokens += figures.Tokens.Total;
        });
    }

    /// <summary>Counts an invocation for the model that served it (nothing when no call of it was seen).</summary>
    /// <param name="invocation">The invocation.</param>
    /// <param name="facts">Its facts from <see cref="InvocationAttribution"/>: the model of its last call.</param>
    /// <param name="knownCostUsd">Its cost when every one of its calls was priced, else null.</param>
    /// <param name="accuracy">An accuracy sample known already (feedback stored with it), or null.</param>
    public void RecordInvocation(AgentInvocation invocation, InvocationFacts facts, double? knownCostUsd, double? accuracy)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        ArgumentNullException.ThrowIfNull(facts);
        if (facts.Provider is null || facts.Model is null)
        {
            return;
        }
        var succeeded = invocation.Outcome == Outcomes.Success;
        var count = SampleWeights.Count(invocation.SampleWeight);
        // A static update and its state (no closure and delegates an invocation).
        var state = (count, succeeded, knownCostUsd, accuracy);
        static void Update(ModelWindowStats stats, (int Count, bool Succeeded, double? KnownCostUsd, double? Accuracy) s)
        {
            stats.Invocations += s.Count;
            if (s.Succeeded)
            {
                stats.Successes += s.Count;
            }
            if (s.KnownCostUsd is { } c && double.IsFinite(c))
            {
                stats.PricedInvocations += s.Count;
                stats.AddInvocationCost(c * s.Count);
            }
            if (s.Accuracy is { } a)
            {
                stats.AddAccuracy(a);
            }
        }
        Record(invocation.Tenant, facts.Provider, facts.Model, invocation.StartTime, state, Update);
        RecordCohort(invocation.Tenant, invocation.AgentName, invocation.TaskType, facts.Provider, facts.Model, invocation.StartTime, state, Update);
    }

    /// <summary>
    /// Adds (<paramref name="sign"/> 1) or withdraws (-1) an invocation's share of the model that served it, in the
    /// bucket of the invocation's start: the model derivation moves a share when a later call changes it.
    /// </summary>
    public void AddInvocation(string tenant, ModelShare share, int sign)
    {
        ArgumentNullException.ThrowIfNull(share);
        // The same figures as RecordInvocation and RecordAccuracy count, signed.
        var state = (share, sign);
        static void Update(ModelWindowStats stats, (ModelShare Share, int Sign) s)
        {
            var (share, sign) = s;
            var count = (long)sign * share.Weight;
            stats.Invocations += count;
            if (share.Succeeded)
            {
                stats.Successes += count;
            }
            if (share.KnownCostUsd is { } c && double.IsFinite(c))
            {
                stats.PricedInvocations += count;
                stats.AddInvocationCost(c * count);
            }
            stats.AddAccuracySamples(sign * share.AccuracyCount, sign * share.AccuracySum);
        }
        Record(tenant, share.Provider, share.Model, share.InvocationStart, state, Update);
        if (share.Agent is { } agent)
        {
            RecordCohort(tenant, agent, share.TaskType, share.Provider, share.Model, share.InvocationStart, state, Update);
        }
    }

    /// <summary>Counts an accuracy sample that arrived after its invocation, in the bucket of the invocation's start.</summary>
    public void RecordAccuracy(string tenant, InvocationFacts facts, double accuracy)
    {
        ArgumentNullException.ThrowIfNull(facts);
        if (facts.Provider is null || facts.Model is null || !facts.InvocationSeen)
        {
            return;
        }
        void Update(ModelWindowStats stats)
        {
            stats.AddAccuracy(accuracy);
        }
        Record(tenant, facts.Provider, facts.Model, facts.InvocationStart, Update);
        if (facts.AgentName is { } agent)
        {
            RecordCohort(tenant, agent, facts.TaskType, facts.Provider, facts.Model, facts.InvocationStart, Update);
        }
    }

    /// <summary>
    /// The tenant's cohorts with invocations in the recommendation window: per (agent, task type, provider, model).
    /// Ordered by agent, task type, provider, model.
    /// </summary>
    public IReadOnlyList<CohortStats> Cohorts(string tenant)
    {
        var now = Now;
        var result = new List<CohortStats>();
        lock (gate)
        {
            if (!cohorts.TryGetValue(tenant, out var byKey))
            {
                return result;
            }
            foreach (var (key, ring) in byKey)
            {
                if (ring.Sum(now) is { Invocations: > 0 } s)
                {
                    result.Add(new CohortStats(key.Agent, key.TaskType, key.Provider, key.Model, s.Invocations, s.Successes,
                        s.PricedInvocations, s.PricedInvocations > 0 ? s.InvocationCostUsd / s.PricedInvocations : null,
                        s.AccuracySamples > 0 ? s.AccuracySum / s.AccuracySamples : null, s.AccuracySamples));
                }
            }
        }
        result.Sort((a, b) =>
        {
            var c = string.CompareOrdinal(a.Agent, b.Agent);
            c = c != 0 ? c : string.CompareOrdinal(a.TaskType, b.TaskType);
            c = c != 0 ? c : string.CompareOrdinal(a.Provider, b.Provider);
            return c != 0 ? c : string.CompareOrdinal(a.Model, b.Model);
        });
        return result;
    }

    /// <summary>The task type a cohort is keyed by when the invocation carries none.</summary>
    public const string NoTaskType = "(none)";

    private readonly record struct CohortKey(string Agent, string TaskType, string Provider, string Model);

    /// <summary>
    /// Counts into the (agent, task type, model) cohort of the recommendation window. Beyond
    /// <see cref="ModelComparisonOptions.MaxCohortsPerTenant"/> cohorts a tenant's further ones are not kept: they get
    /// no advice rather than advice from pooled, unlike work.
    /// </summary>
    private void RecordCohort(string tenant, string agent, string? taskType, string provider, string model, DateTimeOffset time,
        Action<ModelWindowStats> update) =>
        RecordCohort(tenant, agent, taskType, provider, model, time, update, static (stats, apply) => apply(stats));

    private void RecordCohort<TState>(string tenant, string agent, string? taskType, string provider, string model, DateTimeOffset time,
        TState state, Action<ModelWindowStats, TState> update)
    {
        if (guard is not null)
        {
            (provider, model) = guard.Model(tenant, provider, model);
            agent = guard.Agent(tenant, agent)!;
            tenant = guard.Tenant(tenant);
        }
        if (provider == CostKeys.Other || model == CostKeys.Other)
        {
            return;
        }
        var window = recommendationWindow;
        var key = new CohortKey(agent, string.IsNullOrEmpty(taskType) ? NoTaskType : taskType, provider, model);
        var now = Now;
        lock (gate)
        {
            if (!cohorts.TryGetValue(tenant, out var byKey))
            {
                if (cohorts.Count >= options.MaxTenants)
                {
                    return;
                }
                byKey = [];
                cohorts[tenant] = byKey;
            }
            if (!byKey.TryGetValue(key, out var ring))
            {
                if (byKey.Count >= options.MaxCohortsPerTenant)
                {
                    return;
                }
                ring = new TimeBucketRing<ModelWindowStats>(window.Duration, window.BucketWidth, () => new ModelWindowStats());
                byKey[key] = ring;
            }
            ring.Record(time, now, state, update);
            Interlocked.Increment(ref version);
        }
    }

    /// <summary>Tenants with data.</summary>
    public IReadOnlyList<string> Tenants()
    {
        lock (gate)
        {
            return tenants.Keys.Order(StringComparer.Ordinal).ToList();
        }
    }

    /// <summary>The tenant's models with data in the window, by provider and model name.</summary>
    public IReadOnlyList<ModelStats> Models(string tenant, ComparisonWindow window)
    {
        ArgumentNullException.ThrowIfNull(window);
        var index = IndexOf(window);
        var now = Now;
        var result = new List<ModelStats>();
        lock (gate)
        {
            if (!tenants.TryGetValue(tenant, out var models))
            {
                return result;
            }
            foreach (var ((provider, model), rings) in models)
            {
                if (rings[index].Sum(now) is { } sum && (sum.Calls > 0 || sum.Invocations > 0))
                {
                    result.Add(StatsOf(provider, model, window.Name, sum));
                }
            }
        }
        result.Sort((a, b) => (string.CompareOrdinal(a.Provider, b.Provider), string.CompareOrdinal(a.Model, b.Model)) switch
        {
            (0, var byModel) => byModel,
            (var byProvider, _) => byProvider,
        });
        return result;
    }

    /// <summary>The window of that name, or null.</summary>
    public ComparisonWindow? Window(string? name) => options.Windows.FirstOrDefault(w => w.Name == name);

    private int IndexOf(ComparisonWindow window)
    {
        for (var i = 0; i < options.Windows.Count; i++)
        {
            if (options.Windows[i].Name == window.Name)
            {
                return i;
            }
        }
        throw new ArgumentException($"Unknown window '{window.Name}'.", nameof(window));
    }

    private static ModelStats StatsOf(string provider, string model, string window, ModelWindowStats s) => new(
        provider,
        model,
        window,
        s.Calls,
        s.Errors,
        s.Calls > 0 ? (double)s.Errors / s.Calls : null,
        s.Latency.Quantile(0.95),
        s.CostUsd,
        s.PricedCalls > 0 ? s.CostUsd / s.PricedCalls : null,
        s.Tokens,
        s.UnpricedTokens,
        s.Invocations,
        s.Invocations > 0 ? (double)s.Successes / s.Invocations : null,
        s.PricedInvocations > 0 ? s.InvocationCostUsd / s.PricedInvocations : null,
        s.PricedInvocations,
        s.AccuracySamples > 0 ? s.AccuracySum / s.AccuracySamples : null,
        s.AccuracySamples);

    private void Record(string tenant, string provider, string model, DateTimeOffset time, Action<ModelWindowStats> update) =>
        Record(tenant, provider, model, time, update, static (stats, apply) => apply(stats));

    private void Record<TState>(string tenant, string provider, string model, DateTimeOffset time, TState state,
        Action<ModelWindowStats, TState> update)
    {
        if (guard is not null)
        {
            (provider, model) = guard.Model(tenant, provider, model);
            tenant = guard.Tenant(tenant);
        }
        var now = Now;
        lock (gate)
        {
            if (!tenants.TryGetValue(tenant, out var models))
            {
                if (tenants.Count >= options.MaxTenants)
                {
                    tenant = CostKeys.Other;
                    tenants.TryGetValue(tenant, out models);
                }
                if (models is null)
                {
                    models = [];
                    tenants[tenant] = models;
                }
            }
            var key = (provider, model);
            if (!models.TryGetValue(key, out var rings))
            {
                if (models.Count >= options.MaxModelsPerTenant)
                {
                    key = (CostKeys.Other, CostKeys.Other);
                    models.TryGetValue(key, out rings);
                }
                if (rings is null)
                {
                    rings = options.Windows.Select(w => new TimeBucketRing<ModelWindowStats>(w.Duration, w.BucketWidth, () => new ModelWindowStats())).ToArray();
                    models[key] = rings;
                }
            }
            foreach (var ring in rings)
            {
                ring.Record(time, now, state, update);
            }
            Interlocked.Increment(ref version);
        }
    }
}

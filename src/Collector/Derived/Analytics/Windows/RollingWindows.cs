using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Derived.Analytics.Reports;
using PerfOtel.Collector.Derived.Cardinality;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Derived.Thresholds;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Analytics.Windows;

/// <summary>
/// The rolling windows of every (tenant, agent), and the rules that turn committed records into window statistics.
/// The ingest observer and the start-up rebuild both go through here, so live data and rebuilt data count alike.
/// </summary>
internal sealed class RollingWindows
{
    /// <summary>Evaluations with this name are accuracy samples.</summary>
    public const string AccuracyEvaluationName = Instrumentation.EvaluationNames.Accuracy;

    private readonly ConcurrentDictionary<(string Tenant, string Agent), AgentWindows> agents = new();
    private readonly ConcurrentDictionary<(string Tenant, string? Agent), ThresholdSet> thresholdsByScope = new();
    private readonly ConcurrentDictionary<string, AgentWindows> tenantTotals = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Tenant, int Window), TenantView> views = new();
    private readonly TimeProvider time;
    private readonly IOptions<ThresholdOptions> thresholds;
    private readonly CardinalityGuard? guard;
    private long changes;

    /// <param name="options">Windows and derivations.</param>
    /// <param name="thresholds">Thresholds per tenant.</param>
    /// <param name="time">The clock.</param>
    /// <param name="guard">Folds tenants and agents beyond their limits into the overflow series; none: no limit.</param>
    public RollingWindows(IOptions<AnalyticsOptions> options, IOptions<ThresholdOptions> thresholds, TimeProvider time,
        CardinalityGuard? guard = null)
    {
        Options = options.Value;
        this.guard = guard;
        this.thresholds = thresholds;
        this.time = time;
        Windows = Options.EffectiveWindows;
    }

    public AnalyticsOptions Options { get; }

    public IReadOnlyList<RollingWindowOptions> Windows { get; }

    public DateTimeOffset Now => time.GetUtcNow();

    /// <summary>The span of history the windows can hold: twice the longest window (current and previous).</summary>
    public TimeSpan History => Options.History;

    public int WindowIndexOf(string name)
    {
        for (var i = 0; i < Windows.Count; i++)
        {
            if (Windows[i].Name == name)
            {
                return i;
            }
        }
        return -1;
    }

    /// <summary>Counts every change to any window: derived views stay valid while it and the bucket stay the same.</summary>
    public long Changes => Interlocked.Read(ref changes);

    /// <summary>The thresholds of a tenant as a whole (agent null) or of one of its agents (agent overrides apply).</summary>
    public ThresholdSet ThresholdsFor(string tenant, string? agent = null) =>
        thresholdsByScope.TryGetValue((tenant, agent), out var known) ? known
        // Cached only for tenants and agents with data, so that REST calls naming arbitrary ones leave no state behind.
        : (agent is null ? tenantTotals.ContainsKey(tenant) : agents.ContainsKey((tenant, agent)))
            ? thresholdsByScope.GetOrAdd((tenant, agent), static (scope, options) => options.Value.For(scope.Tenant, scope.Agent), thresholds)
        : thresholds.Value.For(tenant, agent);

    public void RecordInvocation(AgentInvocation invocation)
    {
        var agent = For(invocation.Tenant, invocation.AgentName);
        var taskType = agent.TaskTypeKey(invocation.TaskType);
        var success = invocation.Outcome == Outcomes.Success;
        Seen(agent, invocation.StartTime, invocation.StartTime.AddSeconds(Math.Max(0, invocation.DurationSeconds)),
            invocation.AgentType);
        Record(agent, invocation.StartTime, (invocation, taskType, success), static (stats, s) =>
        {
            var (invocation, taskType, success) = s;
            stats.AddInvocation(invocation.Outcome, invocation.DurationSeconds, taskType, SampleWeights.Count(invocation.SampleWeight));
            if (invocation.Confidence is { } confidence && double.IsFinite(confidence))
            {
                stats.AddCalibration(confidence, success, +1);
            }
            if (invocation.Quality is { } quality && double.IsFinite(quality))
            {
                stats.AddQuality(quality);
            }
        });
    }

    /// <summary>
    /// Tokens and cost come from provider calls attributed to an agent, at the call's start time. The invocation span's
    /// own token and cost attributes are not added: where present they roll up these same calls.
    /// </summary>
    public void RecordProviderCall(ProviderCall call)
    {
        if (string.IsNullOrEmpty(call.AgentName))
        {
            return;
        }
        var agent = For(call.Tenant, call.AgentName);
        Seen(agent, call.StartTime, call.StartTime);
        Record(agent, call.StartTime, call, static (stats, c) => stats.AddProviderCall(c.Tokens.Total, c.CostUsd, SampleWeights.Count(c.SampleWeight)));
    }

    /// <summary>A tool call attributed to an agent: a step of its runs (steps per run), at the call's start time.</summary>
    public void RecordToolCall(ToolCall call)
    {
        if (string.IsNullOrEmpty(call.AgentName))
        {
            return;
        }
        var agent = For(call.Tenant, call.AgentName);
        Seen(agent, call.StartTime, call.StartTime);
        var count = SampleWeights.Count(call.SampleWeight);
        Record(agent, call.StartTime, count, static (stats, n) => stats.AddToolCall(n));
    }

    /// <summary>An evaluation named <c>accuracy</c> with a score is an accuracy sample at the evaluation's time.</summary>
    public void RecordEvaluation(EvaluationRecord evaluation, string? agentName)
    {
        if (evaluation.Name != AccuracyEvaluationName || evaluation.Score is not { } score || !double.IsFinite(score))
        {
            return;
        }
        var agent = evaluation.AgentName ?? agentName;
        if (string.IsNullOrEmpty(agent))
        {
            return;
        }
        var windows = For(evaluation.Tenant, agent);
        Seen(windows, evaluation.Time, evaluation.Time);
        Record(windows, evaluation.Time, stats => stats.AddAccuracy(score));
    }

    /// <summary>
    /// Feedback joined to an invocation, counted in the bucket of the invocation's start time:
    /// an accuracy sample (Accuracy, else Score, else Success as 1 or 0), and, when it says whether the invocation
    /// succeeded, the calibration sample of that invocation is re-scored against that verdict instead of the span's
    /// outcome. At most one feedback per invocation is assumed, as the store keeps.
    /// </summary>
    public void RecordFeedback(FeedbackJoin join)
    {
        var invocation = join.Invocation;
        var feedback = join.Feedback;
        double? accuracy = feedback.Accuracy ?? feedback.Score ?? (feedback.Success is { } ok ? (ok ? 1.0 : 0.0) : null);
        var spanSuccess = invocation.Outcome == Outcomes.Success;
        var rescore = feedback.Success is { } verdict && verdict != spanSuccess &&
                      invocation.Confidence is { } c && double.IsFinite(c);
        if (accuracy is not { } a || !double.IsFinite(a))
        {
            accuracy = null;
        }
        if (accuracy is null && !rescore)
        {
            return;
        }
        Record(For(invocation.Tenant, invocation.AgentName), invocation.StartTime, stats =>
        {
            if (accuracy is { } value)
            {
                stats.AddAccuracy(value);
            }
            if (rescore)
            {
                stats.AddCalibration(invocation.Confidence!.Value, spanSuccess, -1);
                stats.AddCalibration(invocation.Confidence!.Value, !spanSuccess, +1);
            }
        });
    }

    /// <summary>Tenants with data: each has its own windows from its first record on.</summary>
    public IEnumerable<string> Tenants() => tenantTotals.Keys.Order(StringComparer.Ordinal);

    /// <summary>Agents of a tenant that have data in the given window (all agents when window is -1).</summary>
    public IReadOnlyList<AgentWindows> Agents(string tenant, int windowIndex = -1)
    {
        var now = Now;
        return agents.Values
            .Where(a => a.Tenant == tenant && (windowIndex < 0 || a.HasDataIn(windowIndex, now)))
            .OrderBy(a => a.Agent, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>
    /// The tenant's agents with data in the window and their reports, with the tenant-wide passes over them
    /// (<see cref="TenantView"/>). The same view serves while the data and the window's bucket have not changed and every
    /// agent's report is still the one it holds (a report also moves with the clock: its status); listing the agents and
    /// comparing their cached reports is all a request then costs. Only tenants with data keep a view.
    /// </summary>
    public TenantView View(string tenant, int windowIndex)
    {
        var changes = Changes;
        var now = Now;
        var window = Windows[windowIndex];
        var bucket = Math.DivRem(now.UtcTicks, window.BucketWidth.Ticks, out var rest) - (rest < 0 ? 1 : 0);
        var key = (tenant, windowIndex);
        IReadOnlyList<AgentWindows> agentList;
        if (views.TryGetValue(key, out var kept) && kept.Changes == changes && kept.Bucket == bucket)
        {
            // No data arrived and the bucket is the same: the same agents have data in the window.
            agentList = kept.Agents;
        }
        else if (kept is not null && kept.Bucket == bucket)
        {
            // New data in the same bucket: data is only added until the window moves, so every agent of the kept view
            // still has data in it; only the others are looked at.
            agentList = WithNewcomers(kept, windowIndex, now);
            kept = null;
        }
        else
        {
            agentList = Agents(tenant, windowIndex);
            kept = null;
        }
        var reports = new AgentReport[agentList.Count];
        for (var i = 0; i < reports.Length; i++)
        {
            reports[i] = Report(agentList[i], windowIndex);
        }
        if (kept is not null && kept.Holds(reports))
        {
            return kept;
        }
        var view = new TenantView(tenant, windowIndex, changes, bucket, agentList, reports, this);
        if (tenantTotals.ContainsKey(tenant))
        {
            views[key] = view;
        }
        return view;
    }

    private IReadOnlyList<AgentWindows> WithNewcomers(TenantView kept, int windowIndex, DateTimeOffset now)
    {
        List<AgentWindows>? newcomers = null;
        foreach (var agent in agents.Values)
        {
            if (agent.Tenant == kept.Tenant && !kept.Has(agent.Agent) && agent.HasDataIn(windowIndex, now))
            {
                (newcomers ??= []).Add(agent);
            }
        }
        return newcomers is null ? kept.Agents
            : kept.Agents.Concat(newcomers).OrderBy(a => a.Agent, StringComparer.Ordinal).ToList();
    }

    /// <summary>Every agent of every tenant, unordered (the gauges' hot path).</summary>
    public ICollection<AgentWindows> AllAgents => agents.Values;

    public AgentWindows? Find(string tenant, string agent) => agents.GetValueOrDefault((tenant, agent));

    public AgentReport Report(AgentWindows agent, int windowIndex) =>
        agent.Report(windowIndex, Now, ThresholdsFor(agent.Tenant, agent.Agent));

    /// <summary>
    /// The tenant-wide report: the statistics of all its agents summed, then derived like one agent's
    /// (so the tenant success rate is over all invocations, and its p95 over all latencies, not a mean of agents').
    /// The sums are kept as the tenant's own windows, fed by every record of its agents, so the report costs one agent's
    /// derivation however many agents the tenant has.
    /// </summary>
    public AgentReport TenantReport(string tenant, int windowIndex) =>
        // A tenant without data (any name a REST caller asks for) gets an empty report that is not kept: only ingested
        // tenants, which the cardinality guard bounds, hold state.
        (tenantTotals.TryGetValue(tenant, out var totals) ? totals : new AgentWindows(tenant, agent: null, Options))
            .Report(windowIndex, Now, ThresholdsFor(tenant));

    private void Seen(AgentWindows agent, DateTimeOffset from, DateTimeOffset to, string? type = null)
    {
        agent.Seen(from, to, type);
        TenantTotals(agent.Tenant).Seen(from, to);
    }

    private void Record(AgentWindows agent, DateTimeOffset at, Action<WindowStats> change) =>
        Record(agent, at, change, static (stats, apply) => apply(stats));

    // The per-call paths pass a static change and its state: no closure and delegate a call.
    private void Record<TState>(AgentWindows agent, DateTimeOffset at, TState state, Action<WindowStats, TState> change)
    {
        var now = Now;
        agent.Record(at, now, state, change);
        TenantTotals(agent.Tenant).Record(at, now, state, change);
        Interlocked.Increment(ref changes);
    }

    private AgentWindows TenantTotals(string tenant) =>
        tenantTotals.GetOrAdd(tenant, static (name, options) => new AgentWindows(name, agent: null, options), Options);

    private AgentWindows For(string tenant, string agent)
    {
        if (guard is not null)
        {
            agent = guard.Agent(tenant, agent)!;
            tenant = guard.Tenant(tenant);
        }
        return agents.GetOrAdd((tenant, agent), static (key, options) => new AgentWindows(key.Tenant, key.Agent, options), Options);
    }
}

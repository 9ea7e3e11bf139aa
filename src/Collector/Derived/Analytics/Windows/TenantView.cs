using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using PerfOtel.Collector.Derived.Analytics.Reports;
using PerfOtel.Collector.Derived.Thresholds;

namespace PerfOtel.Collector.Derived.Analytics.Windows;

/// <summary>
/// One tenant's agents in one window with their reports, and what is derived from all of them at once: the thresholds
/// they breach, the peer table that ranks them, and whatever a reader memoizes (<see cref="Memo{T}"/>). A view is
/// immutable; <see cref="RollingWindows.View"/> hands out the same view for as long as every one of its reports is the
/// very report the agent's windows would give now (same data, same bucket, same status), and builds a new one otherwise.
/// So the tenant-wide passes behind the overview, the health answer, the alert evaluation and an agent's peer standing
/// run once per change of the data, and nothing derived from an older view can be served after new data.
/// </summary>
internal sealed class TenantView
{
    /// <summary>Memoized values beyond this many are computed but not kept (callers' keys are bounded; this is a guard).</summary>
    private const int MaxMemos = 64;

    private readonly Lazy<IReadOnlyList<ThresholdBreach>> breaches;
    private readonly Lazy<PeerTable> peers;
    private readonly Lazy<IReadOnlyDictionary<string, int>> byAgent;
    private readonly ConcurrentDictionary<string, object> memos = new(StringComparer.Ordinal);

    public TenantView(string tenant, int window, long changes, long bucket, IReadOnlyList<AgentWindows> agents,
        IReadOnlyList<AgentReport> reports, RollingWindows windows)
    {
        Tenant = tenant;
        Window = window;
        Changes = changes;
        Bucket = bucket;
        Agents = agents;
        Reports = reports;
        var anomalyThreshold = windows.Options.AnomalyThreshold;
        var tenantThresholds = windows.ThresholdsFor(tenant);
        var agentThresholds = agents.Select(a => windows.ThresholdsFor(tenant, a.Agent)).ToArray();
        breaches = new Lazy<IReadOnlyList<ThresholdBreach>>(() => reports
            .SelectMany((r, i) => BreachesOf(r, agentThresholds[i], anomalyThreshold))
            .OrderBy(b => b.Level == ThresholdEvaluator.Critical ? 0 : 1)
            .ThenBy(b => b.Agent, StringComparer.Ordinal)
            .ToList());
        peers = new Lazy<PeerTable>(() => new PeerTable(reports, tenantThresholds));
        byAgent = new Lazy<IReadOnlyDictionary<string, int>>(() =>
        {
            var index = new Dictionary<string, int>(agents.Count, StringComparer.Ordinal);
            for (var i = 0; i < agents.Count; i++)
            {
                index[agents[i].Agent] = i;
            }
            return index;
        });
    }

    public string Tenant { get; }

    /// <summary>Index of the window in <see cref="RollingWindows.Windows"/>.</summary>
    public int Window { get; }

    /// <summary><see cref="RollingWindows.Changes"/> when the agents were listed.</summary>
    public long Changes { get; }

    /// <summary>The window's current bucket when the agents were listed.</summary>
    public long Bucket { get; }

    /// <summary>The tenant's agents with data in the window, by name (ordinal).</summary>
    public IReadOnlyList<AgentWindows> Agents { get; }

    /// <summary>The report of each of <see cref="Agents"/>, in the same order.</summary>
    public IReadOnlyList<AgentReport> Reports { get; }

    /// <summary>The thresholds the agents breach (each agent against its own thresholds), critical first, then by agent.</summary>
    public IReadOnlyList<ThresholdBreach> Breaches => breaches.Value;

    /// <summary>The agents' benchmark metrics, sorted for ranking against the tenant's bands.</summary>
    public PeerTable Peers => peers.Value;

    /// <summary>The report of one agent of the view, or null when it has no data in the window.</summary>
    public AgentReport? ReportOf(string agent) => byAgent.Value.TryGetValue(agent, out var i) ? Reports[i] : null;

    /// <summary>
    /// A value derived from this view alone, computed once per view (a second caller racing the first may compute it
    /// too; both results are equal). <paramref name="key"/> must name everything else the value depends on.
    /// </summary>
    public T Memo<T>(string key, Func<TenantView, T> derive) where T : class
    {
        ArgumentNullException.ThrowIfNull(derive);
        if (memos.TryGetValue(key, out var known))
        {
            return (T)known;
        }
        var value = derive(this);
        if (memos.Count < MaxMemos)
        {
            memos.TryAdd(key, value);
        }
        return value;
    }

    /// <summary>
    /// One report's breaches, kept with the report: a view built after new data evaluates only the reports that changed
    /// (an agent's report is a new object whenever its data, bucket or status changed; thresholds are fixed at start-up).
    /// </summary>
    private static IReadOnlyList<ThresholdBreach> BreachesOf(AgentReport report, ThresholdSet thresholds, double anomalyThreshold)
    {
        if (KeptBreaches.TryGetValue(report, out var kept) && ReferenceEquals(kept.Thresholds, thresholds))
        {
            return kept.Breaches;
        }
        var evaluated = ThresholdEvaluator.Evaluate(report, thresholds, anomalyThreshold);
        KeptBreaches.AddOrUpdate(report, new BreachesOfReport(thresholds, evaluated));
        return evaluated;
    }

    private static readonly ConditionalWeakTable<AgentReport, BreachesOfReport> KeptBreaches = new();

    private sealed record BreachesOfReport(ThresholdSet Thresholds, IReadOnlyList<ThresholdBreach> Breaches);

    /// <summary>Whether the agent is one of the view's.</summary>
    public bool Has(string agent) => byAgent.Value.ContainsKey(agent);

    /// <summary>True when <paramref name="reports"/> are, one by one, the very reports of this view.</summary>
    internal bool Holds(AgentReport[] reports)
    {
        if (reports.Length != Reports.Count)
        {
            return false;
        }
        for (var i = 0; i < reports.Length; i++)
        {
            if (!ReferenceEquals(reports[i], Reports[i]))
            {
                return false;
            }
        }
        return true;
    }
}

using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Kernel;

/// <summary>What is known of one invocation: the model that served it and the cost of its calls.</summary>
public sealed class InvocationFacts
{
    /// <summary>Provider of the invocation's last provider call (by start time), or null before any call was seen.</summary>
    public string? Provider { get; internal set; }

    /// <summary>Model (see <see cref="CostKeys.ModelOf"/>) of the last provider call.</summary>
    public string? Model { get; internal set; }

    internal DateTimeOffset LastCallStart { get; set; } = DateTimeOffset.MinValue;

    /// <summary>Provider calls seen.</summary>
    public int Calls { get; internal set; }

    private OrderFreeSum costUsd;

    /// <summary>Sum of the priced calls' costs (order-free: the same whatever order the calls were committed in).</summary>
    public double CostUsd => costUsd.Value;

    internal void AddCallCost(double usd) => costUsd.Add(usd);

    internal void CopyCostFrom(InvocationFacts other) => costUsd = other.costUsd;

    /// <summary>Tokens of calls without a price.</summary>
    public long UnpricedTokens { get; internal set; }

    /// <summary>Whether the invocation span itself has been committed.</summary>
    public bool InvocationSeen { get; internal set; }

    /// <summary>Start of the invocation (once seen).</summary>
    public DateTimeOffset InvocationStart { get; internal set; }

    /// <summary>Experiment of the invocation (once seen).</summary>
    public string? Experiment { get; internal set; }

    /// <summary>Agent of the invocation (once seen).</summary>
    public string? AgentName { get; internal set; }

    /// <summary>Task type of the invocation (once seen; null when it has none).</summary>
    public string? TaskType { get; internal set; }

    /// <summary>Variant of the invocation (once seen).</summary>
    public string? Variant { get; internal set; }

    internal bool Succeeded { get; set; }

    /// <summary>How many invocations this one counts as (its sampling weight, <see cref="SampleWeights.Count"/>).</summary>
    internal int Weight { get; set; } = 1;

    internal double? OwnCostUsd { get; set; }

    internal long AccuracyCount { get; set; }

    internal double AccuracySum { get; set; }

    /// <summary>What the model comparison counts for this invocation now (null: nothing yet).</summary>
    internal ModelShare? CountedModel { get; set; }

    /// <summary>What the experiments count for this invocation's cost and model now (null: nothing yet).</summary>
    internal ExperimentShare? CountedExperiment { get; set; }

    internal double? KnownCostUsd() => Calls == 0
        ? (OwnCostUsd is { } own && double.IsFinite(own) ? own : null)
        : (UnpricedTokens > 0 ? null : CostUsd);

    /// <summary>
    /// The invocation's cost when it is fully known: the sum of its calls when every one was priced; with no call seen,
    /// the cost on the invocation span itself (agents that report usage only there). Null when any call had no price.
    /// </summary>
    public double? KnownCostUsd(AgentInvocation invocation)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        if (Calls == 0)
        {
            return invocation.CostUsd is { } own && double.IsFinite(own) ? own : null;
        }
        return UnpricedTokens > 0 ? null : CostUsd;
    }
}

/// <summary>
/// A bounded least-recently-used index from invocation (tenant, trace id, span id) to <see cref="InvocationFacts"/>:
/// provider calls are folded in as they are committed (they usually end, and are exported, before their invocation),
/// and the invocation then reads which model served it and what it cost. Later feedback and evaluations find the
/// model and experiment of their invocation here. Holds at most <see cref="CostOptions.AttributionCapacity"/>
/// invocations; an invocation evicted before its feedback arrives keeps that feedback out of the model comparison (it
/// still counts everywhere else). Thread-safe.
/// </summary>
public sealed class InvocationAttribution
{
    private readonly Lock gate = new();
    // Keyed by ids held as numbers (CompactSpanKey) and with one instance of each tenant, agent, provider, model, task
    // type, experiment and variant text (SharedStrings): as string keys and each record's own copies, a full index of
    // 100 000 invocations kept about six strings per entry (docs/collector/otlp-ingest.md, "Memory under sustained load").
    // The recency order is threaded through the table's own slots (BoundedLru): a dictionary entry, a linked-list node and
    // an entry record per invocation cost about 180 bytes of its 513.
    private readonly BoundedLru<InvocationFacts> entries;
    private readonly SharedStrings shared = new();
    private readonly int capacity;

    /// <summary>An index of at most <paramref name="capacity"/> invocations.</summary>
    public InvocationAttribution(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        this.capacity = capacity;
        entries = new BoundedLru<InvocationFacts>(capacity);
    }

    /// <summary>The most invocations held.</summary>
    public int Capacity => capacity;

    /// <summary>Invocations held.</summary>
    public int Count
    {
        get
        {
            lock (gate)
            {
                return entries.Count;
            }
        }
    }

    /// <summary>Folds a provider call into its invocation's facts; calls outside any invocation are ignored.</summary>
    public void RecordCall(ProviderCall call)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (string.IsNullOrEmpty(call.InvocationSpanId))
        {
            return;
        }
        var figures = CostTotals.Of(call);
        lock (gate)
        {
            var facts = Touch(call.Tenant, call.TraceId, call.InvocationSpanId);
            facts.Calls++;
            facts.AddCallCost(figures.CostUsd);
            facts.UnpricedTokens += figures.UnpricedTokens;
            // The last call by start time is the one whose answer the invocation returned; on a tie, the later one
            // committed wins.
            if (call.StartTime >= facts.LastCallStart)
            {
                facts.LastCallStart = call.StartTime;
                facts.Provider = shared.Share(call.Provider);
                facts.Model = shared.Share(CostKeys.ModelOf(call));
            }
        }
    }

    /// <summary>Notes a committed invocation and returns a snapshot of its facts.</summary>
    public InvocationFacts RecordInvocation(AgentInvocation invocation)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        lock (gate)
        {
            var facts = Touch(invocation.Tenant, invocation.TraceId, invocation.SpanId);
            facts.InvocationSeen = true;
            facts.InvocationStart = invocation.StartTime;
            facts.Experiment = shared.Share(invocation.Experiment);
            facts.Variant = shared.Share(invocation.Variant);
            facts.Succeeded = invocation.Outcome == Outcomes.Success;
            facts.Weight = SampleWeights.Count(invocation.SampleWeight);
            facts.OwnCostUsd = invocation.CostUsd;
            facts.AgentName = shared.Share(invocation.AgentName);
            facts.TaskType = shared.Share(invocation.TaskType);
            return Copy(facts);
        }
    }

    /// <summary>Adds an accuracy sample to a held invocation (counted with it by the model comparison); false when not held.</summary>
    public bool AddAccuracy(string tenant, string traceId, string spanId, double accuracy)
    {
        lock (gate)
        {
            if (entries.Find(CompactSpanKey.Of(tenant, traceId, spanId)) is not { } facts)
            {
                return false;
            }
            facts.AccuracyCount++;
            facts.AccuracySum += accuracy;
            return true;
        }
    }

    /// <summary>
    /// Re-decides what the model comparison counts for an invocation from everything seen of it so far, whatever order
    /// its calls, its span and its accuracy samples came in: returns the share counted until now and the share to count
    /// instead when they differ (a call that arrived after its invocation can change the model that served it, or its
    /// cost), else (null, null).
    /// </summary>
    public (ModelShare? Counted, ModelShare? Now) ReshareModel(string tenant, string traceId, string spanId)
    {
        lock (gate)
        {
            if (entries.Find(CompactSpanKey.Of(tenant, traceId, spanId)) is not { } f)
            {
                return (null, null);
            }
            var now = f.InvocationSeen && f.Provider is { } provider && f.Model is { } model
                ? new ModelShare(provider, model, f.InvocationStart, f.Succeeded, f.KnownCostUsd(), f.AccuracyCount, f.AccuracySum,
                    f.Weight, f.AgentName, f.TaskType)
                : null;
            var counted = f.CountedModel;
            if (counted == now)
            {
                return (null, null);
            }
            f.CountedModel = now;
            return (counted, now);
        }
    }

    /// <summary>
    /// Re-decides what the experiments count for an invocation's cost and serving model from everything seen of it so
    /// far, whatever order its calls and its span came in: returns the share counted until now and the share to count
    /// instead when they differ (a call committed after its invocation adds to its cost, or changes its last call's
    /// model), else (null, null). An invocation outside any experiment, or not yet seen, has no share.
    /// </summary>
    public (ExperimentShare? Counted, ExperimentShare? Now) ReshareExperiment(string tenant, string traceId, string spanId)
    {
        lock (gate)
        {
            if (entries.Find(CompactSpanKey.Of(tenant, traceId, spanId)) is not { } f)
            {
                return (null, null);
            }
            var now = f.InvocationSeen && !string.IsNullOrEmpty(f.Experiment) && !string.IsNullOrEmpty(f.Variant)
                ? new ExperimentShare(f.Experiment, f.Variant, f.InvocationStart, f.KnownCostUsd(), f.Provider, f.Model)
                : null;
            var counted = f.CountedExperiment;
            if (counted == now)
            {
                return (null, null);
            }
            f.CountedExperiment = now;
            return (counted, now);
        }
    }

    /// <summary>The facts of an invocation, or null when it is not (or no longer) held.</summary>
    public InvocationFacts? Find(string tenant, string traceId, string spanId)
    {
        lock (gate)
        {
            return entries.Find(CompactSpanKey.Of(tenant, traceId, spanId)) is { } facts ? Copy(facts) : null;
        }
    }

    private InvocationFacts Touch(string tenant, string traceId, string spanId)
    {
        if (entries.Touch(CompactSpanKey.Of(tenant, traceId, spanId)) is { } held)
        {
            return held;
        }
        // A new entry keeps the shared tenant, not the record's own copy; when full, the least recently used goes.
        var facts = new InvocationFacts();
        entries.Add(CompactSpanKey.Of(shared.Share(tenant)!, traceId, spanId), facts);
        return facts;
    }

    private static InvocationFacts Copy(InvocationFacts facts)
    {
        var copy = CopyFields(facts);
        copy.CopyCostFrom(facts);
        return copy;
    }

    private static InvocationFacts CopyFields(InvocationFacts facts) => new()
    {
        Provider = facts.Provider,
        Model = facts.Model,
        LastCallStart = facts.LastCallStart,
        Calls = facts.Calls,
        UnpricedTokens = facts.UnpricedTokens,
        InvocationSeen = facts.InvocationSeen,
        InvocationStart = facts.InvocationStart,
        Experiment = facts.Experiment,
        Variant = facts.Variant,
        Succeeded = facts.Succeeded,
        Weight = facts.Weight,
        OwnCostUsd = facts.OwnCostUsd,
        AccuracyCount = facts.AccuracyCount,
        AccuracySum = facts.AccuracySum,
        CountedModel = facts.CountedModel,
        CountedExperiment = facts.CountedExperiment,
        AgentName = facts.AgentName,
        TaskType = facts.TaskType,
    };
}

/// <summary>What one invocation adds to the model that served it in the model comparison.</summary>
/// <remarks>
/// <paramref name="Weight"/> is the invocation's sampling count; <paramref name="Agent"/> and <paramref name="TaskType"/>
/// key its like-for-like cohort.
/// </remarks>
public sealed record ModelShare(string Provider, string Model, DateTimeOffset InvocationStart, bool Succeeded, double? KnownCostUsd,
    long AccuracyCount, double AccuracySum, int Weight, string? Agent, string? TaskType);

/// <summary>
/// What one invocation adds to its experiment variant beyond its own span: its cost (null when a call had no price)
/// and the model of its last provider call (null before any call was seen).
/// </summary>
public sealed record ExperimentShare(string Experiment, string Variant, DateTimeOffset InvocationStart, double? KnownCostUsd,
    string? Provider, string? Model);

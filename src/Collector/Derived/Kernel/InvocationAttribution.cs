using System.Runtime.CompilerServices;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Derived.Cost;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Kernel;

/// <summary>
/// What is known of one invocation: the model that served it and the cost of its calls. A snapshot:
/// <see cref="InvocationAttribution"/> holds the facts packed in its table's slots and copies them out into one of these.
/// </summary>
public sealed class InvocationFacts
{
    /// <summary>Provider of the invocation's last provider call (by start time), or null before any call was seen.</summary>
    public string? Provider { get; internal set; }

    /// <summary>Model (see <see cref="CostKeys.ModelOf"/>) of the last provider call.</summary>
    public string? Model { get; internal set; }

    /// <summary>Provider calls seen.</summary>
    public int Calls { get; internal set; }

    private OrderFreeSum costUsd;

    /// <summary>Sum of the priced calls' costs (order-free: the same whatever order the calls were committed in).</summary>
    public double CostUsd => costUsd.Value;

    internal void AddCallCost(double usd) => costUsd.Add(usd);

    internal void SetCost(in OrderFreeSum cost) => costUsd = cost;

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

    /// <summary>The cost on the invocation span itself (a NaN there reads as null: only a finite one is ever used).</summary>
    internal double? OwnCostUsd { get; set; }

    internal long AccuracyCount { get; set; }

    internal double AccuracySum { get; set; }

    /// <summary>
    /// The invocation's cost when it is fully known: the sum of its calls when every one was priced; with no call seen,
    /// the cost on the invocation span itself (agents that report usage only there). Null when any call had no price.
    /// </summary>
    public double? KnownCostUsd(AgentInvocation invocation)
    {
        ArgumentNullException.ThrowIfNull(invocation);
        return KnownCost(Calls, UnpricedTokens, CostUsd, invocation.CostUsd ?? double.NaN);
    }

    /// <summary>
    /// The rule of <see cref="KnownCostUsd(AgentInvocation)"/>, from the figures themselves: with no call, the cost on
    /// the invocation span when finite (NaN for none); else the calls' cost unless some of their tokens had no price.
    /// </summary>
    internal static double? KnownCost(int calls, long unpricedTokens, double callsCostUsd, double ownCostUsd) => calls == 0
        ? (double.IsFinite(ownCostUsd) ? ownCostUsd : null)
        : (unpricedTokens > 0 ? null : callsCostUsd);
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
    // The recency order is threaded through the table's own slots (BoundedLru), and the facts, with the two shares counted
    // for them, are a struct in the slot (PackedFacts): an object of facts and two share records per invocation cost
    // about 300 of its 445 bytes (docs/collector/ingest-performance.md, "The invocation facts packed, one hash core").
    private readonly BoundedLru<PackedFacts> entries;
    private readonly SharedStrings shared = new();
    private readonly int capacity;

    /// <summary>An index of at most <paramref name="capacity"/> invocations.</summary>
    public InvocationAttribution(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        this.capacity = capacity;
        entries = new BoundedLru<PackedFacts>(capacity);
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
            ref var facts = ref Touch(call.Tenant, call.TraceId, call.InvocationSpanId);
            facts.Calls++;
            facts.Cost.Add(figures.CostUsd);
            facts.UnpricedTokens += figures.UnpricedTokens;
            // The last call by start time is the one whose answer the invocation returned; on a tie, the later one
            // committed wins. (DateTimeOffsets compare their instants, their UTC ticks; no call yet is 0, the ticks of
            // DateTimeOffset.MinValue, at or below any call's.)
            var start = call.StartTime.UtcTicks;
            if (start >= facts.LastCallStartUtcTicks)
            {
                facts.LastCallStartUtcTicks = start;
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
            ref var facts = ref Touch(invocation.Tenant, invocation.TraceId, invocation.SpanId);
            facts.Flags |= InvocationSeenFlag;
            facts.StartUtcTicks = invocation.StartTime.UtcTicks;
            facts.StartOffsetMinutes = (short)invocation.StartTime.TotalOffsetMinutes;
            facts.Experiment = shared.Share(invocation.Experiment);
            facts.Variant = shared.Share(invocation.Variant);
            facts.SetFlag(SucceededFlag, invocation.Outcome == Outcomes.Success);
            facts.Weight = SampleWeights.Count(invocation.SampleWeight);
            facts.OwnCostUsd = invocation.CostUsd ?? double.NaN;
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
            ref var facts = ref entries.FindRef(CompactSpanKey.Of(tenant, traceId, spanId));
            if (Unsafe.IsNullRef(ref facts))
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
            ref var f = ref entries.FindRef(CompactSpanKey.Of(tenant, traceId, spanId));
            if (Unsafe.IsNullRef(ref f))
            {
                return (null, null);
            }
            // Decided in place and a record made only for a change (CountedModelShare.Matches).
            var has = f.InvocationSeen && f.Provider is not null && f.Model is not null;
            var known = f.KnownCostUsd();
            ref var c = ref f.CountedModel;
            if (has == c.Held && (!has || c.Matches(f, known)))
            {
                return (null, null);
            }
            var counted = c.Held ? c.ToRecord() : null;
            c = has ? CountedModelShare.Of(f, known) : default;
            return (counted, has ? c.ToRecord() : null);
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
            ref var f = ref entries.FindRef(CompactSpanKey.Of(tenant, traceId, spanId));
            if (Unsafe.IsNullRef(ref f))
            {
                return (null, null);
            }
            var has = f.InvocationSeen && !string.IsNullOrEmpty(f.Experiment) && !string.IsNullOrEmpty(f.Variant);
            var known = f.KnownCostUsd();
            ref var c = ref f.CountedExperiment;
            if (has == c.Held && (!has || c.Matches(f, known)))
            {
                return (null, null);
            }
            var counted = c.Held ? c.ToRecord() : null;
            c = has ? CountedExperimentShare.Of(f, known) : default;
            return (counted, has ? c.ToRecord() : null);
        }
    }

    /// <summary>The facts of an invocation, or null when it is not (or no longer) held.</summary>
    public InvocationFacts? Find(string tenant, string traceId, string spanId)
    {
        lock (gate)
        {
            ref var facts = ref entries.FindRef(CompactSpanKey.Of(tenant, traceId, spanId));
            return Unsafe.IsNullRef(ref facts) ? null : Copy(facts);
        }
    }

    private ref PackedFacts Touch(string tenant, string traceId, string spanId)
    {
        ref var held = ref entries.TouchRef(CompactSpanKey.Of(tenant, traceId, spanId));
        if (!Unsafe.IsNullRef(ref held))
        {
            return ref held;
        }
        // A new entry keeps the shared tenant, not the record's own copy; when full, the least recently used goes.
        ref var facts = ref entries.AddRef(CompactSpanKey.Of(shared.Share(tenant)!, traceId, spanId));
        facts.Weight = 1;
        facts.OwnCostUsd = double.NaN;
        return ref facts;
    }

    private static InvocationFacts Copy(in PackedFacts facts)
    {
        var copy = new InvocationFacts
        {
            Provider = facts.Provider,
            Model = facts.Model,
            Calls = facts.Calls,
            UnpricedTokens = facts.UnpricedTokens,
            InvocationSeen = facts.InvocationSeen,
            InvocationStart = TimeOf(facts.StartUtcTicks, facts.StartOffsetMinutes),
            Experiment = facts.Experiment,
            Variant = facts.Variant,
            Succeeded = facts.Succeeded,
            Weight = facts.Weight,
            OwnCostUsd = double.IsNaN(facts.OwnCostUsd) ? null : facts.OwnCostUsd,
            AccuracyCount = facts.AccuracyCount,
            AccuracySum = facts.AccuracySum,
            AgentName = facts.AgentName,
            TaskType = facts.TaskType,
        };
        copy.SetCost(facts.Cost);
        return copy;
    }

    // The flags of the packed facts and of the shares counted.
    private const byte InvocationSeenFlag = 1;
    private const byte SucceededFlag = 2;
    private const byte HeldFlag = 4;
    private const byte CostKnownFlag = 8;

    // A DateTimeOffset from what it holds: its UTC ticks and its offset in minutes.
    private static DateTimeOffset TimeOf(long utcTicks, short offsetMinutes) =>
        new DateTimeOffset(utcTicks, TimeSpan.Zero).ToOffset(TimeSpan.FromMinutes(offsetMinutes));

    // A share's known cost: null unless its flag says there is one (null is apart from every double, NaN included).
    private static double? CostOf(byte flags, double usd) => (flags & CostKnownFlag) != 0 ? usd : null;

    // As the records' equality of a double?: both null, or both doubles that double.Equals (NaN equals NaN).
    private static bool CostIs(byte flags, double usd, double? other) =>
        other is { } value ? (flags & CostKnownFlag) != 0 && usd.Equals(value) : (flags & CostKnownFlag) == 0;

    /// <summary>
    /// One invocation's facts and the shares counted for it, in its slot of the table: times as UTC ticks and an offset,
    /// the own cost's null as NaN, flags in a byte, the shares' fields inline; strings are the shared instances.
    /// </summary>
    private struct PackedFacts
    {
        public OrderFreeSum Cost;
        public string? Provider;
        public string? Model;
        public string? Experiment;
        public string? AgentName;
        public string? TaskType;
        public string? Variant;
        public long LastCallStartUtcTicks;
        public long UnpricedTokens;
        // The cost on the invocation span, NaN for none (only a finite one is used).
        public double OwnCostUsd;
        public long AccuracyCount;
        public double AccuracySum;
        public long StartUtcTicks;
        public int Calls;
        public int Weight;
        public short StartOffsetMinutes;
        public byte Flags;
        public CountedModelShare CountedModel;
        public CountedExperimentShare CountedExperiment;

        public readonly bool InvocationSeen => (Flags & InvocationSeenFlag) != 0;

        public readonly bool Succeeded => (Flags & SucceededFlag) != 0;

        public void SetFlag(byte flag, bool on) => Flags = on ? (byte)(Flags | flag) : (byte)(Flags & ~flag);

        public readonly double? KnownCostUsd() => InvocationFacts.KnownCost(Calls, UnpricedTokens, Cost.Value, OwnCostUsd);
    }

    /// <summary>The <see cref="ModelShare"/> counted for an invocation, inline; none while not held.</summary>
    private struct CountedModelShare
    {
        public string? Provider;
        public string? Model;
        public string? Agent;
        public string? TaskType;
        public long StartUtcTicks;
        public double CostUsd;
        public long AccuracyCount;
        public double AccuracySum;
        public int Weight;
        public short StartOffsetMinutes;
        public byte Flags;

        public readonly bool Held => (Flags & HeldFlag) != 0;

        public readonly bool Succeeded => (Flags & SucceededFlag) != 0;

        /// <summary>The share of <paramref name="f"/>, whose known cost is <paramref name="known"/>.</summary>
        public static CountedModelShare Of(in PackedFacts f, double? known) => new()
        {
            Flags = (byte)(HeldFlag | (f.Succeeded ? SucceededFlag : 0) | (known is null ? 0 : CostKnownFlag)),
            Provider = f.Provider, Model = f.Model, StartUtcTicks = f.StartUtcTicks, StartOffsetMinutes = f.StartOffsetMinutes,
            CostUsd = known ?? 0, AccuracyCount = f.AccuracyCount, AccuracySum = f.AccuracySum, Weight = f.Weight,
            Agent = f.AgentName, TaskType = f.TaskType,
        };

        /// <summary>
        /// Whether this share (held) equals the one <see cref="Of"/> makes of <paramref name="f"/>, as the records compare:
        /// strings by value, the start by its instant (so the share counted keeps its own start's offset), the cost with
        /// null apart.
        /// </summary>
        public readonly bool Matches(in PackedFacts f, double? known) => Provider == f.Provider && Model == f.Model
            && StartUtcTicks == f.StartUtcTicks && Succeeded == f.Succeeded && CostIs(Flags, CostUsd, known)
            && AccuracyCount == f.AccuracyCount && AccuracySum.Equals(f.AccuracySum) && Weight == f.Weight
            && Agent == f.AgentName && TaskType == f.TaskType;

        /// <summary>The record of this share (held).</summary>
        public readonly ModelShare ToRecord() => new(Provider!, Model!, TimeOf(StartUtcTicks, StartOffsetMinutes), Succeeded,
            CostOf(Flags, CostUsd), AccuracyCount, AccuracySum, Weight, Agent, TaskType);
    }

    /// <summary>The <see cref="ExperimentShare"/> counted for an invocation, inline; none while not held.</summary>
    private struct CountedExperimentShare
    {
        public string? Experiment;
        public string? Variant;
        public string? Provider;
        public string? Model;
        public long StartUtcTicks;
        public double CostUsd;
        public short StartOffsetMinutes;
        public byte Flags;

        public readonly bool Held => (Flags & HeldFlag) != 0;

        /// <summary>The share of <paramref name="f"/>, whose known cost is <paramref name="known"/>.</summary>
        public static CountedExperimentShare Of(in PackedFacts f, double? known) => new()
        {
            Flags = (byte)(HeldFlag | (known is null ? 0 : CostKnownFlag)), Experiment = f.Experiment, Variant = f.Variant,
            StartUtcTicks = f.StartUtcTicks, StartOffsetMinutes = f.StartOffsetMinutes, CostUsd = known ?? 0,
            Provider = f.Provider, Model = f.Model,
        };

        /// <summary>Whether this share (held) equals the one <see cref="Of"/> makes of <paramref name="f"/>, as the records compare.</summary>
        public readonly bool Matches(in PackedFacts f, double? known) => Experiment == f.Experiment && Variant == f.Variant
            && StartUtcTicks == f.StartUtcTicks && CostIs(Flags, CostUsd, known) && Provider == f.Provider && Model == f.Model;

        /// <summary>The record of this share (held).</summary>
        public readonly ExperimentShare ToRecord() => new(Experiment!, Variant!, TimeOf(StartUtcTicks, StartOffsetMinutes),
            CostOf(Flags, CostUsd), Provider, Model);
    }
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

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
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
    // The shares do not copy the invocation span's fields: they were counted with the facts' own, or, when a later commit
    // of the span changed them before a share was re-decided, with those kept aside for it in the two dictionaries below
    // (flagged in the facts, so the common case never looks; "Counted shares without their copies").
    private readonly BoundedLru<PackedFacts> entries;
    private readonly SharedStrings shared = new();
    private readonly Dictionary<CompactSpanKey, InvocationFields> modelAside = [];
    private readonly Dictionary<CompactSpanKey, InvocationFields> experimentAside = [];
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

    /// <summary>
    /// Span fields kept aside for shares counted before a later commit of their invocation changed them (at most two an
    /// invocation, one a share; gone when the share is re-decided or the invocation evicted).
    /// </summary>
    internal int CountedAsideCount
    {
        get
        {
            lock (gate)
            {
                return modelAside.Count + experimentAside.Count;
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
            var fields = new InvocationFields(
                invocation.StartTime.UtcTicks, (short)invocation.StartTime.TotalOffsetMinutes,
                SampleWeights.Count(invocation.SampleWeight), invocation.Outcome == Outcomes.Success,
                shared.Share(invocation.AgentName), shared.Share(invocation.TaskType), shared.Share(invocation.Experiment),
                shared.Share(invocation.Variant));
            if ((facts.Has(ModelHeldFlag) || facts.Has(ExperimentHeldFlag)) && !fields.Equals(facts.Invocation))
            {
                // The span committed again, with other values, after a share was counted with the first ones.
                KeepCountedFieldsAside(CompactSpanKey.Of(invocation.Tenant, invocation.TraceId, invocation.SpanId), ref facts);
            }
            facts.Invocation = fields;
            facts.Flags |= InvocationSeenFlag;
            facts.OwnCostUsd = invocation.CostUsd ?? double.NaN;
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
            var key = CompactSpanKey.Of(tenant, traceId, spanId);
            ref var f = ref entries.FindRef(key);
            if (Unsafe.IsNullRef(ref f))
            {
                return (null, null);
            }
            // Decided in place and a record made only for a change (CountedModelShare.Matches).
            var has = f.InvocationSeen && f.Provider is not null && f.Model is not null;
            var known = f.KnownCostUsd();
            var held = f.Has(ModelHeldFlag);
            var aside = f.Has(ModelAsideFlag);
            ref readonly var countedWith = ref aside ? ref CollectionsMarshal.GetValueRefOrNullRef(modelAside, key) : ref f.Invocation;
            if (has == held && (!has || f.CountedModel.Matches(f, countedWith, known)))
            {
                return (null, null);
            }
            var counted = held ? f.CountedModel.ToRecord(f.Has(ModelCostKnownFlag), countedWith) : null;
            if (aside)
            {
                modelAside.Remove(key);
                f.SetFlag(ModelAsideFlag, false);
            }
            f.CountedModel = has ? CountedModelShare.Of(f, known) : default;
            f.SetFlag(ModelHeldFlag, has);
            f.SetFlag(ModelCostKnownFlag, has && known is not null);
            return (counted, has ? f.CountedModel.ToRecord(known is not null, f.Invocation) : null);
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
            var key = CompactSpanKey.Of(tenant, traceId, spanId);
            ref var f = ref entries.FindRef(key);
            if (Unsafe.IsNullRef(ref f))
            {
                return (null, null);
            }
            var has = f.InvocationSeen && !string.IsNullOrEmpty(f.Invocation.Experiment)
                && !string.IsNullOrEmpty(f.Invocation.Variant);
            var known = f.KnownCostUsd();
            var held = f.Has(ExperimentHeldFlag);
            var aside = f.Has(ExperimentAsideFlag);
            ref readonly var countedWith = ref aside
                ? ref CollectionsMarshal.GetValueRefOrNullRef(experimentAside, key) : ref f.Invocation;
            if (has == held && (!has || f.CountedExperiment.Matches(f, countedWith, known)))
            {
                return (null, null);
            }
            var counted = held ? f.CountedExperiment.ToRecord(f.Has(ExperimentCostKnownFlag), countedWith) : null;
            if (aside)
            {
                experimentAside.Remove(key);
                f.SetFlag(ExperimentAsideFlag, false);
            }
            f.CountedExperiment = has ? CountedExperimentShare.Of(f, known) : default;
            f.SetFlag(ExperimentHeldFlag, has);
            f.SetFlag(ExperimentCostKnownFlag, has && known is not null);
            return (counted, has ? f.CountedExperiment.ToRecord(known is not null, f.Invocation) : null);
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
        // A new entry keeps the shared tenant, not the record's own copy; when full, the least recently used goes, and
        // the span fields kept aside for its shares with it.
        if (entries.Count == capacity)
        {
            ref var evicted = ref entries.OldestRef(out var evictedKey);
            if (evicted.Has(ModelAsideFlag) || evicted.Has(ExperimentAsideFlag))
            {
                modelAside.Remove(evictedKey);
                experimentAside.Remove(evictedKey);
            }
        }
        ref var facts = ref entries.AddRef(CompactSpanKey.Of(shared.Share(tenant)!, traceId, spanId));
        facts.Invocation = new InvocationFields(0, 0, Weight: 1, false, null, null, null, null);
        facts.OwnCostUsd = double.NaN;
        return ref facts;
    }

    // Before a commit of the invocation span changes its fields in the facts: each share held and not yet re-decided since
    // the last change keeps the fields it was counted with (a share already keeping some keeps those).
    private void KeepCountedFieldsAside(in CompactSpanKey key, ref PackedFacts facts)
    {
        if (facts.Has(ModelHeldFlag) && !facts.Has(ModelAsideFlag))
        {
            modelAside[key] = facts.Invocation;
            facts.SetFlag(ModelAsideFlag, true);
        }
        if (facts.Has(ExperimentHeldFlag) && !facts.Has(ExperimentAsideFlag))
        {
            experimentAside[key] = facts.Invocation;
            facts.SetFlag(ExperimentAsideFlag, true);
        }
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
            InvocationStart = TimeOf(facts.Invocation.StartUtcTicks, facts.Invocation.StartOffsetMinutes),
            Experiment = facts.Invocation.Experiment,
            Variant = facts.Invocation.Variant,
            Succeeded = facts.Invocation.Succeeded,
            Weight = facts.Invocation.Weight,
            OwnCostUsd = double.IsNaN(facts.OwnCostUsd) ? null : facts.OwnCostUsd,
            AccuracyCount = facts.AccuracyCount,
            AccuracySum = facts.AccuracySum,
            AgentName = facts.Invocation.AgentName,
            TaskType = facts.Invocation.TaskType,
        };
        copy.SetCost(facts.Cost);
        return copy;
    }

    // The flags of the packed facts: the span seen, each share held and its cost known, each share's span fields aside.
    private const byte InvocationSeenFlag = 1;
    private const byte ModelHeldFlag = 2;
    private const byte ModelCostKnownFlag = 4;
    private const byte ModelAsideFlag = 8;
    private const byte ExperimentHeldFlag = 16;
    private const byte ExperimentCostKnownFlag = 32;
    private const byte ExperimentAsideFlag = 64;

    // A DateTimeOffset from what it holds: its UTC ticks and its offset in minutes.
    private static DateTimeOffset TimeOf(long utcTicks, short offsetMinutes) =>
        new DateTimeOffset(utcTicks, TimeSpan.Zero).ToOffset(TimeSpan.FromMinutes(offsetMinutes));

    // A share's known cost: null unless its flag says there is one (null is apart from every double, NaN included).
    private static double? CostOf(bool known, double usd) => known ? usd : null;

    // As the records' equality of a double?: both null, or both doubles that double.Equals (NaN equals NaN).
    private static bool CostIs(bool known, double usd, double? other) =>
        other is { } value ? known && usd.Equals(value) : !known;

    /// <summary>
    /// The invocation span's fields in the facts (and, kept aside, a share's when a later commit changed them): the start
    /// as UTC ticks and an offset, the sampling count, the outcome, the shared strings. Equal field by field, strings by
    /// value.
    /// </summary>
    private readonly record struct InvocationFields(long StartUtcTicks, short StartOffsetMinutes, int Weight, bool Succeeded,
        string? AgentName, string? TaskType, string? Experiment, string? Variant);

    /// <summary>
    /// One invocation's facts and the shares counted for it, in its slot of the table: the own cost's null as NaN, flags
    /// in a byte, the shares' own fields inline; strings are the shared instances.
    /// </summary>
    private struct PackedFacts
    {
        public OrderFreeSum Cost;
        public string? Provider;
        public string? Model;
        public long LastCallStartUtcTicks;
        public long UnpricedTokens;
        // The cost on the invocation span, NaN for none (only a finite one is used).
        public double OwnCostUsd;
        public long AccuracyCount;
        public double AccuracySum;
        public int Calls;
        public byte Flags;
        public InvocationFields Invocation;
        public CountedModelShare CountedModel;
        public CountedExperimentShare CountedExperiment;

        public readonly bool InvocationSeen => Has(InvocationSeenFlag);

        public readonly bool Has(byte flag) => (Flags & flag) != 0;

        public void SetFlag(byte flag, bool on) => Flags = on ? (byte)(Flags | flag) : (byte)(Flags & ~flag);

        public readonly double? KnownCostUsd() => InvocationFacts.KnownCost(Calls, UnpricedTokens, Cost.Value, OwnCostUsd);
    }

    /// <summary>
    /// What the <see cref="ModelShare"/> counted for an invocation holds beyond the span's fields it was counted with,
    /// inline (whether it is held, and its cost known, are flags of the facts).
    /// </summary>
    private struct CountedModelShare
    {
        public string? Provider;
        public string? Model;
        public double CostUsd;
        public long AccuracyCount;
        public double AccuracySum;

        /// <summary>The share of <paramref name="f"/>, whose known cost is <paramref name="known"/>.</summary>
        public static CountedModelShare Of(in PackedFacts f, double? known) => new()
        {
            Provider = f.Provider, Model = f.Model, CostUsd = known ?? 0, AccuracyCount = f.AccuracyCount,
            AccuracySum = f.AccuracySum,
        };

        /// <summary>
        /// Whether this share (held), counted with the span's fields <paramref name="countedWith"/>, equals the one
        /// <see cref="Of"/> makes of <paramref name="f"/>, as the records compare: strings by value, the start by its
        /// instant (so the share counted keeps its own start's offset), the cost with null apart.
        /// </summary>
        public readonly bool Matches(in PackedFacts f, in InvocationFields countedWith, double? known) =>
            Provider == f.Provider && Model == f.Model && CostIs(f.Has(ModelCostKnownFlag), CostUsd, known)
            && AccuracyCount == f.AccuracyCount && AccuracySum.Equals(f.AccuracySum)
            && countedWith.StartUtcTicks == f.Invocation.StartUtcTicks && countedWith.Succeeded == f.Invocation.Succeeded
            && countedWith.Weight == f.Invocation.Weight && countedWith.AgentName == f.Invocation.AgentName
            && countedWith.TaskType == f.Invocation.TaskType;

        /// <summary>The record of this share (held), counted with the span's fields <paramref name="countedWith"/>.</summary>
        public readonly ModelShare ToRecord(bool costKnown, in InvocationFields countedWith) => new(Provider!, Model!,
            TimeOf(countedWith.StartUtcTicks, countedWith.StartOffsetMinutes), countedWith.Succeeded, CostOf(costKnown, CostUsd),
            AccuracyCount, AccuracySum, countedWith.Weight, countedWith.AgentName, countedWith.TaskType);
    }

    /// <summary>
    /// What the <see cref="ExperimentShare"/> counted for an invocation holds beyond the span's fields it was counted
    /// with, inline (whether it is held, and its cost known, are flags of the facts).
    /// </summary>
    private struct CountedExperimentShare
    {
        public string? Provider;
        public string? Model;
        public double CostUsd;

        /// <summary>The share of <paramref name="f"/>, whose known cost is <paramref name="known"/>.</summary>
        public static CountedExperimentShare Of(in PackedFacts f, double? known) => new()
        {
            Provider = f.Provider, Model = f.Model, CostUsd = known ?? 0,
        };

        /// <summary>
        /// Whether this share (held), counted with the span's fields <paramref name="countedWith"/>, equals the one
        /// <see cref="Of"/> makes of <paramref name="f"/>, as the records compare.
        /// </summary>
        public readonly bool Matches(in PackedFacts f, in InvocationFields countedWith, double? known) =>
            countedWith.Experiment == f.Invocation.Experiment && countedWith.Variant == f.Invocation.Variant
            && countedWith.StartUtcTicks == f.Invocation.StartUtcTicks
            && CostIs(f.Has(ExperimentCostKnownFlag), CostUsd, known) && Provider == f.Provider && Model == f.Model;

        /// <summary>The record of this share (held), counted with the span's fields <paramref name="countedWith"/>.</summary>
        public readonly ExperimentShare ToRecord(bool costKnown, in InvocationFields countedWith) => new(
            countedWith.Experiment!, countedWith.Variant!, TimeOf(countedWith.StartUtcTicks, countedWith.StartOffsetMinutes),
            CostOf(costKnown, CostUsd), Provider, Model);
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

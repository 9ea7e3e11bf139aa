using System.Runtime.InteropServices;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Derived.Kernel;

/// <summary>
/// Attribution of provider calls, tool calls and evaluations to their nearest <c>invoke_agent</c> ancestor whatever
/// request brought the call, the ancestor or any span in between, and in whatever order (docs/architecture.md,
/// "Attribution"). Holds the parent links of the spans seen within the last two horizons, and the records whose
/// ancestry is not complete yet: those are stored (and acknowledged) at once but held back from the derivations until
/// their attribution is known, so a call is counted once, on its agent, never first on an agent-less series. A record
/// still unresolved one horizon after its span was seen is released without an agent; an ancestor that arrives later
/// counts as a late resolution and changes nothing (the derivations already counted the record).
/// </summary>
/// <remarks>
/// Used by the ingest writer alone (one batch at a time) and by the start-up replay before the writer starts; the
/// state is a function of the stored links and records and of the clock, so a restart rebuilds the same.
/// <see cref="Plan"/> computes what a batch changes without changing what is held; <see cref="Commit"/> applies it
/// once the store committed the batch.
/// </remarks>
public sealed class SpanAttribution
{
    private readonly Lock gate = new();
    // Keyed and valued without objects of their own (ids as ulongs, CompactSpanKey), each link one 80-byte slot also
    // threaded into its commit's group: hundreds of thousands of links are held, and as strings each took three more
    // objects, as a dictionary entry and a group list's key 136 bytes.
    private readonly SpanLinkTable links;
    private readonly Dictionary<TraceKey, HashSet<SpanKey>> heldByTrace = [];
    private readonly Dictionary<SpanKey, Held> held = [];
    // Spans whose records were released without an agent (a decision, stored with the link), and those of them whose
    // late ancestor was already counted (so that a late resolution is counted once).
    private readonly Dictionary<TraceKey, HashSet<SpanKey>> expiredByTrace = [];
    private readonly HashSet<SpanKey> lateCounted = [];
    // The links by the time their writer first saw them (one group per commit), oldest first: the time prune and the
    // capacity eviction both drop whole groups from the old end, so a restart that loads the stored links and applies the
    // same capacity keeps the same newest groups the live collector kept.
    private readonly SortedDictionary<DateTimeOffset, LinkGroup> linksBySeenAt = [];
    // Links of held records that a prune or an eviction passed over: removed when their records are released.
    private readonly HashSet<CompactSpanKey> pinned = [];
    // The spans of the held records, by their link's key (a group drop asks for each of its links).
    private readonly HashSet<CompactSpanKey> heldLinks = [];
    // The group the last link went into (one commit's links share one SeenAt), while it is in linksBySeenAt.
    private LinkGroup? lastGroup;
    // The last agent name a link kept: an agent's invocations share one string instead of one each.
    private string? lastAgent;
    private DateTimeOffset lastGroupSeenAt;
    private DateTimeOffset nextPrune = DateTimeOffset.MinValue;
    private long evictedLinks;
    private readonly Func<CompactSpanKey, bool> keepPinned;

    /// <summary>Default of <c>Ingest:AttributionMaxLinks</c>.</summary>
    public const int DefaultLinkCapacity = 250_000;

    /// <summary>
    /// An attribution that waits <paramref name="horizon"/> for the ancestors of a call and keeps at most
    /// <paramref name="linkCapacity"/> span links (plus those of held records).
    /// </summary>
    public SpanAttribution(TimeSpan horizon, int linkCapacity = DefaultLinkCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(horizon, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(linkCapacity, 1);
        Horizon = horizon;
        LinkCapacity = linkCapacity;
        links = new SpanLinkTable(linkCapacity);
        keepPinned = KeepPinned;
    }

    // A group's link whose record is held stays linked, pinned until the record is released.
    private bool KeepPinned(CompactSpanKey key)
    {
        if (heldLinks.Count > 0 && heldLinks.Contains(key))
        {
            pinned.Add(key);
            return true;
        }
        return false;
    }

    /// <summary>How long a record waits for its ancestors (<c>Ingest:AttributionHorizon</c>).</summary>
    public TimeSpan Horizon { get; }

    /// <summary>
    /// Most span links kept (<c>Ingest:AttributionMaxLinks</c>): beyond it the oldest commits' links are evicted before
    /// their two horizons pass, except those of held records; the newest commit's links are always kept.
    /// </summary>
    public int LinkCapacity { get; }

    /// <summary>Span links held (the spans of the last two horizons, at most about <see cref="LinkCapacity"/>).</summary>
    public int Links
    {
        get
        {
            lock (gate)
            {
                return links.Count;
            }
        }
    }

    /// <summary>
    /// Span links evicted by <see cref="LinkCapacity"/> before their two horizons passed, since start: a call, tool call
    /// or evaluation arriving later under one of those spans waits its horizon and is counted without an agent.
    /// </summary>
    public long EvictedLinks => Interlocked.Read(ref evictedLinks);

    /// <summary>Records held back from the derivations, waiting for an ancestor.</summary>
    public long PendingRecords
    {
        get
        {
            lock (gate)
            {
                return held.Values.Sum(h => (long)h.Records.Count);
            }
        }
    }

    /// <summary>Adds links read from the store (start-up).</summary>
    public void Load(IEnumerable<SpanLink> stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        lock (gate)
        {
            foreach (var link in stored)
            {
                AddLink(link);
                NoteExpired(link);
            }
            EnforceCapacity();
        }
    }

    /// <summary>
    /// Splits records read back from the store (start-up replay) into those the derivations count now and those held
    /// (their ancestry is still incomplete): the same split the live writer made.
    /// </summary>
    public IngestBatch Admit(IngestBatch stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        lock (gate)
        {
            var admitted = new IngestBatch();
            admitted.Invocations.AddRange(stored.Invocations);
            admitted.JoinedFeedback.AddRange(stored.JoinedFeedback);
            foreach (var call in stored.ProviderCalls)
            {
                if (call.InvocationSpanId is null && IsHeld(KeyOf(call.Tenant, call.TraceId, call.SpanId)))
                {
                    Hold(KeyOf(call.Tenant, call.TraceId, call.SpanId), call);
                }
                else
                {
                    admitted.ProviderCalls.Add(call);
                }
            }
            foreach (var tool in stored.ToolCalls)
            {
                if (tool.InvocationSpanId is null && IsHeld(KeyOf(tool.Tenant, tool.TraceId, tool.SpanId)))
                {
                    Hold(KeyOf(tool.Tenant, tool.TraceId, tool.SpanId), tool);
                }
                else
                {
                    admitted.ToolCalls.Add(tool);
                }
            }
            foreach (var evaluation in stored.Evaluations)
            {
                if (evaluation.AgentName is null && IsHeld(KeyOf(evaluation.Tenant, evaluation.TraceId, evaluation.SpanId)))
                {
                    Hold(KeyOf(evaluation.Tenant, evaluation.TraceId, evaluation.SpanId), evaluation);
                }
                else
                {
                    admitted.Evaluations.Add(evaluation);
                }
            }
            return admitted;
        }
    }

    /// <summary>
    /// What committing <paramref name="batch"/> at <paramref name="now"/> changes: the batch to store (its records
    /// attributed through links of earlier batches, its links stamped, the updates of earlier records its links
    /// resolve, and a prune of old links when due), the held records it releases, and the held records that expire.
    /// Adds the batch's links to the index (harmless if the write fails: the sender retries the same links).
    /// </summary>
    public AttributionPlan Plan(IngestBatch batch, DateTimeOffset now) => PlanBatch(batch, now, stampLinks: true);

    /// <summary>
    /// <see cref="Plan(IngestBatch, DateTimeOffset)"/> for records and links that are already stored (the derivation
    /// leader reading what the replicas committed, docs/collector/scale-out.md): links keep the time their writer stamped,
    /// and the records this batch's links (or earlier ones) attribute become updates of the stored rows, like the
    /// held records they resolve. Plan.ToStore then holds only what to write (updates, expiry marks, a prune); the
    /// attributed records to hand to <see cref="Commit"/> are returned apart.
    /// </summary>
    public (AttributionPlan Plan, IngestBatch Attributed) PlanStored(IngestBatch stored, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var plan = PlanBatch(stored, now, stampLinks: false);
        var attributed = new IngestBatch();
        attributed.Invocations.AddRange(stored.Invocations);
        attributed.JoinedFeedback.AddRange(stored.JoinedFeedback);
        attributed.ProviderCalls.AddRange(plan.ToStore.ProviderCalls);
        attributed.ToolCalls.AddRange(plan.ToStore.ToolCalls);
        attributed.Evaluations.AddRange(plan.ToStore.Evaluations);
        var updated = new HashSet<SpanKey>(plan.ToStore.Attributions.Select(a => KeyOf(a.Tenant, a.TraceId, a.SpanId)));
        void Update(string tenant, string traceId, string spanId, string? invocationSpanId, string? agent)
        {
            if (agent is not null && updated.Add(KeyOf(tenant, traceId, spanId)))
            {
                plan.ToStore.Attributions.Add(new AttributionUpdate(tenant, traceId, spanId, invocationSpanId ?? spanId, agent));
            }
        }
        for (var i = 0; i < stored.ProviderCalls.Count; i++)
        {
            if (!ReferenceEquals(stored.ProviderCalls[i], attributed.ProviderCalls[i]) && attributed.ProviderCalls[i] is var c)
            {
                Update(c.Tenant, c.TraceId, c.SpanId, c.InvocationSpanId, c.AgentName);
            }
        }
        for (var i = 0; i < stored.ToolCalls.Count; i++)
        {
            if (!ReferenceEquals(stored.ToolCalls[i], attributed.ToolCalls[i]) && attributed.ToolCalls[i] is var t)
            {
                Update(t.Tenant, t.TraceId, t.SpanId, t.InvocationSpanId, t.AgentName);
            }
        }
        for (var i = 0; i < stored.Evaluations.Count; i++)
        {
            if (!ReferenceEquals(stored.Evaluations[i], attributed.Evaluations[i]) && attributed.Evaluations[i] is var e)
            {
                Update(e.Tenant, e.TraceId, e.SpanId, ResolvedInvocation(e), e.AgentName);
            }
        }
        plan.ToStore.Invocations.Clear();
        plan.ToStore.Feedback.Clear();
        plan.ToStore.ProviderCalls.Clear();
        plan.ToStore.ToolCalls.Clear();
        plan.ToStore.Evaluations.Clear();
        plan.ToStore.SpanLinks.Clear();
        return (plan, attributed);
    }

    private string? ResolvedInvocation(EvaluationRecord evaluation)
    {
        lock (gate)
        {
            return Resolve(KeyOf(evaluation.Tenant, evaluation.TraceId, evaluation.SpanId)).InvocationSpanId;
        }
    }

    private AttributionPlan PlanBatch(IngestBatch batch, DateTimeOffset now, bool stampLinks)
    {
        ArgumentNullException.ThrowIfNull(batch);
        lock (gate)
        {
            var plan = new AttributionPlan(new IngestBatch(), now);
            var toStore = plan.ToStore;
            toStore.Invocations.AddRange(batch.Invocations);
            toStore.Feedback.AddRange(batch.Feedback);

            // Expiry first: what waited a whole horizon is counted without an agent before this batch's links could
            // resolve it, whatever the batching, so a restart (which expires at start) decides the same.
            var cutoff = now - Horizon;
            var lastTrace = default(TraceKey);
            foreach (var (key, waiting) in held)
            {
                if (waiting.SeenAt <= cutoff)
                {
                    plan.Expired.Add(key);
                    toStore.ExpiredSpans.Add(new ExpiredSpan(key.Tenant, key.TraceId, key.SpanId, waiting.SeenAt));
                    plan.Released.AddRange(waiting.Records);
                    plan.ExpiredRecords += waiting.Records.Count;
                }
            }

            var touched = new HashSet<TraceKey>();
            toStore.SpanLinks.Capacity = batch.SpanLinks.Count;
            foreach (var link in batch.SpanLinks)
            {
                // Written every time (the store ignores a link it holds): a retried write must still store it, with
                // the time it was first seen. A new link (the common case) is stored as stamped, without a second copy.
                var stamped = stampLinks && link.SeenAt != now ? link with { SeenAt = now } : link;
                var firstSeenAt = AddLink(stamped);
                NoteExpired(stamped);
                toStore.SpanLinks.Add(firstSeenAt == stamped.SeenAt ? stamped : stamped with { SeenAt = firstSeenAt });
                // Spans of one trace come together: the previous link's trace needs no second hash lookup.
                if (touched.Count == 0 || !ReferenceEquals(lastTrace.TraceId, link.TraceId) || !ReferenceEquals(lastTrace.Tenant, link.Tenant))
                {
                    lastTrace = new TraceKey(link.Tenant, link.TraceId);
                    touched.Add(lastTrace);
                }
            }

            foreach (var call in batch.ProviderCalls)
            {
                toStore.ProviderCalls.Add(call.InvocationSpanId is null
                    ? Attribute(call, KeyOf(call.Tenant, call.TraceId, call.SpanId), plan, (c, r) => c with { InvocationSpanId = r.InvocationSpanId, AgentName = r.AgentName })
                    : call);
            }
            foreach (var tool in batch.ToolCalls)
            {
                toStore.ToolCalls.Add(tool.InvocationSpanId is null
                    ? Attribute(tool, KeyOf(tool.Tenant, tool.TraceId, tool.SpanId), plan, (t, r) => t with { InvocationSpanId = r.InvocationSpanId, AgentName = r.AgentName })
                    : tool);
            }
            foreach (var evaluation in batch.Evaluations)
            {
                toStore.Evaluations.Add(evaluation.AgentName is null
                    ? Attribute(evaluation, KeyOf(evaluation.Tenant, evaluation.TraceId, evaluation.SpanId), plan, (e, r) => e with { AgentName = r.AgentName })
                    : evaluation);
            }

            foreach (var trace in touched)
            {
                if (heldByTrace.TryGetValue(trace, out var waitingKeys))
                {
                    foreach (var key in waitingKeys)
                    {
                        if (plan.Expired.Contains(key) || Resolve(key) is not { Pending: false } resolution)
                        {
                            continue;
                        }
                        plan.Resolved.Add(key);
                        plan.ResolvedRecords += held[key].Records.Count;
                        foreach (var record in held[key].Records)
                        {
                            plan.Released.Add(resolution.AgentName is null ? record : WithAgent(record, resolution));
                        }
                        if (resolution.AgentName is not null)
                        {
                            toStore.Attributions.Add(new AttributionUpdate(key.Tenant, key.TraceId, key.SpanId, resolution.InvocationSpanId!, resolution.AgentName));
                        }
                    }
                }
                if (expiredByTrace.TryGetValue(trace, out var expiredKeys))
                {
                    foreach (var key in expiredKeys)
                    {
                        if (!lateCounted.Contains(key) && Resolve(key) is { Pending: false, AgentName: not null })
                        {
                            plan.Late.Add(key);
                        }
                    }
                }
            }

            // A record that expires in this very commit and whose ancestor this batch brings is late too.
            foreach (var key in plan.Expired)
            {
                if (touched.Contains(new TraceKey(key.Tenant, key.TraceId)) && Resolve(key) is { Pending: false, AgentName: not null })
                {
                    plan.Late.Add(key);
                }
            }

            if (now >= nextPrune)
            {
                // Links are kept two horizons: one to resolve, one more to notice (and count) late resolutions.
                toStore.PruneSpanLinksBefore = now - (2 * Horizon);
            }
            // Evicts only after this batch's records were attributed, and never this batch's own links: the eviction
            // shortens how long links are remembered under load; the stored links and decisions are unchanged.
            EnforceCapacity();
            return plan;
        }
    }

    /// <summary>Applies a plan whose batch the store committed; <paramref name="stored"/> is what the store newly stored.</summary>
    /// <returns>What the derivations count now: the new records whose attribution is known, and the released ones.</returns>
    public IngestBatch Commit(AttributionPlan plan, IngestBatch stored)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(stored);
        lock (gate)
        {
            foreach (var key in plan.Expired)
            {
                Release(key);
                var trace = new TraceKey(key.Tenant, key.TraceId);
                if (!expiredByTrace.TryGetValue(trace, out var keys))
                {
                    expiredByTrace[trace] = keys = [];
                }
                keys.Add(key);
            }
            foreach (var key in plan.Resolved)
            {
                Release(key);
            }
            foreach (var key in plan.Late)
            {
                // Counted once: the record stays where the derivations counted it (without an agent), and expired.
                lateCounted.Add(key);
            }

            var counted = new IngestBatch();
            counted.Invocations.AddRange(stored.Invocations);
            counted.JoinedFeedback.AddRange(stored.JoinedFeedback);
            foreach (var call in stored.ProviderCalls)
            {
                HoldOrCount(KeyOf(call.Tenant, call.TraceId, call.SpanId), call, plan, counted.ProviderCalls);
            }
            foreach (var tool in stored.ToolCalls)
            {
                HoldOrCount(KeyOf(tool.Tenant, tool.TraceId, tool.SpanId), tool, plan, counted.ToolCalls);
            }
            foreach (var evaluation in stored.Evaluations)
            {
                HoldOrCount(KeyOf(evaluation.Tenant, evaluation.TraceId, evaluation.SpanId), evaluation, plan, counted.Evaluations);
            }
            foreach (var record in plan.Released)
            {
                switch (record)
                {
                    case ProviderCall call: counted.ProviderCalls.Add(call); break;
                    case ToolCall tool: counted.ToolCalls.Add(tool); break;
                    case EvaluationRecord evaluation: counted.Evaluations.Add(evaluation); break;
                }
            }

            if (plan.ToStore.PruneSpanLinksBefore is { } before)
            {
                Prune(before);
                nextPrune = plan.Now + (Horizon / 10);
            }
            return counted;
        }
    }

    /// <summary>
    /// Whether a stored record without an agent is still waiting: its own link is kept (else it was seen more than two
    /// horizons ago and counted long since) and its ancestry is incomplete.
    /// </summary>
    private bool IsHeld(SpanKey key) => links.Contains(Compact(key)) && !IsExpired(key) && Resolve(key).Pending;

    private bool IsExpired(SpanKey key) =>
        expiredByTrace.TryGetValue(new TraceKey(key.Tenant, key.TraceId), out var keys) && keys.Contains(key);

    private void NoteExpired(SpanLink link)
    {
        if (!link.Expired)
        {
            return;
        }
        var trace = new TraceKey(link.Tenant, link.TraceId);
        if (!expiredByTrace.TryGetValue(trace, out var keys))
        {
            expiredByTrace[trace] = keys = [];
        }
        keys.Add(KeyOf(link.Tenant, link.TraceId, link.SpanId));
    }

    private void HoldOrCount<T>(SpanKey key, T record, AttributionPlan plan, List<T> counted) where T : class
    {
        if (plan.Pending.Contains(key))
        {
            Hold(key, record);
        }
        else
        {
            counted.Add(record);
        }
    }

    private T Attribute<T>(T record, SpanKey key, AttributionPlan plan, Func<T, Resolution, T> attribute)
    {
        if (IsExpired(key))
        {
            // Decided when its horizon passed: counted without an agent, whatever arrived since.
            return record;
        }
        var resolution = Resolve(key);
        if (resolution.Pending)
        {
            plan.Pending.Add(key);
            return record;
        }
        return resolution.AgentName is null ? record : attribute(record, resolution);
    }

    private static object WithAgent(object record, Resolution resolution) => record switch
    {
        ProviderCall call => call with { InvocationSpanId = resolution.InvocationSpanId, AgentName = resolution.AgentName },
        ToolCall tool => tool with { InvocationSpanId = resolution.InvocationSpanId, AgentName = resolution.AgentName },
        EvaluationRecord evaluation => evaluation with { AgentName = resolution.AgentName },
        _ => record,
    };

    /// <summary>
    /// The nearest invoke_agent ancestor of a span, from the links (an invoke_agent span is its own: evaluations on
    /// it belong to its agent). Pending while a link on the way up is missing; no agent once a root is reached.
    /// </summary>
    private Resolution Resolve(SpanKey key)
    {
        var current = Compact(key);
        // Bounded walk: a malformed trace may hold a parent cycle.
        for (var steps = 0; steps <= links.Count; steps++)
        {
            if (!links.TryGet(current, out var link))
            {
                return Resolution.Waiting;
            }
            if (link.InvocationAgent is { } agent)
            {
                return new Resolution(false, steps == 0 ? key.SpanId : current.SpanId, agent);
            }
            if (link.Parent is not { } parent)
            {
                return Resolution.NoAgent;
            }
            current = current.WithSpan(parent);
        }
        return Resolution.NoAgent;
    }

    /// <summary>Adds a link unless its span is already linked; returns when the span was first seen.</summary>
    /// <param name="link">The span's link; it joins its commit's group, threaded through the table's slots (no list of
    /// keys per commit: a large commit's list was a large-object-heap array, garbage once its links went).</param>
    private DateTimeOffset AddLink(SpanLink link)
    {
        var key = CompactSpanKey.Of(link.Tenant, link.TraceId, link.SpanId);
        // One hash lookup whether the span is new or not.
        if (links.TryGetSeenAt(key, out var hash, out var firstSeenAt))
        {
            // The first sighting stands: a resent span neither restarts its horizon nor changes its parent.
            return firstSeenAt;
        }
        var agent = link.InvocationAgent;
        if (agent is not null)
        {
            if (string.Equals(agent, lastAgent, StringComparison.Ordinal))
            {
                agent = lastAgent;
            }
            else
            {
                lastAgent = agent;
            }
        }
        // Links arrive one commit (one SeenAt) at a time: the newest group is almost always the one to add to.
        if (lastGroup is null || lastGroupSeenAt != link.SeenAt)
        {
            if (!linksBySeenAt.TryGetValue(link.SeenAt, out var found))
            {
                linksBySeenAt[link.SeenAt] = found = new LinkGroup();
            }
            lastGroup = found;
            lastGroupSeenAt = link.SeenAt;
        }
        links.AddNew(key, hash, link.ParentSpanId is { } parent ? SpanIdValue.Of(parent) : null, agent, link.SeenAt, lastGroup);
        return link.SeenAt;
    }

    private void Hold(SpanKey key, object record)
    {
        if (!held.TryGetValue(key, out var waiting))
        {
            var seenAt = links.TryGet(Compact(key), out var link) ? link.SeenAt : DateTimeOffset.MinValue;
            held[key] = waiting = new Held(seenAt, []);
            heldLinks.Add(Compact(key));
            var trace = new TraceKey(key.Tenant, key.TraceId);
            if (!heldByTrace.TryGetValue(trace, out var keys))
            {
                heldByTrace[trace] = keys = [];
            }
            keys.Add(key);
        }
        waiting.Records.Add(record);
    }

    private void Release(SpanKey key)
    {
        if (!held.Remove(key))
        {
            return;
        }
        var compact = Compact(key);
        heldLinks.Remove(compact);
        if (pinned.Remove(compact))
        {
            // Its group was pruned or evicted while it was held: it goes now, as it would have then.
            links.Remove(compact);
        }
        var trace = new TraceKey(key.Tenant, key.TraceId);
        if (heldByTrace.TryGetValue(trace, out var keys) && keys.Remove(key) && keys.Count == 0)
        {
            heldByTrace.Remove(trace);
        }
    }

    private void Prune(DateTimeOffset before)
    {
        while (linksBySeenAt.Count > 0 && First(linksBySeenAt) is var (seenAt, group) && seenAt < before)
        {
            DropGroup(seenAt, group);
        }
        ForgetDecisionsOfDroppedLinks();
    }

    /// <summary>
    /// Evicts the oldest commits' links while more than <see cref="LinkCapacity"/> are held, never the newest commit's.
    /// </summary>
    private void EnforceCapacity()
    {
        if (links.Count <= LinkCapacity)
        {
            return;
        }
        while (links.Count > LinkCapacity && linksBySeenAt.Count > 1 && First(linksBySeenAt) is var (seenAt, group))
        {
            Interlocked.Add(ref evictedLinks, DropGroup(seenAt, group));
        }
        ForgetDecisionsOfDroppedLinks();
    }

    /// <summary>Drops one group of links (those of held records stay, pinned until released); returns how many went.</summary>
    private int DropGroup(DateTimeOffset seenAt, LinkGroup group)
    {
        var dropped = links.DropGroup(group, keepPinned);
        linksBySeenAt.Remove(seenAt);
        if (ReferenceEquals(group, lastGroup))
        {
            lastGroup = null;
        }
        return dropped;
    }

    private static KeyValuePair<DateTimeOffset, LinkGroup> First(SortedDictionary<DateTimeOffset, LinkGroup> groups)
    {
        using var enumerator = groups.GetEnumerator();
        enumerator.MoveNext();
        return enumerator.Current;
    }

    /// <summary>The expiry and late-resolution decisions are kept as long as their span's link.</summary>
    private void ForgetDecisionsOfDroppedLinks()
    {
        List<TraceKey>? emptied = null;
        foreach (var (trace, keys) in expiredByTrace)
        {
            keys.RemoveWhere(k => !links.Contains(Compact(k)));
            if (keys.Count == 0)
            {
                (emptied ??= []).Add(trace);
            }
        }
        foreach (var trace in emptied ?? [])
        {
            expiredByTrace.Remove(trace);
        }
        lateCounted.RemoveWhere(k => !links.Contains(Compact(k)));
    }

    private static SpanKey KeyOf(string tenant, string traceId, string spanId) => new(tenant, traceId, spanId);

    private static CompactSpanKey Compact(SpanKey key) => CompactSpanKey.Of(key.Tenant, key.TraceId, key.SpanId);

    private sealed record Held(DateTimeOffset SeenAt, List<object> Records);

    private readonly record struct TraceKey(string Tenant, string TraceId);

    private readonly record struct Resolution(bool Pending, string? InvocationSpanId, string? AgentName)
    {
        public static Resolution Waiting => new(true, null, null);

        public static Resolution NoAgent => new(false, null, null);
    }
}

/// <summary>A span's identity.</summary>
public readonly record struct SpanKey(string Tenant, string TraceId, string SpanId);

/// <summary>What one commit changes in <see cref="SpanAttribution"/>: built by Plan, applied by Commit.</summary>
public sealed class AttributionPlan(IngestBatch toStore, DateTimeOffset now)
{
    /// <summary>The batch to hand to the store.</summary>
    public IngestBatch ToStore { get; } = toStore;

    /// <summary>The writer's clock for this commit.</summary>
    public DateTimeOffset Now { get; } = now;

    /// <summary>Spans of this batch whose records wait for an ancestor.</summary>
    public HashSet<SpanKey> Pending { get; } = [];

    /// <summary>Held spans this batch resolved.</summary>
    public HashSet<SpanKey> Resolved { get; } = [];

    /// <summary>Held spans whose horizon passed: released without an agent.</summary>
    public HashSet<SpanKey> Expired { get; } = [];

    /// <summary>Expired spans this batch would have attributed: late resolutions.</summary>
    public HashSet<SpanKey> Late { get; } = [];

    /// <summary>Held records the derivations count with this commit (attributed when resolved).</summary>
    public List<object> Released { get; } = [];

    /// <summary>Held records this batch attributed.</summary>
    public int ResolvedRecords { get; internal set; }

    /// <summary>Held records released without an agent because their horizon passed.</summary>
    public int ExpiredRecords { get; internal set; }
}

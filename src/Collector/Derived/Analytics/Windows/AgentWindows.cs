using PerfOtel.Collector.Derived.Analytics.Reports;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Derived.Thresholds;

namespace PerfOtel.Collector.Derived.Analytics.Windows;

/// <summary>
/// The rolling windows of one (tenant, agent). Writers (the ingest observer, the rebuild) and readers (gauges, API)
/// meet under one lock per agent: contention is per agent, and each critical section is O(buckets) at most.
/// Reports are cached until the agent gets new data or the clock enters a new bucket, so a scrape that reads
/// twenty gauges computes each (agent, window) once.
/// </summary>
internal sealed class AgentWindows
{
    private readonly Lock gate = new();
    private readonly TimeBucketRing<WindowStats>[] rings;
    private readonly IReadOnlyList<RollingWindowOptions> windows;
    private readonly AnalyticsOptions options;
    private readonly HashSet<string> knownTaskTypes = new(StringComparer.Ordinal);
    private readonly AgentSnapshot?[] cache;
    private readonly CompletedBucketSums?[] completed;
    private readonly string? reportedAgent;
    private long version;
    private long firstSeenTicks = long.MaxValue;
    private long lastSeenTicks = long.MinValue;
    private string? agentType;
    private long agentTypeAtTicks = long.MinValue;

    /// <param name="tenant">The tenant.</param>
    /// <param name="agent">The agent, or null for the sums of all the tenant's agents (the tenant report).</param>
    /// <param name="options">Window options.</param>
    public AgentWindows(string tenant, string? agent, AnalyticsOptions options)
    {
        Tenant = tenant;
        reportedAgent = agent;
        Agent = agent ?? string.Empty;
        this.options = options;
        windows = options.EffectiveWindows;
        rings = new TimeBucketRing<WindowStats>[windows.Count];
        for (var i = 0; i < windows.Count; i++)
        {
            // Two windows: the current one and the previous one (for trends).
            rings[i] = new TimeBucketRing<WindowStats>(windows[i].Duration, windows[i].BucketWidth,
                () => new WindowStats(options.CalibrationBins), windowsKept: 2);
        }
        cache = new AgentSnapshot?[windows.Count];
        completed = new CompletedBucketSums?[windows.Count];
    }

    public string Tenant { get; }

    public string Agent { get; }

    /// <summary>
    /// Notes that the agent was seen from <paramref name="from"/> to <paramref name="to"/>, with its agent type when the
    /// record carries one (the latest record's type wins). Minimum and maximum: the same whatever order records arrive in.
    /// </summary>
    public void Seen(DateTimeOffset from, DateTimeOffset to, string? type = null)
    {
        lock (gate)
        {
            var changed = false;
            if (from.UtcTicks < firstSeenTicks)
            {
                firstSeenTicks = from.UtcTicks;
                changed = true;
            }
            if (to.UtcTicks > lastSeenTicks)
            {
                lastSeenTicks = to.UtcTicks;
                changed = true;
            }
            if (type is not null && (from.UtcTicks > agentTypeAtTicks
                || from.UtcTicks == agentTypeAtTicks && string.CompareOrdinal(type, agentType) > 0))
            {
                changed |= type != agentType;
                agentType = type;
                agentTypeAtTicks = from.UtcTicks;
            }
            if (changed)
            {
                version++;
            }
        }
    }

    /// <summary>Time of the latest record, or null before any.</summary>
    public DateTimeOffset? LastSeen
    {
        get
        {
            lock (gate)
            {
                return lastSeenTicks == long.MinValue ? null : new DateTimeOffset(lastSeenTicks, TimeSpan.Zero);
            }
        }
    }

    /// <summary>Applies one change to the bucket of <paramref name="time"/> in every window that still holds it.</summary>
    public void Record(DateTimeOffset time, DateTimeOffset now, Action<WindowStats> change) =>
        Record(time, now, change, static (stats, apply) => apply(stats));

    /// <summary>
    /// Applies one change to the bucket of <paramref name="time"/> in every window that still holds it: a static
    /// <paramref name="change"/> given its <paramref name="state"/>, so the hot paths allocate no closure a call.
    /// </summary>
    public void Record<TState>(DateTimeOffset time, DateTimeOffset now, TState state, Action<WindowStats, TState> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        lock (gate)
        {
            for (var i = 0; i < rings.Length; i++)
            {
                var ring = rings[i];
                var currentBucket = ring.BucketOf(now);
                if (ring.ForWriting(time, currentBucket) is { } stats)
                {
                    change(stats, state);
                    if (completed[i] is { } kept && Math.Min(ring.BucketOf(time), currentBucket) < kept.LastBucket)
                    {
                        // Late data changed a bucket the kept sums count as completed: they are stale.
                        completed[i] = null;
                    }
                }
            }
            version++;
        }
    }

    /// <summary>The task type an invocation is tallied under: its own while fewer than the cap are known.</summary>
    public string TaskTypeKey(string? taskType)
    {
        var key = string.IsNullOrEmpty(taskType) ? AnalyticsOptions.NoTaskType : taskType;
        lock (gate)
        {
            if (knownTaskTypes.Contains(key))
            {
                return key;
            }
            if (knownTaskTypes.Count < options.MaxTaskTypesPerAgent)
            {
                knownTaskTypes.Add(key);
                return key;
            }
            return AnalyticsOptions.OtherTaskType;
        }
    }

    /// <summary>The merged current-window and previous-window stats (for tenant-wide reports).</summary>
    public (WindowStats Current, WindowStats Previous) Merged(int windowIndex, DateTimeOffset now)
    {
        var ring = rings[windowIndex];
        var current = new WindowStats(options.CalibrationBins);
        lock (gate)
        {
            var last = ring.BucketOf(now);
            var sums = CompletedSums(windowIndex, last);
            current.Merge(sums.CurrentWithoutLast);
            if (ring.Read(last) is { } lastStats)
            {
                current.Merge(lastStats);
            }
            return (current, sums.Previous);
        }
    }

    /// <summary>The anomaly scores of the window's completed buckets.</summary>
    public AnomalyReport Anomaly(int windowIndex, DateTimeOffset now)
    {
        lock (gate)
        {
            return CompletedSums(windowIndex, rings[windowIndex].BucketOf(now)).Anomaly;
        }
    }

    /// <summary>
    /// The sums over the completed buckets of a window, kept until the clock enters a new bucket or late data changes a
    /// completed one: new data lands in the current bucket, so a report after it merges one bucket into a copy of these
    /// instead of re-merging every bucket of both windows (which made a scrape after fleet-wide ingestion cost
    /// O(agents x buckets)). Callers hold the gate; the returned objects are never modified.
    /// </summary>
    private CompletedBucketSums CompletedSums(int windowIndex, long lastBucket)
    {
        if (completed[windowIndex] is { } kept && kept.LastBucket == lastBucket)
        {
            return kept;
        }

        var ring = rings[windowIndex];
        var currentWithoutLast = new WindowStats(options.CalibrationBins);
        var previous = new WindowStats(options.CalibrationBins);
        var points = new BucketPoint[ring.BucketsPerWindow - 1];
        var first = lastBucket - ring.BucketsPerWindow + 1;
        for (var i = 0; i < points.Length; i++)
        {
            if (ring.Read(first + i) is { } stats)
            {
                currentWithoutLast.Merge(stats);
                points[i] = BucketPoint.Of(stats);
            }
        }
        ring.MergeWindow(lastBucket - ring.BucketsPerWindow, previous);
        var sums = new CompletedBucketSums(lastBucket, currentWithoutLast, previous, ReportBuilder.Anomaly(points, options));
        completed[windowIndex] = sums;
        return sums;
    }

    private sealed record CompletedBucketSums(long LastBucket, WindowStats CurrentWithoutLast, WindowStats Previous, AnomalyReport Anomaly);

    public AgentReport Report(int windowIndex, DateTimeOffset now, ThresholdSet thresholds) =>
        Snapshot(windowIndex, now, thresholds).Report;

    /// <summary>
    /// The report with the merged statistics behind it (which tenant-wide reports sum), from the cache when the agent
    /// got no data and the clock stayed in the same bucket since it was built.
    /// </summary>
    public AgentSnapshot Snapshot(int windowIndex, DateTimeOffset now, ThresholdSet thresholds)
    {
        var ring = rings[windowIndex];
        var currentBucket = ring.BucketOf(now);
        long seenVersion;
        WindowStats current, previous;
        AnomalyReport anomaly;
        DateTimeOffset? firstSeen, lastSeen;
        string? type;
        string? status;
        lock (gate)
        {
            firstSeen = firstSeenTicks == long.MaxValue ? null : new DateTimeOffset(firstSeenTicks, TimeSpan.Zero);
            lastSeen = lastSeenTicks == long.MinValue ? null : new DateTimeOffset(lastSeenTicks, TimeSpan.Zero);
            type = agentType;
            // The status moves with the clock alone; a cached report serves while its status still holds.
            status = AgentStatus.Of(lastSeen, now, thresholds.AgentIdleAfterSeconds, thresholds.AgentSilentAfterSeconds);
            if (cache[windowIndex] is { } cached && cached.Version == version && cached.Bucket == currentBucket &&
                cached.Thresholds == thresholds && cached.Report.Status == status)
            {
                return cached;
            }
            seenVersion = version;
            (current, previous) = Merged(windowIndex, now);
            anomaly = Anomaly(windowIndex, now);
        }

        var window = windows[windowIndex];
        var windowEnd = new DateTimeOffset((currentBucket + 1) * window.BucketWidth.Ticks, TimeSpan.Zero);
        var report = ReportBuilder.Build(Tenant, reportedAgent, window, windowEnd - window.Duration, windowEnd,
            current, previous, anomaly, thresholds, options) with
        {
            AgentType = type, FirstSeen = firstSeen, LastSeen = lastSeen, Status = status,
        };
        var snapshot = new AgentSnapshot(seenVersion, currentBucket, thresholds, report, current, previous);

        lock (gate)
        {
            // Only a snapshot of the data as it still is may be cached; a newer one is rebuilt next time.
            if (version == seenVersion)
            {
                cache[windowIndex] = snapshot;
            }
        }
        return snapshot;
    }

    public bool HasDataIn(int windowIndex, DateTimeOffset now)
    {
        var ring = rings[windowIndex];
        lock (gate)
        {
            var last = ring.BucketOf(now);
            for (var bucket = last - ring.BucketsPerWindow + 1; bucket <= last; bucket++)
            {
                if (ring.Read(bucket) is { IsEmpty: false })
                {
                    return true;
                }
            }
        }
        return false;
    }

}

/// <summary>A report and the merged statistics it was derived from; immutable once built.</summary>
internal sealed record AgentSnapshot(
    long Version,
    long Bucket,
    ThresholdSet Thresholds,
    AgentReport Report,
    WindowStats Current,
    WindowStats Previous);

using PerfOtel.Collector.Analytics.Reports;
using PerfOtel.Collector.Thresholds;

namespace PerfOtel.Collector.Analytics.Windows;

/// <summary>
/// The rolling windows of one (tenant, agent). Writers (the ingest observer, the rebuild) and readers (gauges, API)
/// meet under one lock per agent: contention is per agent, and each critical section is O(buckets) at most.
/// Reports are cached until the agent gets new data or the clock enters a new bucket, so a scrape that reads
/// twenty gauges computes each (agent, window) once.
/// </summary>
internal sealed class AgentWindows
{
    private readonly object gate = new();
    private readonly WindowRing[] rings;
    private readonly AnalyticsOptions options;
    private readonly HashSet<string> knownTaskTypes = new(StringComparer.Ordinal);
    private readonly AgentSnapshot?[] cache;
    private long version;

    public AgentWindows(string tenant, string agent, AnalyticsOptions options)
    {
        Tenant = tenant;
        Agent = agent;
        this.options = options;
        var windows = options.EffectiveWindows;
        rings = new WindowRing[windows.Count];
        for (var i = 0; i < windows.Count; i++)
        {
            rings[i] = new WindowRing(windows[i], options.CalibrationBins);
        }
        cache = new AgentSnapshot?[windows.Count];
    }

    public string Tenant { get; }

    public string Agent { get; }

    /// <summary>Applies one change to the bucket of <paramref name="time"/> in every window that still holds it.</summary>
    public void Record(DateTimeOffset time, DateTimeOffset now, Action<WindowStats> change)
    {
        lock (gate)
        {
            foreach (var ring in rings)
            {
                if (ring.ForWriting(time, ring.BucketOf(now)) is { } stats)
                {
                    change(stats);
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
        var previous = new WindowStats(options.CalibrationBins);
        lock (gate)
        {
            var last = ring.BucketOf(now);
            ring.MergeWindow(last, current);
            ring.MergeWindow(last - ring.BucketsPerWindow, previous);
        }
        return (current, previous);
    }

    /// <summary>The completed buckets of the current window, oldest first (empty buckets are default).</summary>
    public BucketPoint[] CompletedBuckets(int windowIndex, DateTimeOffset now)
    {
        var ring = rings[windowIndex];
        var result = new BucketPoint[ring.BucketsPerWindow - 1];
        lock (gate)
        {
            var first = ring.BucketOf(now) - ring.BucketsPerWindow + 1;
            for (var i = 0; i < result.Length; i++)
            {
                if (ring.Read(first + i) is { } stats)
                {
                    result[i] = BucketPoint.Of(stats);
                }
            }
        }
        return result;
    }

    /// <summary>The report of one window at <paramref name="now"/>, from the cache when nothing changed.</summary>
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
        lock (gate)
        {
            if (cache[windowIndex] is { } cached && cached.Version == version && cached.Bucket == currentBucket &&
                cached.Thresholds == thresholds)
            {
                return cached;
            }
            seenVersion = version;
        }

        var (current, previous) = Merged(windowIndex, now);
        var completed = CompletedBuckets(windowIndex, now);
        var width = ring.Options.BucketWidth;
        var windowEnd = new DateTimeOffset((currentBucket + 1) * width.Ticks, TimeSpan.Zero);
        var report = ReportBuilder.Build(Tenant, Agent, ring.Options, windowEnd - ring.Options.Duration, windowEnd,
            current, previous, completed, thresholds, options);
        var snapshot = new AgentSnapshot(seenVersion, currentBucket, thresholds, report, current, previous, completed);

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
    WindowStats Previous,
    BucketPoint[] CompletedBuckets);

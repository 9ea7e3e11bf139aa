using PerfOtel.Exporter;

namespace PerfOtel.Collector.Receiving.Metrics;

/// <summary>Why a pushed metric point is not re-exposed (values of the <c>reason</c> label on the dropped-points counter).</summary>
internal static class MetricDropReasons
{
    /// <summary>Outside <c>gen_ai.*</c> and <c>perfotel.*</c> (or the collector's own <c>perfotel.collector.*</c>): not kept, by design.</summary>
    public const string OtherMetric = "other_metric";

    /// <summary>Refused in partial_success: exponential histograms, summaries, malformed points.</summary>
    public const string Rejected = "rejected";

    /// <summary>A new series beyond <c>Cardinality:MaxMetricSeriesPerTenant</c>; refused in partial_success.</summary>
    public const string SeriesLimit = "series_limit";

    /// <summary>A cumulative or gauge point older than the one already kept for its series, or a delta point that overlaps one already added (a retry).</summary>
    public const string OutOfOrder = "out_of_order";

    /// <summary>Its Prometheus name is already a family of another type; refused in partial_success.</summary>
    public const string ConflictingType = "conflicting_type";
}

/// <summary>
/// One update of one series, as read from an OTLP data point (the mapping has decided the name, type and labels).
/// Histogram bucket counts are per bucket, not cumulative.
/// </summary>
internal readonly record struct MetricPointUpdate(
    string MetricName,
    string Tenant,
    PrometheusMetricFamily Family,
    string LabelKey,
    byte[] Labels,
    bool Delta,
    ulong StartNanos,
    ulong TimeNanos,
    double Value,
    double[]? Bounds = null,
    ulong[]? BucketCounts = null,
    double? Sum = null,
    ulong Count = 0,
    bool NoRecordedValue = false);

/// <summary>
/// The re-exposed series, in memory only (docs/collector/otlp-metrics.md): the latest cumulative state of every
/// series a producer pushed, with delta points accumulated into cumulative ones, bounded per tenant, and forgotten
/// <see cref="OtlpMetricsOptions.StaleAfter"/> after its producer last pushed it. Thread-safe: one lock, held for a
/// request's points or one scrape (metric pushes are a few per producer a minute).
/// </summary>
internal sealed class LiveMetricSeries
{
    private readonly Lock gate = new();
    private readonly SortedDictionary<string, FamilyState> families = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> seriesPerTenant = new(StringComparer.Ordinal);
    private readonly TimeProvider time;
    private readonly TimeSpan staleAfter;
    private DateTimeOffset lastSweep;

    public LiveMetricSeries(int maxSeriesPerTenant, TimeSpan staleAfter, TimeProvider time)
    {
        MaxSeriesPerTenant = maxSeriesPerTenant;
        this.staleAfter = staleAfter;
        this.time = time;
        lastSweep = time.GetUtcNow();
    }

    public int MaxSeriesPerTenant { get; }

    /// <summary>
    /// Applies the points of one request at once (a scrape sees a request whole, never half of it): for each point,
    /// null when kept, else the reason it was dropped (<see cref="MetricDropReasons"/>).
    /// </summary>
    public string?[] Apply(IReadOnlyList<MetricPointUpdate> points)
    {
        var outcomes = new string?[points.Count];
        var now = time.GetUtcNow();
        lock (gate)
        {
            for (var i = 0; i < points.Count; i++)
            {
                var point = points[i];
                outcomes[i] = point.NoRecordedValue ? RemoveLocked(point) : ApplyLocked(point, now);
            }

            if (now - lastSweep > staleAfter)
            {
                SweepLocked(now);
            }
        }

        return outcomes;
    }

    private string? ApplyLocked(in MetricPointUpdate point, DateTimeOffset now)
    {
        if (families.TryGetValue(point.Family.Name, out var family))
        {
            if (family.Family.Kind != point.Family.Kind)
            {
                return MetricDropReasons.ConflictingType;
            }
        }
        else
        {
            family = new FamilyState(point.Family);
        }

        if (!family.Series.TryGetValue(point.LabelKey, out var series))
        {
            var count = seriesPerTenant.GetValueOrDefault(point.Tenant);
            if (count >= MaxSeriesPerTenant)
            {
                return MetricDropReasons.SeriesLimit;
            }

            seriesPerTenant[point.Tenant] = count + 1;
            families.TryAdd(point.Family.Name, family);
            series = new SeriesState(point.Tenant, point.Labels);
            family.Series[point.LabelKey] = series;
            series.Reset(point);
        }
        else if (!series.Update(point))
        {
            return MetricDropReasons.OutOfOrder;
        }

        series.LastSeen = now;
        return null;
    }

    // A producer said the series has no value any more (OTLP's no-recorded-value flag): it leaves at once.
    private string? RemoveLocked(in MetricPointUpdate point)
    {
        if (families.TryGetValue(point.Family.Name, out var family) && family.Series.Remove(point.LabelKey, out var series))
        {
            Forget(series);
            if (family.Series.Count == 0)
            {
                families.Remove(point.Family.Name);
            }
        }

        return null;
    }

    /// <summary>Writes every live series, families sorted by name and series by labels, after dropping stale ones.</summary>
    public void Write(PrometheusProducerWriter writer)
    {
        lock (gate)
        {
            SweepLocked(time.GetUtcNow());
            foreach (var family in families.Values)
            {
                writer.BeginFamily(family.Family);
                foreach (var series in family.Series.Values)
                {
                    series.Write(writer, family.Family.Kind);
                }
            }
        }
    }

    /// <summary>Live series per tenant (for the self-metric).</summary>
    public IReadOnlyList<(string Tenant, int Series)> SeriesByTenant()
    {
        lock (gate)
        {
            SweepLocked(time.GetUtcNow());
            return seriesPerTenant.Select(t => (t.Key, t.Value)).ToList();
        }
    }

    private void SweepLocked(DateTimeOffset now)
    {
        lastSweep = now;
        List<string>? emptyFamilies = null;
        foreach (var (name, family) in families)
        {
            List<string>? stale = null;
            foreach (var (key, series) in family.Series)
            {
                if (now - series.LastSeen > staleAfter)
                {
                    (stale ??= []).Add(key);
                }
            }

            foreach (var key in stale ?? [])
            {
                family.Series.Remove(key, out var series);
                Forget(series!);
            }

            if (family.Series.Count == 0)
            {
                (emptyFamilies ??= []).Add(name);
            }
        }

        foreach (var name in emptyFamilies ?? [])
        {
            families.Remove(name);
        }
    }

    private void Forget(SeriesState series)
    {
        var left = seriesPerTenant[series.Tenant] - 1;
        if (left == 0)
        {
            seriesPerTenant.Remove(series.Tenant);
        }
        else
        {
            seriesPerTenant[series.Tenant] = left;
        }
    }

    private sealed class FamilyState(PrometheusMetricFamily family)
    {
        public PrometheusMetricFamily Family { get; } = family;

        public SortedDictionary<string, SeriesState> Series { get; } = new(StringComparer.Ordinal);
    }

    private sealed class SeriesState(string tenant, byte[] labels)
    {
        private bool delta;
        private ulong startNanos;
        private ulong lastNanos;
        private double value;
        private double[] bounds = [];
        private ulong[] buckets = [];
        private double? sum;
        private ulong count;

        public string Tenant { get; } = tenant;

        public DateTimeOffset LastSeen { get; set; }

        public void Reset(in MetricPointUpdate point)
        {
            delta = point.Delta;
            startNanos = point.StartNanos;
            lastNanos = point.TimeNanos;
            value = point.Value;
            bounds = point.Bounds ?? [];
            buckets = point.BucketCounts is { } counts ? (ulong[])counts.Clone() : [];
            sum = point.Sum;
            count = point.Count;
        }

        /// <summary>False when the point is older than what is kept (or, for deltas, overlaps what was added).</summary>
        public bool Update(in MetricPointUpdate point)
        {
            if (point.Delta != delta)
            {
                // The producer changed temporality (a restart with another configuration): start over.
                Reset(point);
                return true;
            }

            if (!delta)
            {
                // Cumulative or gauge: the newest point wins. A new start time is a producer restart: the value
                // starts over and Prometheus sees a counter reset, as it would scraping the producer itself.
                if (point.StartNanos == startNanos && point.TimeNanos < lastNanos)
                {
                    return false;
                }

                Reset(point);
                return true;
            }

            // Delta: each point covers (start, time]; one that starts before the last one added ended is a retry of
            // data already added (or out of order) and is dropped rather than counted twice.
            if (point.StartNanos != 0 && point.StartNanos < lastNanos)
            {
                return false;
            }

            if (point.Bounds is { } newBounds && !newBounds.AsSpan().SequenceEqual(bounds))
            {
                // New bucket bounds cannot be added to the old ones: the series starts over (a reset for Prometheus).
                Reset(point);
                return true;
            }

            lastNanos = Math.Max(lastNanos, point.TimeNanos);
            value += point.Value;
            count += point.Count;
            sum = sum is { } kept && point.Sum is { } added ? kept + added : null;
            if (point.BucketCounts is { } counts)
            {
                for (var i = 0; i < counts.Length && i < buckets.Length; i++)
                {
                    buckets[i] += counts[i];
                }
            }

            return true;
        }

        public void Write(PrometheusProducerWriter writer, PrometheusMetricKind kind)
        {
            DateTimeOffset? created = startNanos == 0 ? null : DateTimeOffset.UnixEpoch.AddTicks((long)(startNanos / 100));
            switch (kind)
            {
                case PrometheusMetricKind.Counter:
                    writer.WriteCounter(labels, value, created);
                    break;
                case PrometheusMetricKind.Histogram:
                    writer.WriteHistogram(labels, bounds, buckets, sum, count, created);
                    break;
                default:
                    writer.WriteGauge(labels, value);
                    break;
            }
        }
    }
}

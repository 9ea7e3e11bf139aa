using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using PerfOtel.Exporter;
using PerfOtel.Instrumentation.Conventions;
using PerfOtel.Collector.Derived.Analytics;
using PerfOtel.Collector.Derived.Analytics.Reports;
using PerfOtel.Collector.Derived.Analytics.Windows;
using PerfOtel.Collector.Derived.Coordination;
using PerfOtel.Collector.Derived.Kernel;
using PerfOtel.Collector.Telemetry;
using C = PerfOtel.Collector.Telemetry.AnalyticsMetricCatalog;

namespace PerfOtel.Collector.Exposure.Metrics;

/// <summary>
/// The gauges of <see cref="AnalyticsMetricCatalog"/>, written straight into the collector's scrape by PerfOtel.Exporter
/// (<see cref="IPrometheusMetricProducer"/>). A fleet of 1 000 agents x 2 windows is about 60 000 series: as observable
/// instruments each value went through the SDK's aggregation on every collection (two thirds of a 60 ms scrape). Here
/// each (agent, window) report is encoded once, into one byte array with every family's lines, when the report changes;
/// a scrape copies those arrays. Values that are withheld (no data, too few calibration samples) are not written, so
/// their series are absent rather than zero.
/// </summary>
internal sealed class AnalyticsExposition : IPrometheusMetricProducer
{
    // Label pairs that differ per sample, encoded once for the whole process.
    private static readonly byte[][] BinLabels = Enumerable.Range(0, 100)
        .Select(i => PrometheusLabels.Encode(KeyValuePair.Create(C.BinLabel, i.ToString(CultureInfo.InvariantCulture)))).ToArray();

    private static readonly byte[][] OutcomeLabels = new[] { Outcomes.Success, Outcomes.Failure, Outcomes.Partial }
        .Select(outcome => PrometheusLabels.Encode(KeyValuePair.Create(C.OutcomeLabel, outcome))).ToArray();

    private static readonly ConcurrentDictionary<string, byte[]> TrendLabels = new(StringComparer.Ordinal);

    /// <summary>Every per-agent family in exposition order, with how an (agent, window) report writes its samples.</summary>
    private static readonly FamilyWriter[] AgentFamilies =
    [
        Gauge(C.HealthScore, r => r.HealthScore),
        Gauge(C.SuccessRatio, r => r.SuccessRate),
        Gauge(C.ErrorRatio, r => r.ErrorRate),
        Gauge(C.LatencyP95, r => r.LatencyP95Seconds),
        Gauge(C.Accuracy, r => r.Accuracy),
        Gauge(C.Quality, r => r.Quality),
        Gauge(C.CalibrationError, r => r.Calibration.ExpectedCalibrationError),
        Gauge(C.CalibrationMaxError, r => r.Calibration.MaximumCalibrationError),
        Gauge(C.BrierScore, r => r.Calibration.BrierScore),
        Gauge(C.Overconfidence, r => r.Calibration.Overconfidence),
        Gauge(C.ReliabilityScore, r => r.ReliabilityScore),
        Gauge(C.EfficiencyScore, r => r.EfficiencyScore),
        Gauge(C.SpecializationScore, r => r.SpecializationScore),
        Gauge(C.AnomalyScore, r => r.Anomaly.Score),
        new(C.Trend, WriteTrends),
        BinGauge(C.CalibrationBinSuccessRatio, withheldBelowMinimum: true, b => b.SuccessRate),
        BinGauge(C.CalibrationBinConfidence, withheldBelowMinimum: true, b => b.MeanConfidence),
        BinGauge(C.CalibrationBinSamples, withheldBelowMinimum: false, b => b.Samples),
        BinGauge(C.CalibrationBinConfidenceSum, withheldBelowMinimum: false, b => b.ConfidenceSum),
        BinGauge(C.CalibrationBinSuccesses, withheldBelowMinimum: false, b => b.Successes),
        Gauge(C.BrierSquaredErrorSum, r => r.Calibration.Samples > 0 ? r.Calibration.SquaredErrorSum : null),
        Gauge(C.AccuracySum, r => r.AccuracySamples > 0 ? r.AccuracySum : null),
        Gauge(C.AccuracySamples, r => r.AccuracySamples > 0 ? r.AccuracySamples : null),
        Gauge(C.QualitySum, r => r.QualitySamples > 0 ? r.QualitySum : null),
        Gauge(C.QualitySamples, r => r.QualitySamples > 0 ? r.QualitySamples : null),
        new(C.Invocations, WriteInvocationsByOutcome),
        Gauge(C.DurationSum, r => r.Invocations > 0 ? r.DurationSumSeconds : null),
        Gauge(C.Tokens, r => r.ProviderCalls > 0 ? r.Tokens : null),
        Gauge(C.CostUsd, r => r.ProviderCalls > 0 ? r.CostUsd : null),
    ];

    private static readonly PrometheusGaugeFamily TenantHealthFamily = Family(C.TenantHealthScore);

    private static readonly PrometheusGaugeFamily LastSeenFamily = Family(C.AgentLastSeen);

    private readonly RollingWindows windows;
    private readonly DerivationRole? role;
    private readonly Lock buildGate = new();
    private readonly long maximumStalenessTicks;
    private Snapshot? snapshot;
    private int refreshers;
    private long builds;

    public AnalyticsExposition(RollingWindows windows, DerivationRole? role = null)
    {
        this.windows = windows;
        this.role = role;
        maximumStalenessTicks = (long)(2 * windows.Options.ExpositionRefreshInterval.TotalSeconds * Stopwatch.Frequency);
    }

    /// <summary>Encodings built so far (by scrapes or the refresher).</summary>
    internal long Builds => Interlocked.Read(ref builds);

    /// <summary>
    /// Brings the encoding up to date; called by <see cref="AnalyticsExpositionRefresher"/>. While a refresher runs,
    /// scrapes serve its latest encoding if it is recent enough instead of deriving themselves.
    /// </summary>
    internal void Refresh()
    {
        // Compressing here, in the background, spares the next gzip scrape (every Prometheus scrape) that work;
        // blocks carried over from the previous encoding are compressed already.
        foreach (var block in Current(allowStale: false).FamilyBlocks)
        {
            block.Compress();
        }
    }

    /// <summary>A refresher started (true) or stopped (false).</summary>
    internal void RefresherRunning(bool running) => Interlocked.Add(ref refreshers, running ? 1 : -1);

    /// <summary>The definitions this producer writes, in order (a test checks they are exactly the catalog).</summary>
    internal static IEnumerable<MetricDefinition> Definitions =>
        AgentFamilies.Select(f => f.Definition).Append(C.TenantHealthScore).Append(C.AgentLastSeen);

    /// <summary>The Prometheus family of a definition, named by the exporter's rules from its OpenTelemetry name and unit.</summary>
    internal static PrometheusGaugeFamily Family(MetricDefinition definition) =>
        new(definition.Name, definition.Unit, definition.Description);

    public void Produce(PrometheusProducerWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (role is { IsDeriving: false })
        {
            return; // a replica that does not derive exposes no derived series (docs/collector/scale-out.md)
        }
        var current = Current(allowStale: Volatile.Read(ref refreshers) > 0);
        for (var f = 0; f < AgentFamilies.Length; f++)
        {
            writer.BeginFamily(AgentFamilies[f].Family);
            writer.WriteSamples(current.FamilyBlocks[f]);
        }

        writer.BeginFamily(TenantHealthFamily);
        writer.WriteSamples(current.TenantBlock);
        writer.BeginFamily(LastSeenFamily);
        writer.WriteSamples(current.LastSeenBlock);
    }

    /// <summary>
    /// The encoded exposition, reused until a window changes or the clock enters a new second (or, with
    /// <paramref name="allowStale"/>, while it is younger than twice the refresh interval). When it is rebuilt, an
    /// (agent, window) whose report object is unchanged keeps its encoding, so only changed agents are encoded again.
    /// </summary>
    private Snapshot Current(bool allowStale)
    {
        var changes = windows.Changes;
        var tick = windows.Now.UtcTicks / TimeSpan.TicksPerSecond;
        var latest = Volatile.Read(ref snapshot);
        if (latest is not null && (latest.Changes == changes && latest.Tick == tick
            || allowStale && Stopwatch.GetTimestamp() - latest.BuiltAt <= maximumStalenessTicks))
        {
            return latest;
        }

        lock (buildGate)
        {
            // Another caller may have built it while this one waited.
            latest = Volatile.Read(ref snapshot);
            if (latest is not null && latest.Changes == changes && latest.Tick == tick)
            {
                return latest;
            }

            var built = Build(latest, changes, tick);
            Volatile.Write(ref snapshot, built);
            Interlocked.Increment(ref builds);
            return built;
        }
    }

    private Snapshot Build(Snapshot? previous, long changes, long tick)
    {
        var reused = new Dictionary<(AgentWindows, int), Entry>(previous?.Entries.Count ?? 0);
        foreach (var entry in previous?.Entries ?? [])
        {
            reused[(entry.Agent, entry.Window)] = entry;
        }

        var scratch = new ArrayBufferWriter<byte>(16 * 1024);
        var entries = new List<Entry>(reused.Count);
        foreach (var agent in windows.AllAgents)
        {
            for (var w = 0; w < windows.Windows.Count; w++)
            {
                var report = windows.Report(agent, w);
                if (report.Invocations == 0 && report.ProviderCalls == 0 && report.AccuracySamples == 0)
                {
                    continue;
                }

                entries.Add(reused.TryGetValue((agent, w), out var old) && ReferenceEquals(old.Report, report)
                    ? old
                    : new Entry(agent, w, report, scratch));
            }
        }

        // The clock ticking into a new second rarely changes a report: then the family blocks stay as they were.
        var blocks = previous is not null && previous.Entries.SequenceEqual(entries, ReferenceEqualityComparer.Instance)
            ? previous.FamilyBlocks
            : FamilyBlocks(entries);
        return new Snapshot(changes, tick, Stopwatch.GetTimestamp(), entries, blocks, TenantBlock(scratch), LastSeenBlock(scratch));
    }

    /// <summary>Every family's lines of all entries, one array per family: an unchanged fleet's scrape is one copy per family.</summary>
    private static PrometheusCompressedSamples[] FamilyBlocks(List<Entry> entries)
    {
        var blocks = new PrometheusCompressedSamples[AgentFamilies.Length];
        for (var f = 0; f < blocks.Length; f++)
        {
            var length = 0;
            foreach (var entry in entries)
            {
                length += entry.Samples(f).Length;
            }

            var block = GC.AllocateUninitializedArray<byte>(length);
            var at = 0;
            foreach (var entry in entries)
            {
                var samples = entry.Samples(f);
                samples.CopyTo(block.AsSpan(at));
                at += samples.Length;
            }

            blocks[f] = new PrometheusCompressedSamples(block);
        }

        return blocks;
    }

    private byte[] TenantBlock(ArrayBufferWriter<byte> scratch)
    {
        scratch.ResetWrittenCount();
        foreach (var tenant in windows.Tenants())
        {
            for (var w = 0; w < windows.Windows.Count; w++)
            {
                if (windows.TenantReport(tenant, w).HealthScore is { } score)
                {
                    TenantHealthFamily.WriteSample(scratch, PrometheusLabels.Encode(
                        KeyValuePair.Create(C.TenantLabel, tenant), KeyValuePair.Create(C.WindowLabel, windows.Windows[w].Name)), score);
                }
            }
        }

        return scratch.WrittenSpan.ToArray();
    }

    /// <summary>One sample per (tenant, agent), not per window: when the agent was last seen does not depend on a window.</summary>
    private byte[] LastSeenBlock(ArrayBufferWriter<byte> scratch)
    {
        scratch.ResetWrittenCount();
        foreach (var agent in windows.AllAgents)
        {
            if (agent.LastSeen is { } seen)
            {
                LastSeenFamily.WriteSample(scratch, PrometheusLabels.Encode(
                    KeyValuePair.Create(C.TenantLabel, agent.Tenant), KeyValuePair.Create(C.AgentLabel, agent.Agent)),
                    (seen - DateTimeOffset.UnixEpoch).TotalSeconds);
            }
        }

        return scratch.WrittenSpan.ToArray();
    }

    private sealed record Snapshot(long Changes, long Tick, long BuiltAt, List<Entry> Entries, PrometheusCompressedSamples[] FamilyBlocks, byte[] TenantBlock, byte[] LastSeenBlock);

    private static FamilyWriter Gauge(MetricDefinition definition, Func<AgentReport, double?> value) =>
        new(definition, (family, report, labels, destination) =>
        {
            if (value(report) is { } v)
            {
                family.WriteSample(destination, labels, v);
            }
        });

    private static FamilyWriter BinGauge(MetricDefinition definition, bool withheldBelowMinimum, Func<CalibrationBinReport, double?> value) =>
        new(definition, (family, report, labels, destination) =>
        {
            if (withheldBelowMinimum && report.Calibration.Withheld)
            {
                return;
            }

            foreach (var bin in report.Calibration.Bins)
            {
                if (bin.Samples > 0 && value(bin) is { } v)
                {
                    family.WriteSample(destination, labels, BinLabels[bin.Bin], v);
                }
            }
        });

    private static void WriteTrends(PrometheusGaugeFamily family, AgentReport report, byte[] labels, IBufferWriter<byte> destination)
    {
        foreach (var (metric, direction) in report.Trends)
        {
            family.WriteSample(destination, labels, TrendLabels.GetOrAdd(metric, m => PrometheusLabels.Encode(KeyValuePair.Create(C.MetricLabel, m))), direction);
        }
    }

    private static void WriteInvocationsByOutcome(PrometheusGaugeFamily family, AgentReport report, byte[] labels, IBufferWriter<byte> destination)
    {
        if (report.Invocations == 0)
        {
            return;
        }

        family.WriteSample(destination, labels, OutcomeLabels[0], report.Successes);
        family.WriteSample(destination, labels, OutcomeLabels[1], report.Failures);
        family.WriteSample(destination, labels, OutcomeLabels[2], report.Partials);
    }

    private delegate void WriteSamples(PrometheusGaugeFamily family, AgentReport report, byte[] labels, IBufferWriter<byte> destination);

    private sealed class FamilyWriter(MetricDefinition definition, WriteSamples write)
    {
        public MetricDefinition Definition { get; } = definition;

        public PrometheusGaugeFamily Family { get; } = AnalyticsExposition.Family(definition);

        public void Write(AgentReport report, byte[] labels, IBufferWriter<byte> destination) => write(Family, report, labels, destination);
    }

    /// <summary>One (agent, window) report with every family's sample lines, encoded once into one array.</summary>
    private sealed class Entry
    {
        private readonly byte[] lines;
        private readonly int[] offsets;

        public Entry(AgentWindows agent, int window, AgentReport report, ArrayBufferWriter<byte> scratch)
        {
            Agent = agent;
            Window = window;
            Report = report;
            var labels = PrometheusLabels.Encode(
                KeyValuePair.Create(C.TenantLabel, report.Tenant), KeyValuePair.Create(C.AgentLabel, report.Agent ?? string.Empty), KeyValuePair.Create(C.WindowLabel, report.Window));
            scratch.ResetWrittenCount();
            offsets = new int[AgentFamilies.Length + 1];
            for (var f = 0; f < AgentFamilies.Length; f++)
            {
                offsets[f] = scratch.WrittenCount;
                AgentFamilies[f].Write(report, labels, scratch);
            }

            offsets[^1] = scratch.WrittenCount;
            lines = scratch.WrittenSpan.ToArray();
        }

        public AgentWindows Agent { get; }

        public int Window { get; }

        public AgentReport Report { get; }

        public ReadOnlySpan<byte> Samples(int family) => lines.AsSpan(offsets[family], offsets[family + 1] - offsets[family]);
    }
}

using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using PerfOtel.Collector.Telemetry;

namespace PerfOtel.Benchmarks.Ingest;

/// <summary>
/// The collector's own view of a run, read from its <c>/metrics</c> at the end: how long its store's commits, WAL
/// flushes and checkpoints took and how long applying each batch to the derivations took (the self-metrics of
/// <see cref="SelfMetricCatalog"/>), so a latency tail can be put beside what the writer was doing.
/// </summary>
internal static partial class CollectorSelfMetrics
{
    private static readonly (string Label, string Family)[] Histograms =
    [
        ("store writes (plan, queue and COMMIT, as the ingest writer sees them)", SelfMetricCatalog.StoreWriteDuration.PrometheusName),
        ("commits (SQLite writer: first statement to COMMIT)", SelfMetricCatalog.StoreCommitDuration.PrometheusName),
        ("WAL flushes (fsync)", SelfMetricCatalog.StoreWalFlushDuration.PrometheusName),
        ("checkpoints", SelfMetricCatalog.StoreCheckpointDuration.PrometheusName),
        ("applying a batch to the derivations and answering", SelfMetricCatalog.IngestApplyDuration.PrometheusName),
        ("a trace export's phases (receive, decode, queue, write, durable, apply, answer)", SelfMetricCatalog.IngestPhaseDuration.PrometheusName),
    ];

    /// <summary>One line per histogram series: count, mean, the bucket holding the 99th percentile and the highest.</summary>
    public static async Task<string> DescribeAsync(Uri collector)
    {
        string text;
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            text = await http.GetStringAsync(new Uri(collector, "metrics"));
        }
        catch (HttpRequestException error)
        {
            return $"  the collector's /metrics could not be read: {error.Message}";
        }

        var output = new StringBuilder("  the collector's own view (its /metrics at the end, whole run; bucket bounds in ms):\n");
        foreach (var (label, family) in Histograms)
        {
            foreach (var series in Read(text, family))
            {
                var p99 = series.Bound(0.99);
                output.Append(CultureInfo.InvariantCulture,
                    $"    {label}{series.Labels}: {series.Count}, mean {series.Sum / Math.Max(1, series.Count) * 1000:F1} ms, 99 % within {p99}, all within {series.Bound(1.0)}, {series.Above(0.1)} above 100\n");
            }
        }
        var pages = SelfMetricCatalog.StoreCheckpointPages.PrometheusName;
        foreach (var line in text.Split('\n').Where(l => l.StartsWith(pages + "{", StringComparison.Ordinal)))
        {
            var labels = line[(pages.Length + 1)..line.IndexOf('}', StringComparison.Ordinal)];
            output.Append(CultureInfo.InvariantCulture,
                $"    checkpoint pages copied {{{OtherLabels(labels)}}}: {line[(line.IndexOf('}', StringComparison.Ordinal) + 1)..].Trim()}\n");
        }
        var frames = SelfMetricCatalog.StoreWalFrames.PrometheusName;
        foreach (var line in text.Split('\n').Where(l => l.StartsWith(frames, StringComparison.Ordinal) && !l.StartsWith(frames + "_", StringComparison.Ordinal)))
        {
            output.Append(CultureInfo.InvariantCulture,
                $"    WAL frames written by the commits (each copied once by a checkpoint): {line[(line.LastIndexOf(' ') + 1)..].Trim()}\n");
        }
        return output.ToString().TrimEnd('\n');
    }

    private static List<Series> Read(string text, string family)
    {
        var series = new Dictionary<string, Series>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (!line.StartsWith(family, StringComparison.Ordinal))
            {
                continue;
            }
            var match = SampleLine().Match(line[family.Length..]);
            if (!match.Success)
            {
                continue;
            }
            var labels = match.Groups[2].Value;
            var le = LeLabel().Match(labels);
            var key = LeLabel().Replace(labels, "").Trim(',');
            key = OtherLabels(key);
            if (!series.TryGetValue(key, out var entry))
            {
                series[key] = entry = new Series(key.Length == 0 ? "" : $" {{{key}}}");
            }
            var value = double.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture);
            switch (match.Groups[1].Value)
            {
                case "_bucket" when le.Success:
                    entry.Buckets.Add((le.Groups[1].Value == "+Inf" ? double.PositiveInfinity : double.Parse(le.Groups[1].Value, CultureInfo.InvariantCulture), value));
                    break;
                case "_sum":
                    entry.Sum = value;
                    break;
                case "_count":
                    entry.Count = (long)value;
                    break;
            }
        }
        return [.. series.Values.Where(s => s.Count > 0)];
    }

    /// <summary>The series' own labels without the exporter's scope labels.</summary>
    private static string OtherLabels(string labels) => string.Join(',', labels.Split(',', StringSplitOptions.RemoveEmptyEntries)
        .Where(l => !l.StartsWith("otel_scope", StringComparison.Ordinal)));

    private sealed class Series(string labels)
    {
        public string Labels { get; } = labels;
        public List<(double Bound, double Cumulative)> Buckets { get; } = [];
        public double Sum { get; set; }
        public long Count { get; set; }

        /// <summary>How many took longer than <paramref name="bound"/> seconds (a bucket bound).</summary>
        public long Above(double bound) =>
            Count - (long)Buckets.Where(b => Math.Abs(b.Bound - bound) < 1e-9).Select(b => b.Cumulative).DefaultIfEmpty(Count).First();

        /// <summary>The upper bound, in ms, of the first bucket holding the quantile ("> last bound" above them all).</summary>
        public string Bound(double quantile)
        {
            var wanted = Math.Ceiling(quantile * Count);
            var ordered = Buckets.OrderBy(b => b.Bound).ToList();
            foreach (var (bound, cumulative) in ordered)
            {
                if (cumulative >= wanted)
                {
                    return double.IsPositiveInfinity(bound)
                        ? $"> {ordered.Where(b => !double.IsPositiveInfinity(b.Bound)).Max(b => b.Bound) * 1000:0.#}"
                        : (bound * 1000).ToString("0.#", CultureInfo.InvariantCulture);
                }
            }
            return "?";
        }
    }

    [GeneratedRegex(@"^(_bucket|_sum|_count)(?:\{([^}]*)\})?\s+(\S+)")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@",?le=""([^""]+)""")]
    private static partial Regex LeLabel();
}

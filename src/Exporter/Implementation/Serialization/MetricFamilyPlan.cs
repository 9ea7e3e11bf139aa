using OpenTelemetry.Metrics;

namespace PerfOtel.Exporter.Implementation.Serialization;

/// <summary>One Prometheus metric family: its metadata lines for both formats and the streams exposed under it.</summary>
internal sealed class MetricFamily
{
    public MetricFamily(string name, PrometheusType type, byte[] textHeader, byte[] openMetricsHeader, MetricStreamLayout[] members)
    {
        Name = name;
        Type = type;
        TextHeader = textHeader;
        OpenMetricsHeader = openMetricsHeader;
        Members = members;
    }

    public string Name { get; }

    public PrometheusType Type { get; }

    public byte[] TextHeader { get; }

    public byte[] OpenMetricsHeader { get; }

    public MetricStreamLayout[] Members { get; }
}

/// <summary>
/// The order and grouping of families for the current set of metric streams. OpenTelemetry names that translate to
/// the same Prometheus name are merged into one family, deterministically: families sorted by name, members by
/// (metric name, meter name, meter version); the first member sets TYPE, HELP and UNIT, and members of another TYPE
/// are dropped with a self-diagnostic, as the compatibility specification requires. Rebuilt only when the SDK's set of
/// streams changes, which after start-up is rare.
/// </summary>
internal sealed class MetricFamilyPlan
{
    private readonly Dictionary<Metric, MetricStreamLayout> layouts = new(ReferenceEqualityComparer.Instance);
    private readonly List<Metric> planned = [];
    private readonly bool addTotalSuffix;
    private readonly bool emitScopeLabels;

    public MetricFamilyPlan(bool addTotalSuffix, bool emitScopeLabels)
    {
        this.addTotalSuffix = addTotalSuffix;
        this.emitScopeLabels = emitScopeLabels;
    }

    public MetricFamily[] Families { get; private set; } = [];

    /// <summary>Brings the plan up to date with the metrics of this collection.</summary>
    public void Update(List<Metric> current)
    {
        if (SameMetrics(current))
        {
            return;
        }

        var stillPresent = new HashSet<Metric>(current, ReferenceEqualityComparer.Instance);
        foreach (var gone in layouts.Keys.Where(m => !stillPresent.Contains(m)).ToList())
        {
            layouts.Remove(gone);
        }

        var byFamily = new Dictionary<string, List<MetricStreamLayout>>(StringComparer.Ordinal);
        foreach (var metric in current)
        {
            if (!layouts.TryGetValue(metric, out var layout))
            {
                layout = new MetricStreamLayout(metric, addTotalSuffix, emitScopeLabels);
                layouts[metric] = layout;
            }

            if (!byFamily.TryGetValue(layout.FamilyName, out var members))
            {
                members = [];
                byFamily[layout.FamilyName] = members;
            }

            members.Add(layout);
        }

        var families = new List<MetricFamily>(byFamily.Count);
        var claimedNames = new Dictionary<string, MetricStreamLayout>(StringComparer.Ordinal);
        foreach (var (name, members) in byFamily.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            members.Sort(CompareMembers);
            var first = members[0];

            // Different family names can still produce the same sample name (a counter "x" and a gauge "x_total"):
            // the later family loses, so no sample name appears under two TYPEs.
            var exposedNames = first.Names.ExposedNames;
            if (exposedNames.FirstOrDefault(claimedNames.ContainsKey) is { } taken)
            {
                foreach (var member in members)
                {
                    PerfOtelExporterEventSource.Log.ConflictingTypeDropped(
                        taken, member.Metric.Name, member.Metric.MeterName, claimedNames[taken].Type.ToString());
                }

                continue;
            }

            foreach (var exposed in exposedNames)
            {
                claimedNames[exposed] = first;
            }

            var kept = new List<MetricStreamLayout>(members.Count);
            foreach (var member in members)
            {
                if (member.Type != first.Type)
                {
                    PerfOtelExporterEventSource.Log.ConflictingTypeDropped(
                        name, member.Metric.Name, member.Metric.MeterName, first.Type.ToString());
                    continue;
                }

                if (!ReferenceEquals(member, first)
                    && (member.Metric.Description != first.Metric.Description || member.Names.UnitWord != first.Names.UnitWord))
                {
                    PerfOtelExporterEventSource.Log.ConflictingMetadataMerged(name, first.Metric.Name);
                }

                kept.Add(member);
            }

            families.Add(new MetricFamily(
                name,
                first.Type,
                first.Names.TextHeader(first.Metric.Description),
                first.Names.OpenMetricsHeader(first.Metric.Description),
                kept.ToArray()));
        }

        Families = families.ToArray();
        planned.Clear();
        planned.AddRange(current);
    }

    private bool SameMetrics(List<Metric> current)
    {
        if (current.Count != planned.Count)
        {
            return false;
        }

        for (var i = 0; i < current.Count; i++)
        {
            if (!ReferenceEquals(current[i], planned[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static int CompareMembers(MetricStreamLayout left, MetricStreamLayout right)
    {
        var byName = string.CompareOrdinal(left.Metric.Name, right.Metric.Name);
        if (byName != 0)
        {
            return byName;
        }

        var byMeter = string.CompareOrdinal(left.Metric.MeterName, right.Metric.MeterName);
        return byMeter != 0 ? byMeter : string.CompareOrdinal(left.Metric.MeterVersion, right.Metric.MeterVersion);
    }
}

/// <summary>HELP / TYPE / UNIT lines of a family, per format.</summary>
internal static class FamilyHeaders
{
    /// <summary>Text format 0.0.4 lines; <paramref name="name"/> is the sample name (counters with <c>_total</c>).</summary>
    public static byte[] Text(string name, PrometheusType type, string? description)
    {
        using var buffer = new ExpositionBuffer(512);
        if (!string.IsNullOrEmpty(description))
        {
            buffer.Write("# HELP "u8);
            buffer.WriteUtf8(name);
            buffer.Write((byte)' ');
            buffer.WriteEscapedHelp(description, escapeQuote: false);
            buffer.Write((byte)'\n');
        }

        buffer.Write("# TYPE "u8);
        buffer.WriteUtf8(name);
        buffer.Write(TypeWord(type));
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>OpenMetrics 1.0 lines; <paramref name="name"/> is the family name (no <c>_total</c>).</summary>
    public static byte[] OpenMetrics(string name, PrometheusType type, string unitWord, string? description)
    {
        using var buffer = new ExpositionBuffer(512);
        buffer.Write("# TYPE "u8);
        buffer.WriteUtf8(name);
        buffer.Write(TypeWord(type));

        // OpenMetrics only allows a UNIT whose word is the family name's suffix (Prometheus rejects the scrape otherwise).
        if (unitWord.Length > 0 && name.EndsWith("_" + unitWord, StringComparison.Ordinal))
        {
            buffer.Write("# UNIT "u8);
            buffer.WriteUtf8(name);
            buffer.Write((byte)' ');
            buffer.WriteUtf8(unitWord);
            buffer.Write((byte)'\n');
        }

        if (!string.IsNullOrEmpty(description))
        {
            buffer.Write("# HELP "u8);
            buffer.WriteUtf8(name);
            buffer.Write((byte)' ');
            buffer.WriteEscapedHelp(description, escapeQuote: true);
            buffer.Write((byte)'\n');
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static ReadOnlySpan<byte> TypeWord(PrometheusType type) => type switch
    {
        PrometheusType.Counter => " counter\n"u8,
        PrometheusType.Histogram => " histogram\n"u8,
        _ => " gauge\n"u8,
    };
}

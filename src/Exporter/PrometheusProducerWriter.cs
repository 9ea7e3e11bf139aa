using PerfOtel.Exporter.Implementation;
using PerfOtel.Exporter.Implementation.Serialization;

namespace PerfOtel.Exporter;

/// <summary>
/// Receives the families of an <see cref="IPrometheusMetricProducer"/> for one scrape: <see cref="BeginFamily(PrometheusGaugeFamily)"/> (or <see cref="BeginFamily(PrometheusMetricFamily)"/> for counters and histograms), then
/// that family's sample lines in any number of <see cref="WriteSamples(ReadOnlySpan{byte})"/> calls. A family without samples is not
/// written at all. Valid only during <see cref="IPrometheusMetricProducer.Produce"/>.
/// </summary>
public sealed class PrometheusProducerWriter
{
    private readonly ExpositionBuffer buffer;
    private readonly HashSet<string> claimedNames;
    private PrometheusGaugeFamily? family;
    private PrometheusMetricFamily? metricFamily;
    private bool headerWritten;
    private bool familyDropped;

    internal PrometheusProducerWriter(ExpositionBuffer buffer, ExpositionFormat format, HashSet<string> claimedNames, int seriesBudget)
    {
        this.buffer = buffer;
        this.claimedNames = claimedNames;
        Format = format;
        SeriesBudget = seriesBudget;
    }

    internal ExpositionFormat Format { get; }

    /// <summary>Series that may still be written in this scrape (MaxSeries minus those already written).</summary>
    internal int SeriesBudget { get; private set; }

    /// <summary>Series left out because the scrape reached MaxSeries.</summary>
    internal int DroppedSeries { get; private set; }

    /// <summary>Starts a family; its samples follow.</summary>
    /// <param name="gaugeFamily">The family.</param>
    public void BeginFamily(PrometheusGaugeFamily gaugeFamily)
    {
        ArgumentNullException.ThrowIfNull(gaugeFamily);
        family = gaugeFamily;
        metricFamily = null;
        headerWritten = false;
        familyDropped = claimedNames.Contains(gaugeFamily.Name);
        if (familyDropped)
        {
            PerfOtelExporterEventSource.Log.ProducerFamilyDropped(gaugeFamily.Name);
        }
    }

    /// <summary>Appends sample lines of the current family, as written by <see cref="PrometheusGaugeFamily.WriteSample(System.Buffers.IBufferWriter{byte}, ReadOnlySpan{byte}, double)"/>.</summary>
    /// <param name="samples">Whole lines, each ending with a line feed.</param>
    public void WriteSamples(ReadOnlySpan<byte> samples)
    {
        if (family is null)
        {
            throw new InvalidOperationException("BeginFamily must be called before WriteSamples.");
        }

        if (familyDropped || samples.IsEmpty)
        {
            return;
        }

        var lines = samples.Count((byte)'\n');
        if (lines > SeriesBudget)
        {
            DroppedSeries += lines - SeriesBudget;
            samples = samples[..EndOfLine(samples, SeriesBudget)];
            lines = SeriesBudget;
            if (lines == 0)
            {
                return;
            }
        }

        if (!headerWritten)
        {
            buffer.Write(Format == ExpositionFormat.OpenMetrics ? family.OpenMetricsHeader : family.TextHeader);
            claimedNames.Add(family.Name);
            headerWritten = true;
        }

        buffer.Write(samples);
        SeriesBudget -= lines;
    }

    /// <summary>
    /// Appends sample lines of the current family that carry their own gzip encoding: a gzip scrape sends that
    /// encoding instead of compressing the lines again. Cut by MaxSeries, the lines are written without it.
    /// </summary>
    /// <param name="samples">Whole lines with their gzip encoding.</param>
    public void WriteSamples(PrometheusCompressedSamples samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var start = buffer.Length;
        var budget = SeriesBudget;
        WriteSamples(samples.Samples.Span);
        var written = buffer.Length - start;
        if (written > 0 && budget - SeriesBudget == samples.Samples.Span.Count((byte)'\n'))
        {
            // The header, when this call wrote it, precedes the lines: the encoding covers the lines only.
            buffer.MarkCompressed(buffer.Length - samples.Samples.Length, samples);
        }
    }

    /// <summary>Starts a counter, gauge or histogram family; its series follow, one call each.</summary>
    /// <param name="family">The family.</param>
    public void BeginFamily(PrometheusMetricFamily family)
    {
        ArgumentNullException.ThrowIfNull(family);
        this.family = null;
        metricFamily = family;
        headerWritten = false;
        familyDropped = family.Names.ExposedNames.Any(claimedNames.Contains);
        if (familyDropped)
        {
            PerfOtelExporterEventSource.Log.ProducerFamilyDropped(family.Name);
        }
    }

    /// <summary>Writes one series of the current gauge family.</summary>
    /// <param name="labels">Labels encoded by <see cref="PrometheusLabels.Encode"/> (may be empty).</param>
    /// <param name="value">The value.</param>
    public void WriteGauge(ReadOnlySpan<byte> labels, double value)
    {
        if (StartSeries(PrometheusMetricKind.Gauge) is not { } current)
        {
            return;
        }

        WriteNameAndLabels(current.Names.SampleNameBytes, labels);
        buffer.Write((byte)' ');
        buffer.WriteDouble(value);
        buffer.Write((byte)'\n');
    }

    /// <summary>Writes one series of the current counter family: <c>name_total</c> and, in OpenMetrics, <c>name_created</c>.</summary>
    /// <param name="labels">Labels encoded by <see cref="PrometheusLabels.Encode"/> (may be empty).</param>
    /// <param name="value">The cumulative value.</param>
    /// <param name="created">When the series started counting (written as <c>_created</c> in OpenMetrics), or null.</param>
    public void WriteCounter(ReadOnlySpan<byte> labels, double value, DateTimeOffset? created)
    {
        if (StartSeries(PrometheusMetricKind.Counter) is not { } current)
        {
            return;
        }

        WriteNameAndLabels(current.Names.SampleNameBytes, labels);
        buffer.Write((byte)' ');
        buffer.WriteDouble(value);
        buffer.Write((byte)'\n');
        WriteCreated(current, labels, created);
    }

    /// <summary>
    /// Writes one series of the current histogram family: a cumulative <c>_bucket</c> per bound and <c>+Inf</c> (with
    /// <c>le</c> written as the exporter writes it in each format), <c>_sum</c> when known, <c>_count</c>, and in
    /// OpenMetrics <c>_created</c>.
    /// </summary>
    /// <param name="labels">Labels encoded by <see cref="PrometheusLabels.Encode"/> (may be empty; never <c>le</c>).</param>
    /// <param name="bounds">The explicit bucket bounds, ascending.</param>
    /// <param name="bucketCounts">Observations per bucket (not cumulative): one per bound plus the last (above every bound), or empty.</param>
    /// <param name="sum">The sum of the observations, or null when unknown (no <c>_sum</c> line).</param>
    /// <param name="count">The number of observations.</param>
    /// <param name="created">When the series started counting, or null.</param>
    public void WriteHistogram(ReadOnlySpan<byte> labels, ReadOnlySpan<double> bounds, ReadOnlySpan<ulong> bucketCounts, double? sum, ulong count,
        DateTimeOffset? created)
    {
        if (bucketCounts.Length != 0 && bucketCounts.Length != bounds.Length + 1)
        {
            throw new ArgumentException("bucketCounts must have one element more than bounds, or none.", nameof(bucketCounts));
        }

        if (StartSeries(PrometheusMetricKind.Histogram) is not { } current)
        {
            return;
        }

        var openMetrics = Format == ExpositionFormat.OpenMetrics;
        ulong cumulative = 0;
        for (var i = 0; i < bounds.Length && bucketCounts.Length != 0; i++)
        {
            cumulative += bucketCounts[i];
            WriteBucket(current, labels, bounds[i], cumulative, openMetrics);
        }

        WriteBucket(current, labels, double.PositiveInfinity, count, openMetrics);
        if (sum is { } total)
        {
            WriteNameAndLabels(current.Names.SumNameBytes, labels);
            buffer.Write((byte)' ');
            buffer.WriteDouble(total);
            buffer.Write((byte)'\n');
        }

        WriteNameAndLabels(current.Names.CountNameBytes, labels);
        buffer.Write((byte)' ');
        buffer.WriteLong((long)count);
        buffer.Write((byte)'\n');
        WriteCreated(current, labels, created);
    }

    private PrometheusMetricFamily? StartSeries(PrometheusMetricKind kind)
    {
        if (metricFamily is not { } current || current.Kind != kind)
        {
            throw new InvalidOperationException($"BeginFamily with a {kind} PrometheusMetricFamily must be called before writing its series.");
        }

        if (familyDropped)
        {
            return null;
        }

        if (SeriesBudget == 0)
        {
            DroppedSeries++;
            return null;
        }

        if (!headerWritten)
        {
            buffer.Write(Format == ExpositionFormat.OpenMetrics ? current.OpenMetricsHeader : current.TextHeader);
            foreach (var name in current.Names.ExposedNames)
            {
                claimedNames.Add(name);
            }

            headerWritten = true;
        }

        SeriesBudget--;
        return current;
    }

    private void WriteNameAndLabels(byte[] name, ReadOnlySpan<byte> labels)
    {
        buffer.Write(name);
        if (!labels.IsEmpty)
        {
            buffer.Write((byte)'{');
            buffer.Write(labels);
            buffer.Write((byte)'}');
        }
    }

    private void WriteBucket(PrometheusMetricFamily current, ReadOnlySpan<byte> labels, double bound, ulong cumulative, bool openMetrics)
    {
        buffer.Write(current.Names.BucketNameBytes);
        buffer.Write((byte)'{');
        if (!labels.IsEmpty)
        {
            buffer.Write(labels);
            buffer.Write((byte)',');
        }

        buffer.Write("le=\""u8);
        if (openMetrics)
        {
            buffer.WriteCanonicalDouble(bound);
        }
        else
        {
            buffer.WriteDouble(bound);
        }

        buffer.Write("\"} "u8);
        buffer.WriteLong((long)cumulative);
        buffer.Write((byte)'\n');
    }

    private void WriteCreated(PrometheusMetricFamily current, ReadOnlySpan<byte> labels, DateTimeOffset? created)
    {
        if (Format != ExpositionFormat.OpenMetrics || created is not { } start)
        {
            return;
        }

        WriteNameAndLabels(current.Names.CreatedNameBytes, labels);
        buffer.Write((byte)' ');
        buffer.WriteUnixSeconds(start);
        buffer.Write((byte)'\n');
    }

    private static int EndOfLine(ReadOnlySpan<byte> samples, int lines)
    {
        var end = 0;
        for (var i = 0; i < lines; i++)
        {
            end += samples[end..].IndexOf((byte)'\n') + 1;
        }

        return end;
    }
}

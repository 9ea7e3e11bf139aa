using PerfOtel.Exporter.Implementation;
using PerfOtel.Exporter.Implementation.Serialization;

namespace PerfOtel.Exporter;

/// <summary>
/// Receives the families of an <see cref="IPrometheusMetricProducer"/> for one scrape: <see cref="BeginFamily"/>, then
/// that family's sample lines in any number of <see cref="WriteSamples(ReadOnlySpan{byte})"/> calls. A family without samples is not
/// written at all. Valid only during <see cref="IPrometheusMetricProducer.Produce"/>.
/// </summary>
public sealed class PrometheusProducerWriter
{
    private readonly ExpositionBuffer buffer;
    private readonly HashSet<string> claimedNames;
    private PrometheusGaugeFamily? family;
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

using System.Diagnostics;
using System.Globalization;
using System.Text;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using PerfOtel.Exporter.Implementation.Naming;

namespace PerfOtel.Exporter.Implementation.Serialization;

/// <summary>
/// Writes one scrape of metric streams in the Prometheus text 0.0.4 or OpenMetrics 1.0 format into a reused buffer.
/// Not thread-safe: the exporter serialises collections.
/// </summary>
internal sealed class ExpositionSerializer
{
    private const int ExemplarLabelCharacterLimit = 128;
    private static readonly byte[] BucketBoundLabel = LabelKeyCache.ForLabel("le");

    private readonly MetricFamilyPlan plan;
    private readonly int maxSeries;
    private readonly bool emitCreated;
    private readonly List<Metric> currentMetrics = [];
    private Exemplar[] exemplarScratch = new Exemplar[16];
    private byte[][] keyScratch = new byte[16][];
    private static long lastDocumentStamp;
    private int seriesWritten;
    private bool limitReported;
    private long previousDocument;
    private long document;

    private readonly IReadOnlyList<IPrometheusMetricProducer> producers;
    private readonly HashSet<string> claimedNames = new(StringComparer.Ordinal);

    public ExpositionSerializer(bool addTotalSuffix, bool emitScopeLabels, int maxSeries, bool emitCreated = true)
        : this(addTotalSuffix, emitScopeLabels, maxSeries, [], emitCreated)
    {
    }

    public ExpositionSerializer(bool addTotalSuffix, bool emitScopeLabels, int maxSeries, IReadOnlyList<IPrometheusMetricProducer> producers,
        bool emitCreated = true)
    {
        plan = new MetricFamilyPlan(addTotalSuffix, emitScopeLabels);
        this.maxSeries = maxSeries;
        this.producers = producers;
        this.emitCreated = emitCreated;
    }

    /// <summary>Number of series dropped by the last scrape because of <c>MaxSeries</c>.</summary>
    public int DroppedSeries { get; private set; }

    /// <summary>Writes a whole scrape document.</summary>
    public void Write(ExpositionBuffer buffer, in Batch<Metric> batch, ExpositionFormat format, TargetInfo? targetInfo)
    {
        currentMetrics.Clear();
        foreach (var metric in batch)
        {
            currentMetrics.Add(metric);
        }

        plan.Update(currentMetrics);
        previousDocument = buffer.DocumentStamp;
        document = Interlocked.Increment(ref lastDocumentStamp);
        buffer.Reset();
        seriesWritten = 0;
        DroppedSeries = 0;

        if (targetInfo is not null)
        {
            buffer.Write(format == ExpositionFormat.OpenMetrics ? targetInfo.OpenMetrics : targetInfo.Text);
        }

        foreach (var family in plan.Families)
        {
            WriteFamily(buffer, family, format);
        }

        if (producers.Count > 0)
        {
            WriteProducers(buffer, format, targetInfo is not null);
        }

        if (format == ExpositionFormat.OpenMetrics)
        {
            buffer.Write("# EOF\n"u8);
        }

        if (DroppedSeries > 0 && !limitReported)
        {
            limitReported = true;
            PerfOtelExporterEventSource.Log.SeriesLimitReached(maxSeries);
        }

        buffer.DocumentStamp = document;
    }

    private void WriteProducers(ExpositionBuffer buffer, ExpositionFormat format, bool targetInfoWritten)
    {
        claimedNames.Clear();
        if (targetInfoWritten)
        {
            claimedNames.Add("target_info");
        }

        foreach (var family in plan.Families)
        {
            claimedNames.Add(family.Name);
            switch (family.Type)
            {
                case PrometheusType.Counter:
                    claimedNames.Add(family.Name + "_total");
                    break;
                case PrometheusType.Histogram:
                    claimedNames.Add(family.Name + "_bucket");
                    claimedNames.Add(family.Name + "_sum");
                    claimedNames.Add(family.Name + "_count");
                    break;
            }
        }

        foreach (var producer in producers)
        {
            var start = buffer.Length;
            var writer = new PrometheusProducerWriter(buffer, format, claimedNames, Math.Max(0, maxSeries - seriesWritten));
            try
            {
                producer.Produce(writer);
            }
#pragma warning disable CA1031 // One failing producer must not fail the whole scrape: its output is dropped and reported.
            catch (Exception e)
#pragma warning restore CA1031
            {
                buffer.Truncate(start);
                PerfOtelExporterEventSource.Log.ProducerFailed(e.ToString());
                continue;
            }

            seriesWritten = maxSeries - writer.SeriesBudget;
            DroppedSeries += writer.DroppedSeries;
        }
    }

    private void WriteFamily(ExpositionBuffer buffer, MetricFamily family, ExpositionFormat format)
    {
        buffer.Write(format == ExpositionFormat.OpenMetrics ? family.OpenMetricsHeader : family.TextHeader);
        var openMetrics = format == ExpositionFormat.OpenMetrics;
        foreach (var stream in family.Members)
        {
            if (stream.Type != PrometheusType.Histogram && !(openMetrics && stream.Type == PrometheusType.Counter))
            {
                WriteSingleValueStream(buffer, stream, format);
                continue;
            }

            var seriesIndex = -1;
            foreach (ref readonly var point in stream.Metric.GetMetricPoints())
            {
                seriesIndex++;
                if (seriesWritten >= maxSeries)
                {
                    DroppedSeries++;
                    continue;
                }

                seriesWritten++;
                switch (stream.Metric.MetricType)
                {
                    case MetricType.Histogram:
                        WriteHistogram(buffer, stream, seriesIndex, in point, openMetrics);
                        break;
                    case MetricType.ExponentialHistogram:
                        WriteExponentialHistogram(buffer, stream, seriesIndex, in point, openMetrics);
                        break;
                    default:
                        WriteSingleValue(buffer, stream, seriesIndex, in point, openMetrics);
                        break;
                }
            }
        }
    }

    /// <summary>
    /// The series of a single-value stream that carries nothing after its value (every gauge, and counters in the text
    /// format: no exemplar, no <c>_created</c>). A steady series is its cached <c>name{labels} </c>, its value and the
    /// line feed, written with one bounds check; a new or changed series goes through <see cref="WriteSingleValue"/>.
    /// </summary>
    /// <remarks>
    /// The cached <c>name{labels} </c> is not even copied when the buffer still holds it where it goes: the coordinator
    /// hands a format's collection the buffer of that format's last response, and when every line before a series came
    /// out as long as last time, the series' bytes from that document are at the write position, untouched. That holds
    /// when the buffer's document is the one this serializer wrote last for the format (its stamp), the series was
    /// written at this very offset there from the encoding the cache still has (the stream's offsets of that document;
    /// re-encoding a series forgets them), and nothing has written over those bytes since (<see cref="ExpositionBuffer.Retains"/>).
    /// The value is formatted from this collection's point every time, so the document is the one a fresh buffer would
    /// get, byte for byte. A line whose value changed length moves every later line, and those are copied again.
    /// </remarks>
    private void WriteSingleValueStream(ExpositionBuffer buffer, MetricStreamLayout stream, ExpositionFormat format)
    {
        var openMetrics = format == ExpositionFormat.OpenMetrics;
        var series = stream.Series;
        var kind = stream.Metric.MetricType;
        var written = seriesWritten;
        var budget = maxSeries;
        var seriesIndex = -1;
        var inPlace = series.OffsetsIn(format, previousDocument) is not null;
        var offsets = series.BeginDocument(format, document);
        foreach (ref readonly var point in stream.Metric.GetMetricPoints())
        {
            seriesIndex++;
            if (seriesIndex >= offsets.Length)
            {
                offsets = series.GrowOffsets(format, seriesIndex + 1);
            }

            if (written >= budget)
            {
                offsets[seriesIndex] = -1;
                DroppedSeries++;
                continue;
            }

            written++;
            if (!series.TryGet(seriesIndex, point.Tags, out var prefix))
            {
                offsets[seriesIndex] = -1;
                WriteSingleValue(buffer, stream, seriesIndex, in point, openMetrics);
                continue;
            }

            var line = buffer.GetSpan(prefix.Length + ExpositionBuffer.MaxNumberLength + 1);
            var start = buffer.Length;
            if (!inPlace || offsets[seriesIndex] != start || !buffer.Retains(prefix.Length))
            {
                prefix.CopyTo(line);
            }

            offsets[seriesIndex] = start;
            var at = prefix.Length;
            var value = line[at..];
            at += kind switch
            {
                MetricType.LongSum or MetricType.LongSumNonMonotonic => ExpositionBuffer.FormatLong(point.GetSumLong(), value),
                MetricType.DoubleSum or MetricType.DoubleSumNonMonotonic => ExpositionBuffer.FormatDouble(point.GetSumDouble(), value),
                MetricType.LongGauge => ExpositionBuffer.FormatLong(point.GetGaugeLastValueLong(), value),
                _ => ExpositionBuffer.FormatDouble(point.GetGaugeLastValueDouble(), value),
            };
            line[at] = (byte)'\n';
            buffer.Advance(at + 1);
        }

        seriesWritten = written;
    }

    private void WriteSingleValue(ExpositionBuffer buffer, MetricStreamLayout stream, int seriesIndex, in MetricPoint point, bool openMetrics)
    {
        // A steady series writes "name{labels} " as one cached copy.
        var tags = point.Tags;
        var start = buffer.Length;
        bool cached;
        if (stream.Series.TryGet(seriesIndex, tags, out var prefix))
        {
            buffer.Write(prefix);
            cached = true;
        }
        else
        {
            buffer.Write(stream.Names.SampleNameBytes);
            if (WriteLabelsUncached(buffer, stream, tags))
            {
                buffer.Write((byte)'}');
            }

            buffer.Write((byte)' ');
            cached = stream.Series.Store(seriesIndex, tags, buffer.WrittenSpan[start..]);
        }

        var prefixEnd = buffer.Length;
        switch (stream.Metric.MetricType)
        {
            case MetricType.LongSum:
            case MetricType.LongSumNonMonotonic:
                buffer.WriteLong(point.GetSumLong());
                break;
            case MetricType.DoubleSum:
            case MetricType.DoubleSumNonMonotonic:
                buffer.WriteDouble(point.GetSumDouble());
                break;
            case MetricType.LongGauge:
                buffer.WriteLong(point.GetGaugeLastValueLong());
                break;
            default:
                buffer.WriteDouble(point.GetGaugeLastValueDouble());
                break;
        }

        // Exemplars exist only in OpenMetrics, and only on counters among single-value types.
        if (openMetrics && stream.Type == PrometheusType.Counter && point.TryGetExemplars(out var exemplars))
        {
            var latest = default(Exemplar);
            var found = false;
            foreach (ref readonly var exemplar in exemplars)
            {
                if (exemplar.TraceId != default && (!found || exemplar.Timestamp >= latest.Timestamp))
                {
                    latest = exemplar;
                    found = true;
                }
            }

            if (found)
            {
                WriteExemplar(buffer, stream, in latest, stream.IsLong ? latest.LongValue : latest.DoubleValue);
            }
        }

        buffer.Write((byte)'\n');

        // OpenMetrics counters carry their start time as name_created{labels}: the same labels, copied from the line
        // just written (after the sample name, up to and including the space before the value).
        // A cached series keeps the whole line, since its start time does not move between scrapes of a cumulative stream.
        if (openMetrics && emitCreated && stream.Type == PrometheusType.Counter)
        {
            var startTime = point.StartTime;
            if (cached && stream.Series.TryGetCreated(seriesIndex, startTime, out var createdLine))
            {
                buffer.Write(createdLine);
                return;
            }

            var createdStart = buffer.Length;
            var labelsStart = start + stream.Names.SampleNameBytes.Length;
            var labelsLength = prefixEnd - labelsStart;
            buffer.Write(stream.Names.CreatedNameBytes);
            buffer.CopyWithin(labelsStart, labelsLength);
            buffer.WriteUnixSeconds(startTime);
            buffer.Write((byte)'\n');
            if (cached)
            {
                stream.Series.StoreCreated(seriesIndex, startTime, buffer.WrittenSpan[createdStart..]);
            }
        }
    }

    private void WriteHistogram(ExpositionBuffer buffer, MetricStreamLayout stream, int seriesIndex, in MetricPoint point, bool openMetrics)
    {
        // Label set written once (after the first bucket name), then copied for each further line of the series.
        buffer.Write(stream.Names.BucketNameBytes);
        WriteHistogramLabels(buffer, stream, seriesIndex, in point, out var labelsStart, out var labelsLength);
        var hasLabels = labelsLength > 0;

        var exemplarCount = openMetrics ? CollectExemplarsSortedByValue(in point) : 0;
        var nextExemplar = 0;
        long cumulative = 0;
        var firstLine = true;
        foreach (var bucket in point.GetHistogramBuckets())
        {
            cumulative += bucket.BucketCount;
            if (!firstLine)
            {
                buffer.Write(stream.Names.BucketNameBytes);
                if (hasLabels)
                {
                    buffer.CopyWithin(labelsStart, labelsLength);
                }
            }

            firstLine = false;
            WriteLe(buffer, bucket.ExplicitBound, hasLabels, openMetrics);
            buffer.WriteLong(cumulative);

            // The spec asks for the largest exemplar within the bucket, or else the largest from a lower bucket:
            // with exemplars sorted by value, that is the last one not above the bucket's bound.
            while (nextExemplar < exemplarCount && exemplarScratch[nextExemplar].DoubleValue <= bucket.ExplicitBound)
            {
                nextExemplar++;
            }

            if (nextExemplar > 0)
            {
                ref readonly var chosen = ref exemplarScratch[nextExemplar - 1];
                WriteExemplar(buffer, stream, in chosen, chosen.DoubleValue);
            }

            buffer.Write((byte)'\n');
        }

        WriteSumAndCount(buffer, stream, point.GetHistogramSum(), point.GetHistogramCount(), hasLabels, labelsStart, labelsLength);
        WriteCreated(buffer, stream, in point, openMetrics, hasLabels, labelsStart, labelsLength);
    }

    private void WriteCreated(ExpositionBuffer buffer, MetricStreamLayout stream, in MetricPoint point, bool openMetrics,
        bool hasLabels, int labelsStart, int labelsLength)
    {
        if (!openMetrics || !emitCreated)
        {
            return;
        }

        buffer.Write(stream.Names.CreatedNameBytes);
        if (hasLabels)
        {
            buffer.CopyWithin(labelsStart, labelsLength);
            buffer.Write("} "u8);
        }
        else
        {
            buffer.Write((byte)' ');
        }

        buffer.WriteUnixSeconds(point.StartTime);
        buffer.Write((byte)'\n');
    }

    private void WriteExponentialHistogram(ExpositionBuffer buffer, MetricStreamLayout stream, int seriesIndex, in MetricPoint point, bool openMetrics)
    {
        // Text formats cannot carry native histograms, so the exponential buckets become classic cumulative buckets
        // with their exact upper bounds (OpenTelemetry buckets are upper-inclusive, like Prometheus's le).
        var data = point.GetExponentialHistogramData();
        buffer.Write(stream.Names.BucketNameBytes);
        WriteHistogramLabels(buffer, stream, seriesIndex, in point, out var labelsStart, out var labelsLength);
        var hasLabels = labelsLength > 0;

        long cumulative = data.ZeroCount;
        WriteLe(buffer, 0, hasLabels, openMetrics);
        buffer.WriteLong(cumulative);
        buffer.Write((byte)'\n');

        var scaleFactor = Math.ScaleB(1, -data.Scale);
        var index = data.PositiveBuckets.Offset;
        foreach (var count in data.PositiveBuckets)
        {
            cumulative += count;
            var upperBound = Math.Pow(2, (index + 1) * scaleFactor);
            index++;
            if (count == 0)
            {
                continue;
            }

            WriteBucketPrefix(buffer, stream, hasLabels, labelsStart, labelsLength);
            WriteLe(buffer, upperBound, hasLabels, openMetrics);
            buffer.WriteLong(cumulative);
            buffer.Write((byte)'\n');
        }

        WriteBucketPrefix(buffer, stream, hasLabels, labelsStart, labelsLength);
        WriteLe(buffer, double.PositiveInfinity, hasLabels, openMetrics);
        buffer.WriteLong(point.GetHistogramCount());
        buffer.Write((byte)'\n');

        WriteSumAndCount(buffer, stream, point.GetHistogramSum(), point.GetHistogramCount(), hasLabels, labelsStart, labelsLength);
        WriteCreated(buffer, stream, in point, openMetrics, hasLabels, labelsStart, labelsLength);
    }

    private static void WriteBucketPrefix(ExpositionBuffer buffer, MetricStreamLayout stream, bool hasLabels, int labelsStart, int labelsLength)
    {
        buffer.Write(stream.Names.BucketNameBytes);
        if (hasLabels)
        {
            buffer.CopyWithin(labelsStart, labelsLength);
        }
    }

    private static void WriteLe(ExpositionBuffer buffer, double bound, bool hasLabels, bool openMetrics)
    {
        buffer.Write(hasLabels ? ",le=\""u8 : "{le=\""u8);
        if (openMetrics)
        {
            buffer.WriteCanonicalDouble(bound);
        }
        else
        {
            buffer.WriteDouble(bound);
        }

        buffer.Write("\"} "u8);
    }

    private static void WriteSumAndCount(ExpositionBuffer buffer, MetricStreamLayout stream, double sum, long count,
        bool hasLabels, int labelsStart, int labelsLength)
    {
        buffer.Write(stream.Names.SumNameBytes);
        if (hasLabels)
        {
            buffer.CopyWithin(labelsStart, labelsLength);
            buffer.Write("} "u8);
        }
        else
        {
            buffer.Write((byte)' ');
        }

        buffer.WriteDouble(sum);
        buffer.Write((byte)'\n');

        buffer.Write(stream.Names.CountNameBytes);
        if (hasLabels)
        {
            buffer.CopyWithin(labelsStart, labelsLength);
            buffer.Write("} "u8);
        }
        else
        {
            buffer.Write((byte)' ');
        }

        buffer.WriteLong(count);
        buffer.Write((byte)'\n');
    }

    /// <summary>
    /// Writes "{labels" of a histogram series (the caller adds le and the closing brace) and locates it for copying
    /// to the series' other lines; length 0 when the series has no labels at all.
    /// </summary>
    private void WriteHistogramLabels(ExpositionBuffer buffer, MetricStreamLayout stream, int seriesIndex, in MetricPoint point,
        out int labelsStart, out int labelsLength)
    {
        var tags = point.Tags;
        labelsStart = buffer.Length;
        if (stream.Series.TryGet(seriesIndex, tags, out var encoded))
        {
            buffer.Write(encoded);
        }
        else
        {
            WriteLabelsUncached(buffer, stream, tags);
            stream.Series.Store(seriesIndex, tags, buffer.WrittenSpan[labelsStart..]);
        }

        labelsLength = buffer.Length - labelsStart;
    }

    /// <summary>Writes "{scope labels,attributes" without the closing brace; false (nothing written) when there are none.</summary>
    private bool WriteLabelsUncached(ExpositionBuffer buffer, MetricStreamLayout stream, ReadOnlyTagCollection tags)
    {
        if (tags.Count == 0 && stream.ScopeLabels.Length == 0)
        {
            return false;
        }

        buffer.Write((byte)'{');
        var needsComma = false;
        if (stream.ScopeLabels.Length > 0)
        {
            buffer.Write(stream.ScopeLabels);
            needsComma = true;
        }

        if (tags.Count > 0 && !TryWriteTagsFast(buffer, stream, tags, needsComma))
        {
            WriteTagsMergingCollisions(buffer, stream, tags, needsComma);
        }

        return true;
    }

    private bool TryWriteTagsFast(ExpositionBuffer buffer, MetricStreamLayout stream, ReadOnlyTagCollection tags, bool needsComma)
    {
        if (keyScratch.Length < tags.Count)
        {
            keyScratch = new byte[tags.Count * 2][];
        }

        var index = 0;
        foreach (var tag in tags)
        {
            var encodedKey = stream.LabelKeys.Get(tag.Key);
            if (IsReserved(encodedKey, stream))
            {
                return false;
            }

            for (var previous = 0; previous < index; previous++)
            {
                if (ReferenceEquals(keyScratch[previous], encodedKey))
                {
                    return false;
                }
            }

            keyScratch[index++] = encodedKey;
        }

        index = 0;
        foreach (var tag in tags)
        {
            if (needsComma)
            {
                buffer.Write((byte)',');
            }

            buffer.Write(keyScratch[index++]);
            WriteAttributeValue(buffer, tag.Value);
            buffer.Write((byte)'"');
            needsComma = true;
        }

        return true;
    }

    // A label the exporter itself writes (scope labels, le) must not appear twice in a series: Prometheus would
    // reject the whole scrape for one attribute.
    private static bool IsReserved(byte[] encodedKey, MetricStreamLayout stream)
    {
        if (stream.Type == PrometheusType.Histogram && ReferenceEquals(encodedKey, BucketBoundLabel))
        {
            return true;
        }

        foreach (var scopeKey in stream.ScopeLabelKeys)
        {
            if (ReferenceEquals(encodedKey, scopeKey))
            {
                return true;
            }
        }

        return false;
    }

    // Rare path: two attribute keys sanitise to the same label (the spec joins their values with ';' in the
    // lexicographic order of the original keys), or an attribute would repeat a label the exporter writes (dropped).
    private static void WriteTagsMergingCollisions(ExpositionBuffer buffer, MetricStreamLayout stream, ReadOnlyTagCollection tags, bool needsComma)
    {
        var merged = new SortedDictionary<string, List<KeyValuePair<string, object?>>>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            if (IsReserved(stream.LabelKeys.Get(tag.Key), stream))
            {
                PerfOtelExporterEventSource.Log.ReservedLabelDropped(stream.Metric.Name, tag.Key);
                continue;
            }

            var label = PrometheusNames.SanitizeLabelName(tag.Key);
            if (!merged.TryGetValue(label, out var list))
            {
                list = [];
                merged[label] = list;
            }

            list.Add(tag);
        }

        foreach (var (_, list) in merged)
        {
            list.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
            if (needsComma)
            {
                buffer.Write((byte)',');
            }

            buffer.Write(stream.LabelKeys.Get(list[0].Key));
            buffer.WriteEscapedLabelValue(string.Join(';', list.Select(t => AttributeValueText(t.Value))));
            buffer.Write((byte)'"');
            needsComma = true;
        }
    }

    private static void WriteAttributeValue(ExpositionBuffer buffer, object? value)
    {
        switch (value)
        {
            case string text:
                buffer.WriteEscapedLabelValue(text);
                break;
            case long number:
                buffer.WriteLong(number);
                break;
            case int number:
                buffer.WriteLong(number);
                break;
            case bool flag:
                buffer.Write(flag ? "true"u8 : "false"u8);
                break;
            case double number:
                buffer.WriteDouble(number);
                break;
            default:
                buffer.WriteEscapedLabelValue(AttributeValueText(value));
                break;
        }
    }

    /// <summary>Non-string attribute values as the attribute specification renders them (arrays as JSON arrays).</summary>
    internal static string AttributeValueText(object? value) => value switch
    {
        null => string.Empty,
        string text => text,
        bool flag => flag ? "true" : "false",
        double number => FormatDouble(number),
        float number => FormatDouble(number),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        System.Collections.IEnumerable sequence => "[" + string.Join(',', sequence.Cast<object?>().Select(JsonItem)) + "]",
        _ => value.ToString() ?? string.Empty,
    };

    private static string JsonItem(object? item) => item switch
    {
        null => "null",
        string text => System.Text.Json.JsonSerializer.Serialize(text),
        _ => AttributeValueText(item),
    };

    private static string FormatDouble(double number)
    {
        using var buffer = new ExpositionBuffer(64);
        buffer.WriteDouble(number);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private int CollectExemplarsSortedByValue(in MetricPoint point)
    {
        if (!point.TryGetExemplars(out var exemplars))
        {
            return 0;
        }

        var count = 0;
        foreach (ref readonly var exemplar in exemplars)
        {
            if (exemplar.TraceId == default)
            {
                continue;
            }

            if (count == exemplarScratch.Length)
            {
                Array.Resize(ref exemplarScratch, count * 2);
            }

            exemplarScratch[count++] = exemplar;
        }

        // Insertion sort: a handful of exemplars per point, and Array.Sort with a comparison would allocate.
        for (var i = 1; i < count; i++)
        {
            var current = exemplarScratch[i];
            var j = i - 1;
            while (j >= 0 && exemplarScratch[j].DoubleValue > current.DoubleValue)
            {
                exemplarScratch[j + 1] = exemplarScratch[j];
                j--;
            }

            exemplarScratch[j + 1] = current;
        }

        return count;
    }

    private static void WriteExemplar(ExpositionBuffer buffer, MetricStreamLayout stream, in Exemplar exemplar, double value)
    {
        Span<byte> raw = stackalloc byte[16];
        buffer.Write(" # {trace_id=\""u8);
        exemplar.TraceId.CopyTo(raw);
        buffer.WriteLowerHex(raw);
        buffer.Write("\",span_id=\""u8);
        exemplar.SpanId.CopyTo(raw[..8]);
        buffer.WriteLowerHex(raw[..8]);
        buffer.Write((byte)'"');

        // OpenMetrics caps exemplar labels at 128 characters; trace_id and span_id take 61 of them.
        var used = "trace_id".Length + 32 + "span_id".Length + 16;
        foreach (var tag in exemplar.FilteredTags)
        {
            var label = PrometheusNames.SanitizeLabelName(tag.Key);
            var text = AttributeValueText(tag.Value);
            if (label is "trace_id" or "span_id" || used + label.Length + text.Length > ExemplarLabelCharacterLimit)
            {
                continue;
            }

            used += label.Length + text.Length;
            buffer.Write((byte)',');
            buffer.Write(stream.LabelKeys.Get(tag.Key));
            buffer.WriteEscapedLabelValue(text);
            buffer.Write((byte)'"');
        }

        buffer.Write("} "u8);
        buffer.WriteDouble(value);
        buffer.Write((byte)' ');
        buffer.WriteUnixSeconds(exemplar.Timestamp);
    }

}

/// <summary>The resource as a <c>target_info</c> family, encoded once for each format.</summary>
internal sealed class TargetInfo
{
    private TargetInfo(byte[] text, byte[] openMetrics)
    {
        Text = text;
        OpenMetrics = openMetrics;
    }

    public byte[] Text { get; }

    public byte[] OpenMetrics { get; }

    /// <summary>Builds target_info from resource attributes, or returns null for an empty resource.</summary>
    public static TargetInfo? Create(IEnumerable<KeyValuePair<string, object>> attributes)
    {
        var labels = new SortedDictionary<string, List<KeyValuePair<string, object>>>(StringComparer.Ordinal);
        foreach (var attribute in attributes)
        {
            var label = PrometheusNames.SanitizeLabelName(attribute.Key);
            if (!labels.TryGetValue(label, out var list))
            {
                list = [];
                labels[label] = list;
            }

            list.Add(attribute);
        }

        if (labels.Count == 0)
        {
            return null;
        }

        using var labelSet = new ExpositionBuffer(1024);
        labelSet.Write("target_info{"u8);
        var first = true;
        foreach (var (label, list) in labels)
        {
            list.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
            if (!first)
            {
                labelSet.Write((byte)',');
            }

            first = false;
            labelSet.WriteUtf8(label);
            labelSet.Write("=\""u8);
            labelSet.WriteEscapedLabelValue(string.Join(';', list.Select(a => ExpositionSerializer.AttributeValueText(a.Value))));
            labelSet.Write((byte)'"');
        }

        labelSet.Write("} 1\n"u8);

        using var text = new ExpositionBuffer(1024);
        text.Write("# HELP target_info Target metadata\n# TYPE target_info gauge\n"u8);
        text.Write(labelSet.WrittenSpan);

        using var openMetrics = new ExpositionBuffer(1024);
        openMetrics.Write("# TYPE target info\n# HELP target Target metadata\n"u8);
        openMetrics.Write(labelSet.WrittenSpan);
        return new TargetInfo(text.WrittenSpan.ToArray(), openMetrics.WrittenSpan.ToArray());
    }
}

using System.Runtime.CompilerServices;
using OpenTelemetry;

namespace PerfOtel.Exporter.Implementation.Serialization;

/// <summary>
/// The encoded label set (<c>{scope labels,attributes</c>) of each series of a stream, by position in the SDK's point
/// enumeration. The SDK keeps a point's attribute key and value objects for the point's lifetime, so a series whose
/// keys and values are the same references as last scrape reuses its bytes; anything else is encoded again. Only
/// immutable values (strings and boxed primitives) are trusted this way. A counter's entry also keeps its OpenMetrics
/// <c>_created</c> line: a cumulative series keeps its start time from scrape to scrape, so the line is written once and
/// then copied while the entry and the start time both hold.
/// </summary>
internal sealed class EncodedSeriesCache
{
    private Entry?[] entries = new Entry?[16];

    public byte[]? TryGet(int index, ReadOnlyTagCollection tags)
    {
        if (index >= entries.Length || entries[index] is not { } entry)
        {
            return null;
        }

        // The SDK gives a metric point its tag array once, when the point is created for those tags, and never writes
        // to it afterwards: the same array is the same series, known without touching the keys and values (which at
        // 10 000 series are cache misses). A point reclaimed for other tags gets another array.
        if (entry.TagArray is { } known && ReferenceEquals(known, TagArrayOf(tags)))
        {
            return entry.Encoded;
        }

        if (entry.Keys.Length != tags.Count)
        {
            return null;
        }

        var i = 0;
        foreach (var tag in tags)
        {
            if (!ReferenceEquals(entry.Keys[i], tag.Key) || !ReferenceEquals(entry.Values[i], tag.Value))
            {
                return null;
            }

            i++;
        }

        return entry.Encoded;
    }

    /// <summary>Caches the encoding of the series at <paramref name="index"/>; false (and nothing cached) when its values are not trusted.</summary>
    public bool Store(int index, ReadOnlyTagCollection tags, ReadOnlySpan<byte> encoded)
    {
        var keys = new string[tags.Count];
        var values = new object?[tags.Count];
        var i = 0;
        foreach (var tag in tags)
        {
            if (tag.Value is not (string or long or int or double or bool or null))
            {
                // The slot may hold another series' entry; drop it so nothing is attached to it for this one.
                if (index < entries.Length)
                {
                    entries[index] = null;
                }

                return false;
            }

            keys[i] = tag.Key;
            values[i] = tag.Value;
            i++;
        }

        if (index >= entries.Length)
        {
            Array.Resize(ref entries, Math.Max(index + 1, entries.Length * 2));
        }

        entries[index] = new Entry(keys, values, encoded.ToArray()) { TagArray = TagArrayOf(tags) };
        return true;
    }

    /// <summary>
    /// The <c>_created</c> line of the series at <paramref name="index"/> when it was encoded for this start time; call
    /// only for a series that <see cref="TryGet"/> or <see cref="Store"/> just matched.
    /// </summary>
    public byte[]? TryGetCreated(int index, DateTimeOffset start) =>
        entries[index] is { CreatedLine: { } line } entry && entry.CreatedStart == start ? line : null;

    /// <summary>Keeps the <c>_created</c> line of a series that <see cref="TryGet"/> or <see cref="Store"/> just matched.</summary>
    public void StoreCreated(int index, DateTimeOffset start, ReadOnlySpan<byte> line)
    {
        var entry = entries[index]!;
        entry.CreatedStart = start;
        entry.CreatedLine = line.ToArray();
    }

    /// <summary>
    /// The array behind <paramref name="tags"/>, or null when this SDK version does not have the field (then every
    /// lookup compares keys and values one by one, as before).
    /// </summary>
    private static object? TagArrayOf(ReadOnlyTagCollection tags)
    {
        if (!tagArrayReadable)
        {
            return null;
        }

        try
        {
            return KeyAndValues(ref tags);
        }
        catch (MissingFieldException)
        {
            tagArrayReadable = false;
            return null;
        }
    }

    private static bool tagArrayReadable = true;

    /// <summary>Whether lookups compare tag arrays (this SDK has the field) rather than keys and values.</summary>
    internal static bool ComparesTagArrays
    {
        get
        {
            var none = default(ReadOnlyTagCollection);
            try
            {
                _ = KeyAndValues(ref none);
                return tagArrayReadable;
            }
            catch (MissingFieldException)
            {
                return false;
            }
        }
    }

    [UnsafeAccessor(UnsafeAccessorKind.Field, Name = "KeyAndValues")]
    private static extern ref KeyValuePair<string, object?>[] KeyAndValues(ref ReadOnlyTagCollection tags);

    private sealed record Entry(string[] Keys, object?[] Values, byte[] Encoded)
    {
        public object? TagArray { get; init; }

        public DateTimeOffset CreatedStart { get; set; }

        public byte[]? CreatedLine { get; set; }
    }
}

using OpenTelemetry;

namespace PerfOtel.Exporter.Implementation.Serialization;

/// <summary>
/// The encoded label set (<c>{scope labels,attributes</c>) of each series of a stream, by position in the SDK's point
/// enumeration. The SDK keeps a point's attribute key and value objects for the point's lifetime, so a series whose
/// keys and values are the same references as last scrape reuses its bytes; anything else is encoded again. Only
/// immutable values (strings and boxed primitives) are trusted this way.
/// </summary>
internal sealed class EncodedSeriesCache
{
    private Entry?[] entries = new Entry?[16];

    public byte[]? TryGet(int index, ReadOnlyTagCollection tags)
    {
        if (index >= entries.Length || entries[index] is not { } entry || entry.Keys.Length != tags.Count)
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

    public void Store(int index, ReadOnlyTagCollection tags, ReadOnlySpan<byte> encoded)
    {
        var keys = new string[tags.Count];
        var values = new object?[tags.Count];
        var i = 0;
        foreach (var tag in tags)
        {
            if (tag.Value is not (string or long or int or double or bool or null))
            {
                return;
            }

            keys[i] = tag.Key;
            values[i] = tag.Value;
            i++;
        }

        if (index >= entries.Length)
        {
            Array.Resize(ref entries, Math.Max(index + 1, entries.Length * 2));
        }

        entries[index] = new Entry(keys, values, encoded.ToArray());
    }

    private sealed record Entry(string[] Keys, object?[] Values, byte[] Encoded);
}

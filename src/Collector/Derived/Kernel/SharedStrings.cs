namespace PerfOtel.Collector.Derived.Kernel;

/// <summary>
/// One instance per distinct text for the few-valued strings that the bounded in-memory indexes keep per entry (tenant,
/// agent, provider, model, task type, experiment, variant): every decoded span brings its own copy of each, and an
/// index of a hundred thousand invocations otherwise keeps a hundred thousand copies of the same agent name. Holds at
/// most <see cref="MaxDistinct"/> texts; past that it starts again (texts already shared stay shared), so ids or other
/// many-valued texts passed by mistake cost a lookup, never unbounded memory. Not thread-safe: its owner's lock guards it.
/// </summary>
internal sealed class SharedStrings
{
    /// <summary>The most distinct texts held before starting again.</summary>
    public const int MaxDistinct = 4096;

    private readonly HashSet<string> texts = new(StringComparer.Ordinal);

    /// <summary>The held instance equal to <paramref name="text"/> (ordinal), holding <paramref name="text"/> when none is.</summary>
    public string? Share(string? text)
    {
        if (text is null)
        {
            return null;
        }
        if (texts.TryGetValue(text, out var held))
        {
            return held;
        }
        if (texts.Count >= MaxDistinct)
        {
            texts.Clear();
        }
        texts.Add(text);
        return text;
    }

    /// <summary>Distinct texts held.</summary>
    public int Count => texts.Count;
}

/// <summary>
/// Table sizing for the dictionaries of the bounded in-memory indexes. A dictionary grows by doubling its table to the
/// next prime, so one bounded at 250 000 entries ends with a table of 350 899 (40 % slack, a large-object array of 31 MB
/// for the span links) and leaves every smaller table behind as large-object garbage while it fills. Growing to the
/// bound (plus <see cref="Headroom"/>) instead, and past it by an eighth at a time, keeps the slack at a few percent.
/// </summary>
internal static class BoundedTable
{
    /// <summary>Share of the bound added to the last table before the bound (entries held past it until evicted).</summary>
    public const int Headroom = 16;

    /// <summary>
    /// Makes room for one more entry in <paramref name="dictionary"/>, whose table holds <paramref name="tableSize"/>
    /// entries (kept by the caller; 0 at first); the table is grown only when full.
    /// </summary>
    public static void MakeRoom<TKey, TValue>(Dictionary<TKey, TValue> dictionary, int bound, ref int tableSize)
        where TKey : notnull
    {
        var count = dictionary.Count;
        if (count < tableSize)
        {
            return;
        }
        var cap = bound + bound / Headroom;
        var wanted = count < cap ? Math.Min(Math.Max(2 * count, 16), cap) : count + Math.Max(count / 8, 16);
        tableSize = dictionary.EnsureCapacity(wanted);
    }
}

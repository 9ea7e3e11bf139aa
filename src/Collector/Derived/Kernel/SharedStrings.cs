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

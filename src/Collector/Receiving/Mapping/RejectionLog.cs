namespace PerfOtel.Collector.Receiving.Mapping;

/// <summary>Counts refused items and keeps the first few distinct reasons for the partial_success message.</summary>
internal sealed class RejectionLog
{
    private const int MaxReasons = 3;
    private readonly Dictionary<string, int> _reasons = new(StringComparer.Ordinal);

    public long Count { get; private set; }

    public void Add(string reason)
    {
        Count++;
        if (_reasons.TryGetValue(reason, out var seen))
        {
            _reasons[reason] = seen + 1;
        }
        else if (_reasons.Count < MaxReasons)
        {
            _reasons[reason] = 1;
        }
    }

    public string? Message(string items) => Count == 0
        ? null
        : $"{Count} {items} rejected: " + string.Join("; ", _reasons.Select(r => r.Value == 1 ? r.Key : $"{r.Key} ({r.Value}x)"));
}

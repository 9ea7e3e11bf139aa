namespace PerfOtel.Collector.Tests.Cost;

/// <summary>A clock that moves only when told.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset now = start;

    public override DateTimeOffset GetUtcNow() => now;

    public void Set(DateTimeOffset time) => now = time;

    public void Advance(TimeSpan by) => now += by;
}

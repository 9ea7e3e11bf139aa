namespace PerfOtel.Collector.Receiving.Mapping;

/// <summary>
/// The timestamps a record may carry: from 2000-01-01 (earlier means an unset or zeroed clock, 1970 in practice) to a
/// day ahead of the collector's clock (skew between hosts is seconds, not days). Records outside are refused in
/// partial_success rather than stored where retention, windows and time-ordered exports would trip over them.
/// </summary>
internal readonly record struct PlausibleTime(ulong EarliestUnixNano, ulong LatestUnixNano)
{
    public const string EarliestText = "2000-01-01T00:00:00Z";
    public const string MaxClockSkewText = "24 h";

    private static readonly TimeSpan MaxClockSkew = TimeSpan.FromHours(24);
    private static readonly ulong Earliest = ToUnixNano(new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public static PlausibleTime Window(TimeProvider time) => new(Earliest, ToUnixNano(time.GetUtcNow() + MaxClockSkew));

    public bool Contains(ulong unixNano) => unixNano >= EarliestUnixNano && unixNano <= LatestUnixNano;

    private static ulong ToUnixNano(DateTimeOffset value) => (ulong)(value - DateTimeOffset.UnixEpoch).Ticks * 100;
}

namespace PerfOtel.Collector.Storage.Sqlite;

internal static class SqliteTime
{
    public static long ToMicros(DateTimeOffset time) =>
        (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMicrosecond;

    public static DateTimeOffset FromMicros(long micros) =>
        new(DateTimeOffset.UnixEpoch.UtcTicks + micros * TimeSpan.TicksPerMicrosecond, TimeSpan.Zero);
}

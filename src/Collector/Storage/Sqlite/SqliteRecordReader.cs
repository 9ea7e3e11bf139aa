using System.Data.Common;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Storage.Sqlite;

internal static class SqliteRecordReader
{
    public static readonly Func<DbDataReader, int, DateTimeOffset> Time = (r, o) => SqliteTime.FromMicros(r.GetInt64(o));

    public static AgentInvocation Invocation(DbDataReader r, int o) => RecordReader.Invocation(r, o, Time);

    public static FeedbackRecord Feedback(DbDataReader r, int o) => RecordReader.Feedback(r, o, Time);
}

namespace PerfOtel.Collector.Records;

/// <summary>
/// Reads stored records back as committed batches for the derivations (the start-up replay, and the derivation leader
/// on a shared store): several tables read at once, each in its time order, merged by time, so that a run's calls,
/// tool calls, evaluations and feedback come back next to their invocation as they committed live. Reading one table
/// after the other instead would separate them by the whole store, and the derivations' bounded per-invocation state
/// (<c>Cost:AttributionCapacity</c>) would have forgotten a run's calls by the time its invocation came.
/// </summary>
public static class RecordMerge
{
    /// <summary>
    /// The records of <paramref name="streams"/>, earliest first (on equal times, the stream given first), in batches of
    /// at most <paramref name="batchRecords"/> records.
    /// </summary>
    public static async IAsyncEnumerable<IngestBatch> BatchesAsync(int batchRecords, params RecordStream[] streams)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchRecords, 1);
        ArgumentNullException.ThrowIfNull(streams);
        try
        {
            foreach (var stream in streams)
            {
                await stream.MoveNextAsync().ConfigureAwait(false);
            }
            var batch = new IngestBatch();
            var count = 0;
            while (true)
            {
                RecordStream? next = null;
                foreach (var stream in streams)
                {
                    if (stream.HasCurrent && (next is null || stream.Time < next.Time))
                    {
                        next = stream;
                    }
                }
                if (next is null)
                {
                    break;
                }
                next.AddCurrentTo(batch);
                if (++count >= batchRecords)
                {
                    yield return batch;
                    batch = new IngestBatch();
                    count = 0;
                }
                await next.MoveNextAsync().ConfigureAwait(false);
            }
            if (count > 0)
            {
                yield return batch;
            }
        }
        finally
        {
            foreach (var stream in streams)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}

/// <summary>One table's records in time order, read ahead by one, for <see cref="RecordMerge"/>.</summary>
public abstract class RecordStream : IAsyncDisposable
{
    /// <summary>Whether a record is waiting (false once the table is read to its end).</summary>
    public bool HasCurrent { get; protected set; }

    /// <summary>The waiting record's time.</summary>
    public DateTimeOffset Time { get; protected set; }

    /// <summary>Reads the next record.</summary>
    public abstract ValueTask MoveNextAsync();

    /// <summary>Puts the waiting record into <paramref name="batch"/>.</summary>
    public abstract void AddCurrentTo(IngestBatch batch);

    public abstract ValueTask DisposeAsync();

    /// <summary>A stream of <paramref name="records"/> (in <paramref name="timeOf"/> order) that <paramref name="add"/> puts into a batch.</summary>
    public static RecordStream Of<T>(IAsyncEnumerable<T> records, Func<T, DateTimeOffset> timeOf, Action<IngestBatch, T> add) =>
        new Typed<T>(records, timeOf, add);

    private sealed class Typed<T>(IAsyncEnumerable<T> records, Func<T, DateTimeOffset> timeOf, Action<IngestBatch, T> add)
        : RecordStream
    {
        private readonly IAsyncEnumerator<T> enumerator = records.GetAsyncEnumerator();

        public override async ValueTask MoveNextAsync()
        {
            HasCurrent = await enumerator.MoveNextAsync().ConfigureAwait(false);
            if (HasCurrent)
            {
                Time = timeOf(enumerator.Current);
            }
        }

        public override void AddCurrentTo(IngestBatch batch) => add(batch, enumerator.Current);

        public override ValueTask DisposeAsync() => enumerator.DisposeAsync();
    }
}

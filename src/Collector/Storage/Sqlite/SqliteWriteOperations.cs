using Microsoft.Data.Sqlite;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Storage.Sqlite;

/// <summary>
/// A unit of work for the single writer. Several are applied in one transaction (group commit); each runs inside its
/// own savepoint so a bad one is rolled back alone and the others still commit.
/// </summary>
internal abstract class SqliteWriteOperation
{
    /// <summary>Rows this operation will write, so the writer can bound the size of one transaction.</summary>
    public abstract int Weight { get; }

    public abstract void Apply(SqliteWriteSession session);

    /// <summary>Undoes in-memory effects of <see cref="Apply"/> when its savepoint or the transaction is rolled back.</summary>
    public virtual void Discard()
    {
    }

    /// <summary>
    /// Answers the caller once the commit is <paramref name="durable"/> (at once when it already is), or, for an
    /// operation that asked to be answered at commit, at once with the flush to wait for beside the result.
    /// </summary>
    public abstract void Complete(Task durable);

    public abstract void Fail(Exception error);
}

/// <param name="answerAtCommit">
/// Answered at COMMIT rather than once durable (<see cref="Durable"/> then tells when it is durable), and on the writer's
/// thread: the caller (the ingest writer, which plans and hands over the next batch) goes on right there until it waits
/// again, so that no hop through the thread pool's queue lies between one commit and the next (two hops a commit, about
/// 4 ms of a 50-ms cycle at full rate on the busy 2-core machine). Every other caller is answered through the thread
/// pool, so that its code never holds the writer.
/// </param>
internal abstract class SqliteWriteOperation<TResult>(bool answerAtCommit = false) : SqliteWriteOperation
{
    private readonly TaskCompletionSource<TResult> _completion =
        new(answerAtCommit ? TaskCreationOptions.None : TaskCreationOptions.RunContinuationsAsynchronously);

    protected TResult? Result { get; set; }

    public Task<TResult> Task => _completion.Task;

    /// <summary>Answered at COMMIT rather than once durable; <see cref="Durable"/> then tells when it is durable.</summary>
    public bool AnswerAtCommit => answerAtCommit;

    /// <summary>Completes once the commit is on disk (set before the answer at commit).</summary>
    public Task Durable { get; private set; } = System.Threading.Tasks.Task.CompletedTask;

    public override void Complete(Task durable)
    {
        if (AnswerAtCommit || durable.IsCompletedSuccessfully)
        {
            Durable = durable;
            _completion.TrySetResult(Result!);
            return;
        }

        var result = Result!;
        durable.ContinueWith(
            flushed =>
            {
                if (flushed.Exception is { } error)
                {
                    _completion.TrySetException(error.InnerExceptions);
                }
                else
                {
                    _completion.TrySetResult(result);
                }
            },
            CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public override void Fail(Exception error) => _completion.TrySetException(error);
}

internal sealed class IngestOperation(IngestBatch batch, bool answerAtCommit = false)
    : SqliteWriteOperation<IngestBatch>(answerAtCommit)
{
    // Packed by the caller's thread, before the operation queues for the single writer.
    private readonly List<(DateTimeOffset SeenAt, byte[] Pack)> _linkPacks = [.. SpanLinkPack.Group(batch.SpanLinks)];

    public override int Weight => Math.Max(1, batch.Count);

    public override void Apply(SqliteWriteSession session)
    {
        // The same span twice in one batch is stored by its first occurrence; the second meets its key and is left out.
        var stored = new NewRecords(batch);
        session.BeginIngest();
        // What the calls stored by earlier writes add up to for each invocation of this one, taken before this write's
        // calls go in: nothing unless its span is an early call owner (no lookup at all while there is none, the
        // common case), else the sums that record holds. Then the calls, the new ones summed per owner in memory; then each
        // new invocation with the sum of both in its own row (no update). The sums of owners that are not new
        // invocations of this write go to the stored invocation, or, when there is none, make the owner an early call
        // owner. A call this write resends is counted once: in the record's sums, since it is not new.
        var earlier = batch.Invocations.Count > 0 ? new CallTotals[batch.Invocations.Count] : [];
        for (var index = 0; index < batch.Invocations.Count; index++)
        {
            var invocation = batch.Invocations[index];
            earlier[index] = session.EarlierCallTotals(invocation.Tenant, invocation.TraceId, invocation.SpanId);
        }

        Dictionary<(string, string, string), CallTotals>? fresh = null;
        for (var index = 0; index < batch.ProviderCalls.Count; index++)
        {
            var call = batch.ProviderCalls[index];
            var inserted = session.InsertProviderCall(call, session.TraceNumber(call.Tenant, call.TraceId));
            stored.ProviderCall(index, inserted);
            if (inserted && CallTotals.OwnerOf(call) is { } owner)
            {
                // Sized for the batch's invocations, the owners most calls have.
                fresh ??= new(batch.Invocations.Count);
                fresh[owner] = fresh.GetValueOrDefault(owner) + CallTotals.Of(call);
            }
        }

        for (var index = 0; index < batch.Invocations.Count; index++)
        {
            var invocation = batch.Invocations[index];
            var key = (invocation.Tenant, invocation.TraceId, invocation.SpanId);
            var calls = earlier[index];
            CallTotals inBatch = default;
            var hasFresh = fresh is not null && fresh.TryGetValue(key, out inBatch);
            var inserted = session.InsertInvocation(invocation, calls + inBatch,
                session.TraceNumber(invocation.Tenant, invocation.TraceId));
            stored.Invocation(index, inserted);
            if (inserted)
            {
                if (hasFresh)
                {
                    fresh!.Remove(key);
                }

                session.JoinPendingFeedback(invocation, stored);
            }
        }

        if (fresh is not null)
        {
            foreach (var ((tenant, traceId, owner), calls) in fresh)
            {
                session.AddCallsToOwner(tenant, traceId, owner, calls);
            }
        }

        for (var index = 0; index < batch.ToolCalls.Count; index++)
        {
            var tool = batch.ToolCalls[index];
            stored.ToolCall(index, session.InsertToolCall(tool, session.TraceNumber(tool.Tenant, tool.TraceId)));
        }

        for (var index = 0; index < batch.Evaluations.Count; index++)
        {
            stored.Evaluation(index, session.InsertEvaluation(batch.Evaluations[index]));
        }

        foreach (var (seenAt, pack) in _linkPacks)
        {
            session.InsertSpanLinkPack(seenAt, pack);
        }

        foreach (var update in batch.Attributions)
        {
            session.Attribute(update);
        }

        foreach (var expired in batch.ExpiredSpans)
        {
            session.ExpireSpan(expired);
        }

        if (batch.PruneSpanLinksBefore is { } before)
        {
            session.PruneSpanLinks(before);
        }

        Result = stored.ToBatch();
    }

    public override void Discard()
    {
        // The result may be the batch itself: joins of a rolled-back write were never made.
        batch.JoinedFeedback.Clear();
        Result = null;
    }
}

internal sealed class FeedbackOperation(FeedbackRecord feedback) : SqliteWriteOperation<FeedbackResult>
{
    public override int Weight => 1;

    public override void Apply(SqliteWriteSession session) => Result = session.AddFeedback(feedback);
}

internal sealed class RetentionOperation(DateTimeOffset cutoff, int limit) : SqliteWriteOperation<long>
{
    public override int Weight => limit;

    public override void Apply(SqliteWriteSession session) => Result = session.DeleteOlderThan(cutoff, limit);
}

internal sealed class AlertsOperation(IReadOnlyList<AlertRecord> alerts) : SqliteWriteOperation<bool>
{
    public override int Weight => Math.Max(1, alerts.Count);

    public override void Apply(SqliteWriteSession session)
    {
        session.SaveAlerts(alerts);
        Result = true;
    }
}

internal sealed class SqliteWriteFailedException(string message, Exception inner) : Exception(message, inner);

/// <summary>Helper so operations can share prepared commands without knowing about the connection.</summary>
internal static class SqliteCommandExtensions
{
    public static SqliteParameter Add(this SqliteCommand command, string name)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        command.Parameters.Add(parameter);
        return parameter;
    }
}

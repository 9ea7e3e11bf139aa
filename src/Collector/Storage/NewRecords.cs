using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Storage;

/// <summary>
/// Collects what one write stored for the first time, so observers count a resent span once. Records are noted in
/// batch order; while every one is new (the normal case) nothing is copied and the written batch itself is the
/// result. The first record found already stored starts a copy of its list holding the records kept before it.
/// </summary>
internal sealed class NewRecords(IngestBatch written)
{
    private List<AgentInvocation>? _invocations;
    private List<ProviderCall>? _providerCalls;
    private List<ToolCall>? _toolCalls;
    private List<EvaluationRecord>? _evaluations;
    private List<FeedbackJoin>? _joinedFeedback;

    public void Invocation(int index, bool inserted) => Note(ref _invocations, written.Invocations, index, inserted);

    public void ProviderCall(int index, bool inserted) => Note(ref _providerCalls, written.ProviderCalls, index, inserted);

    public void ToolCall(int index, bool inserted) => Note(ref _toolCalls, written.ToolCalls, index, inserted);

    public void Evaluation(int index, bool inserted) => Note(ref _evaluations, written.Evaluations, index, inserted);

    /// <summary>Pending feedback that this write joined to one of its new invocations.</summary>
    public void Joined(FeedbackJoin join) => (_joinedFeedback ??= []).Add(join);

    /// <summary>The committed view: the written batch itself when nothing was a duplicate, else a filtered copy.</summary>
    public IngestBatch ToBatch()
    {
        var result = written;
        if (_invocations is not null || _providerCalls is not null || _toolCalls is not null || _evaluations is not null)
        {
            result = new IngestBatch();
            result.Invocations.AddRange(_invocations ?? written.Invocations);
            result.ProviderCalls.AddRange(_providerCalls ?? written.ProviderCalls);
            result.ToolCalls.AddRange(_toolCalls ?? written.ToolCalls);
            result.Evaluations.AddRange(_evaluations ?? written.Evaluations);
        }

        // Set, not appended: when the result is the written batch and a caller writes that same object again (a retry
        // after a failed commit), the joins of the earlier attempt must not be reported as well.
        result.JoinedFeedback.Clear();
        if (_joinedFeedback is not null)
        {
            result.JoinedFeedback.AddRange(_joinedFeedback);
        }

        return result;
    }

    private static void Note<T>(ref List<T>? kept, List<T> source, int index, bool inserted)
    {
        if (inserted)
        {
            kept?.Add(source[index]);
        }
        else
        {
            kept ??= source.GetRange(0, index);
        }
    }
}

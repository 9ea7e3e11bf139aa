using Microsoft.Data.Sqlite;
using PerfOtel.Collector.Model;

namespace PerfOtel.Collector.Storage.Sqlite;

/// <summary>
/// The writer connection's prepared statements, used only by the writer loop (one thread at a time), always inside the
/// transaction the loop opened.
/// </summary>
internal sealed class SqliteWriteSession : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly List<SqliteCommand> _commands = [];
    private readonly SqliteCommand _insertInvocation;
    private readonly SqliteCommand _insertProviderCall;
    private readonly SqliteCommand _insertToolCall;
    private readonly SqliteCommand _insertEvaluation;
    private readonly SqliteCommand _insertFeedback;
    private readonly SqliteCommand _selectFeedback;
    private readonly SqliteCommand _selectPendingForInvocation;
    private readonly SqliteCommand _joinFeedback;
    private readonly SqliteCommand _selectInvocationBySpan;
    private readonly SqliteCommand _selectInvocationByTask;

    public SqliteWriteSession(SqliteConnection connection)
    {
        _connection = connection;
        _insertInvocation = Prepare($"INSERT INTO invocations ({Columns.Invocation}) VALUES ({Placeholders(27)}) ON CONFLICT DO NOTHING");
        _insertProviderCall = Prepare($"INSERT INTO provider_calls ({Columns.ProviderCallInsert}) VALUES ({Placeholders(24)}) ON CONFLICT DO NOTHING");
        _insertToolCall = Prepare($"INSERT INTO tool_calls ({Columns.ToolCall}) VALUES ({Placeholders(11)}) ON CONFLICT DO NOTHING");
        _insertEvaluation = Prepare($"INSERT INTO evaluations ({Columns.Evaluation}) VALUES ({Placeholders(9)}) ON CONFLICT DO NOTHING");
        _insertFeedback = Prepare($"INSERT INTO feedback ({Columns.FeedbackInsert}) VALUES ({Placeholders(11)}) ON CONFLICT DO NOTHING");
        _selectFeedback = Prepare($"SELECT {Columns.Feedback}, invocation_trace_id, invocation_span_id FROM feedback WHERE tenant = $p0 AND feedback_id = $p1");
        _selectPendingForInvocation = Prepare($"""
            SELECT {Columns.Feedback} FROM feedback
            WHERE invocation_span_id IS NULL AND span_id IS NOT NULL AND trace_id = $p0 AND span_id = $p1 AND tenant = $p2
            UNION ALL
            SELECT {Columns.Feedback} FROM feedback
            WHERE invocation_span_id IS NULL AND task_id IS NOT NULL AND tenant = $p2 AND task_id = $p3 AND span_id IS NULL
            """);
        _joinFeedback = Prepare("UPDATE feedback SET invocation_trace_id = $p2, invocation_span_id = $p3 WHERE tenant = $p0 AND feedback_id = $p1");
        _selectInvocationBySpan = Prepare($"SELECT {Columns.Invocation} FROM invocations WHERE trace_id = $p0 AND span_id = $p1 AND tenant = $p2");
        // The latest invocation of a task: a retried task is judged by its last attempt.
        _selectInvocationByTask = Prepare($"SELECT {Columns.Invocation} FROM invocations WHERE tenant = $p0 AND task_id = $p1 ORDER BY start_time DESC LIMIT 1");
    }

    public SqliteTransaction? Transaction
    {
        set
        {
            foreach (var command in _commands)
            {
                command.Transaction = value;
            }
        }
    }

    public bool InsertInvocation(AgentInvocation i) =>
        Execute(_insertInvocation, i.Tenant, i.TraceId, i.SpanId, i.ParentSpanId, i.ServiceName, i.AgentName,
            i.AgentId, i.AgentType, i.TaskId, i.TaskType, i.JobId, i.ConversationId, i.Experiment, i.Variant,
            SqliteTime.ToMicros(i.StartTime), i.DurationSeconds, i.Outcome, i.ErrorType, i.Confidence, i.Quality,
            i.Tokens.Input, i.Tokens.Output, i.Tokens.CacheRead, i.Tokens.CacheCreation, i.Tokens.Reasoning,
            i.CostUsd, i.AttributesJson) == 1;

    public void InsertProviderCall(ProviderCall c) =>
        Execute(_insertProviderCall, c.Tenant, c.TraceId, c.SpanId, c.ParentSpanId, c.InvocationSpanId,
            c.InvocationSpanId ?? c.ParentSpanId, c.AgentName, c.Operation, c.Provider, c.RequestModel,
            c.ResponseModel, SqliteTime.ToMicros(c.StartTime), c.DurationSeconds, c.Tokens.Input, c.Tokens.Output,
            c.Tokens.CacheRead, c.Tokens.CacheCreation, c.Tokens.Reasoning, c.CostUsd, c.UnpricedTokens, c.Attempt,
            c.FallbackFrom, c.FallbackReason, c.ErrorType);

    public void InsertToolCall(ToolCall t) =>
        Execute(_insertToolCall, t.Tenant, t.TraceId, t.SpanId, t.ParentSpanId, t.InvocationSpanId, t.AgentName,
            t.ToolName, t.ToolCallId, SqliteTime.ToMicros(t.StartTime), t.DurationSeconds, t.ErrorType);

    public void InsertEvaluation(EvaluationRecord e) =>
        Execute(_insertEvaluation, e.Tenant, e.TraceId, e.SpanId, e.Sequence, e.AgentName, e.Name, e.Score, e.Label,
            SqliteTime.ToMicros(e.Time));

    /// <summary>Joins feedback that arrived before this (just inserted) invocation.</summary>
    public void JoinPendingFeedback(AgentInvocation invocation, List<FeedbackJoin> joined)
    {
        Bind(_selectPendingForInvocation, invocation.TraceId, invocation.SpanId, invocation.Tenant, invocation.TaskId);
        List<FeedbackRecord>? pending = null;
        using (var reader = _selectPendingForInvocation.ExecuteReader())
        {
            while (reader.Read())
            {
                (pending ??= []).Add(SqliteRecordReader.Feedback(reader, 0));
            }
        }

        if (pending is null)
        {
            return;
        }

        foreach (var feedback in pending)
        {
            Execute(_joinFeedback, feedback.Tenant, feedback.FeedbackId, invocation.TraceId, invocation.SpanId);
            joined.Add(new FeedbackJoin(invocation, feedback));
        }
    }

    public FeedbackResult AddFeedback(FeedbackRecord f)
    {
        var inserted = Execute(_insertFeedback, f.Tenant, f.FeedbackId, f.TaskId, f.TraceId, f.SpanId,
            f.Success is { } success ? (success ? 1 : 0) : null, f.Score, f.PredictedJson, f.ActualJson, f.Accuracy,
            SqliteTime.ToMicros(f.ReceivedAt)) == 1;

        if (!inserted)
        {
            // A resend of the same feedback id: report the state of what is stored, change nothing.
            return ExistingFeedbackState(f);
        }

        var invocation = f.SpanId is not null
            ? SelectInvocation(_selectInvocationBySpan, f.TraceId, f.SpanId, f.Tenant)
            : SelectInvocation(_selectInvocationByTask, f.Tenant, f.TaskId);
        if (invocation is null)
        {
            return new FeedbackResult(false, null);
        }

        Execute(_joinFeedback, f.Tenant, f.FeedbackId, invocation.TraceId, invocation.SpanId);
        return new FeedbackResult(true, invocation);
    }

    /// <summary>Deletes at most <paramref name="limit"/> rows of each table older than the cutoff.</summary>
    public long DeleteOlderThan(DateTimeOffset cutoff, int limit)
    {
        var micros = SqliteTime.ToMicros(cutoff);
        long deleted = 0;
        foreach (var (table, column) in (ReadOnlySpan<(string, string)>)[
                     ("provider_calls", "start_time"), ("tool_calls", "start_time"), ("evaluations", "time"),
                     ("invocations", "start_time"), ("feedback", "received_at")])
        {
            using var command = _connection.CreateCommand();
            command.CommandText =
                $"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} WHERE {column} < $cutoff LIMIT $limit)";
            command.Parameters.AddWithValue("$cutoff", micros);
            command.Parameters.AddWithValue("$limit", limit);
            deleted += command.ExecuteNonQuery();
        }

        return deleted;
    }

    public void Dispose()
    {
        foreach (var command in _commands)
        {
            command.Dispose();
        }
    }

    private FeedbackResult ExistingFeedbackState(FeedbackRecord f)
    {
        Bind(_selectFeedback, f.Tenant, f.FeedbackId);
        string? traceId = null, spanId = null;
        using (var reader = _selectFeedback.ExecuteReader())
        {
            if (reader.Read() && !reader.IsDBNull(Columns.FeedbackCount + 1))
            {
                traceId = reader.GetString(Columns.FeedbackCount);
                spanId = reader.GetString(Columns.FeedbackCount + 1);
            }
        }

        if (spanId is null)
        {
            return new FeedbackResult(false, null, AlreadyStored: true);
        }

        var invocation = SelectInvocation(_selectInvocationBySpan, traceId, spanId, f.Tenant);
        return new FeedbackResult(invocation is not null, invocation, AlreadyStored: true);
    }

    private AgentInvocation? SelectInvocation(SqliteCommand command, params object?[] values)
    {
        Bind(command, values);
        using var reader = command.ExecuteReader();
        return reader.Read() ? SqliteRecordReader.Invocation(reader, 0) : null;
    }

    private SqliteCommand Prepare(string sql)
    {
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        var count = 0;
        while (sql.Contains($"$p{count}", StringComparison.Ordinal))
        {
            command.Add($"$p{count}");
            count++;
        }

        _commands.Add(command);
        return command;
    }

    private static int Execute(SqliteCommand command, params object?[] values)
    {
        Bind(command, values);
        return command.ExecuteNonQuery();
    }

    private static void Bind(SqliteCommand command, params object?[] values)
    {
        for (var index = 0; index < values.Length; index++)
        {
            command.Parameters[index].Value = values[index] ?? DBNull.Value;
        }
    }

    private static string Placeholders(int count) =>
        string.Join(", ", Enumerable.Range(0, count).Select(index => $"$p{index}"));
}

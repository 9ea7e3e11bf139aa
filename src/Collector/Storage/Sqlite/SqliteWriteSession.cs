using Microsoft.Data.Sqlite;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Storage.Sqlite;

/// <summary>
/// The writer connection's prepared statements, used only by the writer loop (one thread at a time), always inside the
/// transaction the loop opened.
/// </summary>
internal sealed class SqliteWriteSession : IDisposable
{
    private readonly SqliteConnection _connection;
    private readonly List<SqliteCommand> _commands = [];
    private readonly RawInsertStatement _insertInvocation;
    private readonly RawInsertStatement _keepTaskLatestRun;
    private readonly RawInsertStatement _insertProviderCall;
    private readonly RawInsertStatement _insertToolCall;
    private readonly RawInsertStatement _insertEvaluation;
    private readonly RawInsertStatement _insertSpanLinkPack;
    private readonly RawInsertStatement _addToOwner;
    private readonly RawInsertStatement _addToEarlyOwner;
    private readonly RawInsertStatement _insertEarlyOwner;
    private readonly RawInsertStatement _takeEarlyOwner;
    private readonly RawInsertStatement _deleteEarlyOwnerWithoutCalls;
    private readonly RawInsertStatement _selectTraceNumber;
    private readonly RawInsertStatement _numberTrace;
    private readonly SqliteCommand _callBeforeAttribution;
    private readonly SqliteCommand _attributeProviderCall;
    private readonly SqliteCommand _attributeToolCall;
    private readonly SqliteCommand _attributeEvaluations;
    private readonly SqliteCommand _pruneSpanLinkPacks;
    private readonly SqliteCommand _pruneSpanExpiries;
    private readonly SqliteCommand _expireSpan;
    private readonly SqliteCommand _insertFeedback;
    private readonly SqliteCommand _selectFeedback;
    private readonly SqliteCommand _selectPendingForInvocation;
    private readonly SqliteCommand _joinFeedback;
    private readonly SqliteCommand _selectInvocationBySpan;
    private readonly SqliteCommand _selectInvocationByTask;

    // Feedback rows waiting for their invocation. Nearly always 0 under load: then no new invocation needs a lookup.
    // Recounted from the table whenever a rollback or retention may have made the in-memory figure wrong.
    private long _pendingFeedback;

    // Rows of early_call_owners (migration 12): owners with stored calls and no stored invocation of their span, with
    // those calls' sums (migration 14). Nearly always 0 under load: then no new invocation needs a lookup there.
    // Recounted like the feedback figure.
    private long _earlyOwners;

    // The numbers of the traces this ingest operation has looked up or numbered (migration 17). Cleared when an
    // operation begins: a savepoint or transaction rolled back takes the rows of traces it added with it, and no
    // number outlives the operation that read it.
    private readonly Dictionary<(string Tenant, string TraceId), long> _traceNumbers = [];

    // The number the next new trace gets: above every number a stored span has. Numbers skipped by a rollback stay
    // unused; a trace with no span left is deleted from traces by retention, so no stored trace holds a number above it.
    private long _nextTraceNumber;

    // The trace number of (tenant, trace_id), bound as the two parameters named, as a subquery: the statements that read
    // or change a stored span go through it to the span tables' key (trace_no, span_id); a trace not in traces has no
    // span stored (NULL: no row).
    private static string TraceNumberOf(string tenant, string traceId) =>
        $"(SELECT trace_no FROM traces WHERE tenant = {tenant} AND trace_id = {traceId})";

    public SqliteWriteSession(SqliteConnection connection)
    {
        _connection = connection;
        _insertInvocation = new(connection, $"INSERT INTO invocations ({Columns.Invocation}, {CallTotals.ColumnNames}, trace_no) VALUES ({Placeholders(34)}) ON CONFLICT DO NOTHING");
        _keepTaskLatestRun = new(connection, TaskLatestRunSql);
        // Numbered parameters: the raw statement binds by position, and the owner's key comes first.
        _addToOwner = new(connection, $"""
            UPDATE invocations SET call_count = call_count + ?4, call_tokens = call_tokens + ?5,
                call_unpriced_tokens = call_unpriced_tokens + ?6, call_retries = call_retries + ?7,
                call_fallbacks = call_fallbacks + ?8
            WHERE trace_no = {TraceNumberOf("?1", "?2")} AND span_id = ?3
            """);
        // The record of owners whose calls are stored while no invocation of that span is, with the sums of those calls
        // (docs/collector/storage.md): made or added to where adding calls to their owner finds no invocation, taken
        // out with its sums when the invocation comes, and when retention or attribution leaves the owner no call. No
        // statement here reads the calls themselves (provider_calls has no owner index since migration 14).
        _addToEarlyOwner = new(connection, """
            UPDATE early_call_owners SET call_count = call_count + ?4, call_tokens = call_tokens + ?5,
                call_unpriced_tokens = call_unpriced_tokens + ?6, call_retries = call_retries + ?7,
                call_fallbacks = call_fallbacks + ?8
            WHERE tenant = ?1 AND trace_id = ?2 AND span_id = ?3
            """);
        _insertEarlyOwner = new(connection, $"INSERT INTO early_call_owners (tenant, trace_id, span_id, {CallTotals.ColumnNames}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
        _takeEarlyOwner = new(connection, $"DELETE FROM early_call_owners WHERE tenant = ?1 AND trace_id = ?2 AND span_id = ?3 RETURNING {CallTotals.ColumnNames}");
        _deleteEarlyOwnerWithoutCalls = new(connection,
            "DELETE FROM early_call_owners WHERE tenant = ?1 AND trace_id = ?2 AND span_id = ?3 AND call_count <= 0");
        _selectTraceNumber = new(connection, "SELECT trace_no FROM traces WHERE tenant = ?1 AND trace_id = ?2");
        _numberTrace = new(connection, "INSERT INTO traces (tenant, trace_id, trace_no) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING");
        _callBeforeAttribution = Prepare($"""
            SELECT owner_span_id, input_tokens + output_tokens, unpriced_tokens, attempt > 1, fallback_from IS NOT NULL
            FROM provider_calls WHERE trace_no = {TraceNumberOf("$p0", "$p1")} AND span_id = $p2
            """);
        _insertProviderCall = new(connection, $"INSERT INTO provider_calls ({Columns.ProviderCallInsert}, trace_no) VALUES ({Placeholders(26)}) ON CONFLICT DO NOTHING");
        _insertToolCall = new(connection, $"INSERT INTO tool_calls ({Columns.ToolCall}, trace_no) VALUES ({Placeholders(13)}) ON CONFLICT DO NOTHING");
        _insertEvaluation = new(connection, $"INSERT INTO evaluations ({Columns.Evaluation}) VALUES ({Placeholders(10)}) ON CONFLICT DO NOTHING");
        _insertSpanLinkPack = new(connection, "INSERT INTO span_link_packs (seen_at, links) VALUES ($p0, $p1)");
        // A call attributed by a later request also rolls up into its invocation from then on (owner_span_id).
        _attributeProviderCall = Prepare($"UPDATE provider_calls SET invocation_span_id = $p3, owner_span_id = $p3, agent_name = $p4 WHERE trace_no = {TraceNumberOf("$p0", "$p1")} AND span_id = $p2");
        _attributeToolCall = Prepare($"UPDATE tool_calls SET invocation_span_id = $p3, agent_name = $p4 WHERE trace_no = {TraceNumberOf("$p0", "$p1")} AND span_id = $p2");
        _attributeEvaluations = Prepare("UPDATE evaluations SET agent_name = $p3 WHERE tenant = $p0 AND trace_id = $p1 AND span_id = $p2");
        _pruneSpanLinkPacks = Prepare("DELETE FROM span_link_packs WHERE seen_at < $p0");
        _pruneSpanExpiries = Prepare("DELETE FROM span_link_expiries WHERE seen_at < $p0");
        _expireSpan = Prepare("INSERT INTO span_link_expiries (tenant, trace_id, span_id, seen_at) VALUES ($p0, $p1, $p2, $p3) ON CONFLICT DO NOTHING");
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
        _selectInvocationBySpan = Prepare($"SELECT {Columns.Invocation} FROM invocations WHERE trace_no = {TraceNumberOf("$p2", "$p0")} AND span_id = $p1");
        _selectInvocationByTask = Prepare(InvocationByTaskSql);
        RecountPending();
        using var highest = connection.CreateCommand();
        highest.CommandText = "SELECT max(ifnull((SELECT max(trace_no) FROM invocations), 0), ifnull((SELECT max(trace_no) FROM provider_calls), 0), ifnull((SELECT max(trace_no) FROM tool_calls), 0))";
        _nextTraceNumber = (long)highest.ExecuteScalar()! + 1;
    }

    /// <summary>Begins an ingest operation: trace numbers are looked up afresh (see <see cref="_traceNumbers"/>).</summary>
    public void BeginIngest() => _traceNumbers.Clear();

    /// <summary>
    /// The number of a trace whose records are about to be inserted: the next number, stored in traces now, unless the
    /// trace has one already (the insert that follows stores a record of it, so no trace stays numbered without a span).
    /// Inserted first and looked up only when the trace is stored: a new trace (nearly every one under load) costs one
    /// search of traces' random-keyed tree instead of a search that finds nothing and a second one to insert.
    /// </summary>
    public long TraceNumber(string tenant, string traceId)
    {
        if (_traceNumbers.TryGetValue((tenant, traceId), out var known))
        {
            return known;
        }

        long number;
        if (_numberTrace.Text(tenant).Text(traceId).Integer(_nextTraceNumber).Execute() == 1)
        {
            number = _nextTraceNumber++;
        }
        else
        {
            Span<long> found = stackalloc long[1];
            if (!_selectTraceNumber.Text(tenant).Text(traceId).QueryIntegers(found))
            {
                throw new InvalidOperationException($"Trace {traceId} met a stored key in traces and has no number there.");
            }

            number = found[0];
        }

        _traceNumbers[(tenant, traceId)] = number;
        return number;
    }

    /// <summary>After a rollback that could not be recounted: feedback and early call owners are looked up rather than missed.</summary>
    public void AssumePending()
    {
        _pendingFeedback = long.MaxValue / 2;
        _earlyOwners = long.MaxValue / 2;
    }

    /// <summary>Recounts the in-memory figures a rollback may have made wrong.</summary>
    public void RecountPending()
    {
        RecountPendingFeedback();
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM early_call_owners";
        _earlyOwners = (long)command.ExecuteScalar()!;
    }

    private void RecountPendingFeedback()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM feedback WHERE invocation_span_id IS NULL";
        _pendingFeedback = (long)command.ExecuteScalar()!;
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

    // Each insert reports whether it stored a new row (changes() == 1) or met the primary key of a stored one. A new run
    // of a task becomes the task's latest run when it is later than the one stored (migration 18).
    public bool InsertInvocation(AgentInvocation i, CallTotals calls, long traceNumber)
    {
        if (!InsertInvocationRow(i, calls, traceNumber))
        {
            return false;
        }

        if (i.TaskId is not null)
        {
            _keepTaskLatestRun.Text(i.Tenant).Text(i.TaskId).Integer(SqliteTime.ToMicros(i.StartTime)).Text(i.TraceId)
                .Text(i.SpanId).Execute();
        }

        return true;
    }

    private bool InsertInvocationRow(AgentInvocation i, CallTotals calls, long traceNumber) =>
        _insertInvocation.Text(i.Tenant).Text(i.TraceId).Text(i.SpanId).Text(i.ParentSpanId).Text(i.ServiceName)
            .Text(i.AgentName).Text(i.AgentId).Text(i.AgentType).Text(i.TaskId).Text(i.TaskType).Text(i.JobId)
            .Text(i.ConversationId).Text(i.Experiment).Text(i.Variant).Integer(SqliteTime.ToMicros(i.StartTime))
            .Real(i.DurationSeconds).Text(i.Outcome).Text(i.ErrorType).Real(i.Confidence).Real(i.Quality)
            .Integer(i.Tokens.Input).Integer(i.Tokens.Output).Integer(i.Tokens.CacheRead)
            .Integer(i.Tokens.CacheCreation).Integer(i.Tokens.Reasoning).Real(i.CostUsd).Text(i.AttributesJson).Real(i.SampleWeight)
            .Integer(calls.Calls).Integer(calls.Tokens).Integer(calls.UnpricedTokens).Integer(calls.Retries).Integer(calls.Fallbacks)
            .Integer(traceNumber).Execute() == 1;

    /// <summary>
    /// What the calls stored by earlier writes add up to for a span whose invocation is about to be inserted: nothing
    /// unless the span is among the early call owners, whose record this takes out with the sums it holds (the
    /// invocation will be stored, or already is, and carries them from then on).
    /// </summary>
    public CallTotals EarlierCallTotals(string tenant, string traceId, string spanId)
    {
        if (_earlyOwners <= 0)
        {
            return default;
        }

        Span<long> values = stackalloc long[5];
        if (!_takeEarlyOwner.Text(tenant).Text(traceId).Text(spanId).QueryIntegers(values))
        {
            return default;
        }

        _earlyOwners--;
        return new CallTotals(values[0], values[1], values[2], values[3], values[4]);
    }

    /// <summary>
    /// Adds new calls to their owner's summary; when the owner is no stored invocation, to its record among the early
    /// call owners (made if there is none), so that its invocation, if it ever comes, counts them.
    /// </summary>
    public void AddCallsToOwner(string tenant, string traceId, string ownerSpanId, CallTotals calls)
    {
        if (AddToOwner(tenant, traceId, ownerSpanId, calls) == 0)
        {
            AddToEarlyOwner(tenant, traceId, ownerSpanId, calls);
        }
    }

    /// <summary>
    /// Takes calls that leave (deleted or re-owned) out of their owner's summary; when the owner is no stored
    /// invocation, out of its early call owner's sums, and takes that record out once it has no call left.
    /// </summary>
    private void TakeCallsFromOwner(string tenant, string traceId, string ownerSpanId, CallTotals calls)
    {
        if (AddToOwner(tenant, traceId, ownerSpanId, -calls) == 0)
        {
            _addToEarlyOwner.Text(tenant).Text(traceId).Text(ownerSpanId).Integer(-calls.Calls).Integer(-calls.Tokens)
                .Integer(-calls.UnpricedTokens).Integer(-calls.Retries).Integer(-calls.Fallbacks).Execute();
            _earlyOwners -= _deleteEarlyOwnerWithoutCalls.Text(tenant).Text(traceId).Text(ownerSpanId).Execute();
        }
    }

    /// <summary>Adds calls to an early call owner's sums, recording the owner if it is not yet recorded.</summary>
    private void AddToEarlyOwner(string tenant, string traceId, string ownerSpanId, CallTotals calls)
    {
        if (_addToEarlyOwner.Text(tenant).Text(traceId).Text(ownerSpanId).Integer(calls.Calls).Integer(calls.Tokens)
                .Integer(calls.UnpricedTokens).Integer(calls.Retries).Integer(calls.Fallbacks).Execute() == 0)
        {
            _earlyOwners += _insertEarlyOwner.Text(tenant).Text(traceId).Text(ownerSpanId).Integer(calls.Calls)
                .Integer(calls.Tokens).Integer(calls.UnpricedTokens).Integer(calls.Retries).Integer(calls.Fallbacks).Execute();
        }
    }

    /// <summary>Adds to a stored invocation's summary; the rows changed (0 when the owner is not a stored invocation).</summary>
    private int AddToOwner(string tenant, string traceId, string ownerSpanId, CallTotals calls) =>
        _addToOwner.Text(tenant).Text(traceId).Text(ownerSpanId).Integer(calls.Calls).Integer(calls.Tokens)
            .Integer(calls.UnpricedTokens).Integer(calls.Retries).Integer(calls.Fallbacks).Execute();

    public bool InsertProviderCall(ProviderCall c, long traceNumber) =>
        _insertProviderCall.Text(c.Tenant).Text(c.TraceId).Text(c.SpanId).Text(c.ParentSpanId).Text(c.InvocationSpanId)
            .Text(c.InvocationSpanId ?? c.ParentSpanId).Text(c.AgentName).Text(c.Operation).Text(c.Provider)
            .Text(c.RequestModel).Text(c.ResponseModel).Integer(SqliteTime.ToMicros(c.StartTime)).Real(c.DurationSeconds)
            .Integer(c.Tokens.Input).Integer(c.Tokens.Output).Integer(c.Tokens.CacheRead).Integer(c.Tokens.CacheCreation)
            .Integer(c.Tokens.Reasoning).Real(c.CostUsd).Integer(c.UnpricedTokens).Integer(c.Attempt)
            .Text(c.FallbackFrom).Text(c.FallbackReason).Text(c.ErrorType).Real(c.SampleWeight).Integer(traceNumber)
            .Execute() == 1;

    public bool InsertToolCall(ToolCall t, long traceNumber) =>
        _insertToolCall.Text(t.Tenant).Text(t.TraceId).Text(t.SpanId).Text(t.ParentSpanId).Text(t.InvocationSpanId)
            .Text(t.AgentName).Text(t.ToolName).Text(t.ToolCallId).Integer(SqliteTime.ToMicros(t.StartTime))
            .Real(t.DurationSeconds).Text(t.ErrorType).Real(t.SampleWeight).Integer(traceNumber)
            .Execute() == 1;

    public bool InsertEvaluation(EvaluationRecord e) =>
        _insertEvaluation.Text(e.Tenant).Text(e.TraceId).Text(e.SpanId).Integer(e.Sequence).Text(e.AgentName)
            .Text(e.Name).Real(e.Score).Text(e.Label).Integer(SqliteTime.ToMicros(e.Time)).Real(e.SampleWeight)
            .Execute() == 1;

    /// <summary>One commit's span links seen at one time, packed (<see cref="SpanLinkPack"/>): one row for all of them.</summary>
    public void InsertSpanLinkPack(DateTimeOffset seenAt, byte[] pack) =>
        _insertSpanLinkPack.Integer(SqliteTime.ToMicros(seenAt)).Blob(pack).Execute();

    /// <summary>Gives the records of one span the agent and invocation a later request made known.</summary>
    public void Attribute(AttributionUpdate a)
    {
        // A re-owned call leaves its old owner's summary and joins the new one's (when they are stored invocations).
        Bind(_callBeforeAttribution, a.Tenant, a.TraceId, a.SpanId);
        string? oldOwner = null;
        CallTotals? call = null;
        using (var reader = _callBeforeAttribution.ExecuteReader())
        {
            if (reader.Read())
            {
                oldOwner = reader.IsDBNull(0) ? null : reader.GetString(0);
                call = new CallTotals(1, reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4));
            }
        }

        Execute(_attributeProviderCall, a.Tenant, a.TraceId, a.SpanId, a.InvocationSpanId, a.AgentName);
        if (call is { } moved && !string.Equals(oldOwner, a.InvocationSpanId, StringComparison.Ordinal))
        {
            if (oldOwner is not null)
            {
                TakeCallsFromOwner(a.Tenant, a.TraceId, oldOwner, moved);
            }

            AddCallsToOwner(a.Tenant, a.TraceId, a.InvocationSpanId, moved);
        }

        Execute(_attributeToolCall, a.Tenant, a.TraceId, a.SpanId, a.InvocationSpanId, a.AgentName);
        Execute(_attributeEvaluations, a.Tenant, a.TraceId, a.SpanId, a.AgentName);
    }

    /// <summary>Records that a span's records were counted without an agent when their horizon passed.</summary>
    public void ExpireSpan(ExpiredSpan e) => Execute(_expireSpan, e.Tenant, e.TraceId, e.SpanId, SqliteTime.ToMicros(e.SeenAt));

    /// <summary>Deletes the link packs seen before <paramref name="before"/> and the decisions on their links.</summary>
    public void PruneSpanLinks(DateTimeOffset before)
    {
        Execute(_pruneSpanLinkPacks, SqliteTime.ToMicros(before));
        Execute(_pruneSpanExpiries, SqliteTime.ToMicros(before));
    }

    /// <summary>Joins feedback that arrived before this (just inserted) invocation.</summary>
    public void JoinPendingFeedback(AgentInvocation invocation, NewRecords joined)
    {
        if (_pendingFeedback <= 0)
        {
            return;
        }

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
            joined.Joined(new FeedbackJoin(invocation, feedback));
            _pendingFeedback--;
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
            _pendingFeedback++;
            return new FeedbackResult(false, null);
        }

        Execute(_joinFeedback, f.Tenant, f.FeedbackId, invocation.TraceId, invocation.SpanId);
        return new FeedbackResult(true, invocation);
    }

    /// <summary>
    /// Rows older than <c>$cutoff</c> by a time index keyed by the second (migration 20): the range on the second is what
    /// SQLite searches the index with, the time itself is tested on each entry of the cutoff's own second.
    /// </summary>
    internal static string SecondsBefore(string column) =>
        $"{TimeBucket.Of(column)} <= {TimeBucket.Of("$cutoff")} AND {column} < $cutoff";

    /// <summary>Deletes at most <paramref name="limit"/> rows of each table older than the cutoff.</summary>
    public long DeleteOlderThan(DateTimeOffset cutoff, int limit)
    {
        var micros = SqliteTime.ToMicros(cutoff);
        long deleted = 0;
        // The calls deleted leave the summary of their owner, which may stay (a call that started before its invocation).
        var leaving = new Dictionary<(string, string, string), CallTotals>();
        // The traces some of whose spans this slice deletes: each leaves traces once none of its spans is left.
        var touched = new HashSet<(string Tenant, string TraceId, long Number)>();
        using (var calls = _connection.CreateCommand())
        {
            calls.CommandText = $"""
                DELETE FROM provider_calls WHERE rowid IN (SELECT rowid FROM provider_calls WHERE {SecondsBefore("start_time")} LIMIT $limit)
                RETURNING tenant, trace_id, owner_span_id, input_tokens + output_tokens, unpriced_tokens, attempt > 1,
                    fallback_from IS NOT NULL, trace_no
                """;
            calls.Parameters.AddWithValue("$cutoff", micros);
            calls.Parameters.AddWithValue("$limit", limit);
            using var reader = calls.ExecuteReader();
            while (reader.Read())
            {
                deleted++;
                touched.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(7)));
                if (!reader.IsDBNull(2))
                {
                    var key = (reader.GetString(0), reader.GetString(1), reader.GetString(2));
                    leaving[key] = leaving.GetValueOrDefault(key) +
                        new CallTotals(1, reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6));
                }
            }
        }

        // Before the invocations go: an owner deleted below then leaves with the calls that stay already taken out.
        foreach (var ((tenant, traceId, owner), calls) in leaving)
        {
            TakeCallsFromOwner(tenant, traceId, owner, calls);
        }

        using (var tools = _connection.CreateCommand())
        {
            tools.CommandText = $"""
                DELETE FROM tool_calls WHERE rowid IN (SELECT rowid FROM tool_calls WHERE {SecondsBefore("start_time")} LIMIT $limit)
                RETURNING tenant, trace_id, trace_no
                """;
            tools.Parameters.AddWithValue("$cutoff", micros);
            tools.Parameters.AddWithValue("$limit", limit);
            using var reader = tools.ExecuteReader();
            while (reader.Read())
            {
                deleted++;
                touched.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2)));
            }
        }

        deleted += DeleteChunk("evaluations", SecondsBefore("time"), micros, limit);

        // An invocation deleted while some of its calls stay (they started after it) leaves them with no stored
        // invocation: its span joins the early call owners, so that the invocation, if it is ever sent again, counts them.
        using (var invocations = _connection.CreateCommand())
        {
            invocations.CommandText = $"""
                DELETE FROM invocations WHERE rowid IN (SELECT rowid FROM invocations WHERE {SecondsBefore("start_time")} LIMIT $limit)
                RETURNING tenant, trace_id, span_id, call_count, call_tokens, call_unpriced_tokens, call_retries, call_fallbacks,
                    trace_no
                """;
            invocations.Parameters.AddWithValue("$cutoff", micros);
            invocations.Parameters.AddWithValue("$limit", limit);
            List<(string, string, string, CallTotals)>? keepingCalls = null;
            using (var reader = invocations.ExecuteReader())
            {
                while (reader.Read())
                {
                    deleted++;
                    touched.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(8)));
                    if (reader.GetInt64(3) > 0)
                    {
                        (keepingCalls ??= []).Add((reader.GetString(0), reader.GetString(1), reader.GetString(2),
                            new CallTotals(reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7))));
                    }
                }
            }

            // The invocation's summary is the sum of the calls that stay (the deleted ones were taken out above).
            foreach (var (tenant, traceId, spanId, calls) in keepingCalls ?? [])
            {
                AddToEarlyOwner(tenant, traceId, spanId, calls);
            }
        }

        DeleteTracesWithoutSpans(touched);
        deleted += DeleteChunk("feedback", "received_at < $cutoff", micros, limit);

        // Resolved alerts go by their resolution time; open ones stay while they last.
        using (var alerts = _connection.CreateCommand())
        {
            alerts.CommandText =
                "DELETE FROM alerts WHERE rowid IN (SELECT rowid FROM alerts WHERE resolved_at < $cutoff LIMIT $limit)";
            alerts.Parameters.AddWithValue("$cutoff", micros);
            alerts.Parameters.AddWithValue("$limit", limit);
            deleted += alerts.ExecuteNonQuery();
        }

        RecountPendingFeedback();
        return deleted;
    }

    /// <summary>
    /// Deletes from traces those of <paramref name="touched"/> with no span left in the three span tables (each a probe
    /// of a (trace_no, span_id) key's prefix), so that traces holds what the span tables hold, no more (migration 17).
    /// </summary>
    private void DeleteTracesWithoutSpans(HashSet<(string Tenant, string TraceId, long Number)> touched)
    {
        if (touched.Count == 0)
        {
            return;
        }

        using var command = _connection.CreateCommand();
        command.CommandText = """
            DELETE FROM traces WHERE tenant = $tenant AND trace_id = $trace
              AND NOT EXISTS (SELECT 1 FROM invocations WHERE trace_no = $number)
              AND NOT EXISTS (SELECT 1 FROM provider_calls WHERE trace_no = $number)
              AND NOT EXISTS (SELECT 1 FROM tool_calls WHERE trace_no = $number)
            """;
        var tenant = command.Parameters.Add("$tenant", SqliteType.Text);
        var trace = command.Parameters.Add("$trace", SqliteType.Text);
        var number = command.Parameters.Add("$number", SqliteType.Integer);
        foreach (var (tenantValue, traceValue, numberValue) in touched)
        {
            tenant.Value = tenantValue;
            trace.Value = traceValue;
            number.Value = numberValue;
            command.ExecuteNonQuery();
        }
    }

    private int DeleteChunk(string table, string olderThanCutoff, long micros, int limit)
    {
        using var command = _connection.CreateCommand();
        command.CommandText =
            $"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} WHERE {olderThanCutoff} LIMIT $limit)";
        command.Parameters.AddWithValue("$cutoff", micros);
        command.Parameters.AddWithValue("$limit", limit);
        return command.ExecuteNonQuery();
    }

    /// <summary>Inserts alerts, or updates the stored ones' value, threshold, message and resolution.</summary>
    public void SaveAlerts(IReadOnlyList<AlertRecord> alerts)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = """
            INSERT INTO alerts (tenant, id, agent, window_name, metric, level, value, threshold, comparison, message,
                                recommendation, active_since, resolved_at)
            VALUES ($tenant, $id, $agent, $window, $metric, $level, $value, $threshold, $comparison, $message,
                    $recommendation, $since, $resolved)
            ON CONFLICT (tenant, id) DO UPDATE SET value = excluded.value, threshold = excluded.threshold,
                comparison = excluded.comparison, message = excluded.message,
                recommendation = excluded.recommendation, resolved_at = excluded.resolved_at
            """;
        foreach (var alert in alerts)
        {
            command.Parameters.Clear();
            command.Parameters.AddWithValue("$tenant", alert.Tenant);
            command.Parameters.AddWithValue("$id", alert.Id);
            command.Parameters.AddWithValue("$agent", alert.Agent);
            command.Parameters.AddWithValue("$window", alert.Window);
            command.Parameters.AddWithValue("$metric", alert.Metric);
            command.Parameters.AddWithValue("$level", alert.Level);
            command.Parameters.AddWithValue("$value", alert.Value);
            command.Parameters.AddWithValue("$threshold", alert.Threshold);
            command.Parameters.AddWithValue("$comparison", alert.Comparison);
            command.Parameters.AddWithValue("$message", alert.Message);
            command.Parameters.AddWithValue("$recommendation", alert.Recommendation);
            command.Parameters.AddWithValue("$since", SqliteTime.ToMicros(alert.ActiveSince));
            command.Parameters.AddWithValue("$resolved", alert.ResolvedAt is { } resolved ? SqliteTime.ToMicros(resolved) : DBNull.Value);
            command.ExecuteNonQuery();
        }
    }

    public void Dispose()
    {
        foreach (var command in _commands)
        {
            command.Dispose();
        }

        _insertInvocation.Dispose();
        _keepTaskLatestRun.Dispose();
        _insertProviderCall.Dispose();
        _insertToolCall.Dispose();
        _insertEvaluation.Dispose();
        _insertSpanLinkPack.Dispose();
        _addToOwner.Dispose();
        _addToEarlyOwner.Dispose();
        _insertEarlyOwner.Dispose();
        _takeEarlyOwner.Dispose();
        _deleteEarlyOwnerWithoutCalls.Dispose();
        _selectTraceNumber.Dispose();
        _numberTrace.Dispose();
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

    /// <summary>
    /// A new run of a task (migration 18): stored as the task's latest run unless the stored one started later (or in
    /// the same microsecond with a greater (trace id, span id)), so that the row is a function of the runs stored
    /// whatever order they came in, and the migration's fill gives the same.
    /// </summary>
    internal const string TaskLatestRunSql = """
        INSERT INTO task_latest_runs (tenant, task_id, start_time, trace_id, span_id) VALUES (?1, ?2, ?3, ?4, ?5)
        ON CONFLICT (tenant, task_id) DO UPDATE SET
            start_time = excluded.start_time, trace_id = excluded.trace_id, span_id = excluded.span_id
        WHERE (excluded.start_time, excluded.trace_id, excluded.span_id)
            > (task_latest_runs.start_time, task_latest_runs.trace_id, task_latest_runs.span_id)
        """;

    /// <summary>
    /// The latest invocation of a task (a retried task is judged by its last attempt), for feedback that names a task:
    /// task_latest_runs holds it (migration 18, kept by the writer's inserts and a trigger on deletes), then three key searches (the task,
    /// its run's trace number, the run). It replaced an index of every run by task, which each run wrote at its task's
    /// place in it: one more page per task a commit carried (docs/collector/storage-performance.md, walmap).
    /// </summary>
    internal static readonly string InvocationByTaskSql = $"""
        SELECT {Columns.Prefixed(Columns.Invocation, "i")} FROM task_latest_runs k
        JOIN traces t ON t.tenant = k.tenant AND t.trace_id = k.trace_id
        JOIN invocations i ON i.trace_no = t.trace_no AND i.span_id = k.span_id
        WHERE k.tenant = $p0 AND k.task_id = $p1
        """;

    private static string Placeholders(int count) =>
        string.Join(", ", Enumerable.Range(0, count).Select(index => $"$p{index}"));
}

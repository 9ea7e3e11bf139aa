using System.Data.Common;
using PerfOtel.Collector.Records;

namespace PerfOtel.Collector.Storage;

/// <summary>
/// The SQL of the run reads (<see cref="IRunStore"/>), shared by both providers: named <c>@</c> parameters, which
/// SQLite and Npgsql both accept. A provider supplies how it stores a time and how it picks an invocation's latest
/// feedback, and how it keeps the page of at most <c>limit</c> rows the outer side of its joins: SQLite, without table
/// statistics, would otherwise walk a whole tenant's calls or invocations and probe the page (seconds over a million
/// rows); <c>CROSS JOIN</c> fixes its join order. PostgreSQL plans from its statistics and takes a plain <c>JOIN</c>.
/// With <paramref name="traceNumbers"/> (SQLite since its migration 17) the span tables are keyed (trace_no, span_id)
/// and traces maps (tenant, trace_id) to trace_no: every read of them by trace, and every join between them, goes
/// through trace_no (a join on trace_id would find no index and scan): the page keeps (trace_id, span_id), which its
/// indexes cover, and each of its rows finds its trace's number in traces (one probe per row of the page). PostgreSQL
/// keeps (tenant, trace_id, span_id).
/// With <paramref name="secondOf"/> (SQLite since its migration 21) the run list's indexes are keyed by the second a run
/// starts in (the expression <paramref name="secondOf"/> gives, over a column or a parameter), each second's entries in
/// rowid order: the newest-first order is (second, start_time, span_id, trace_id), the same order, which SQLite sorts one
/// second at a time, and every bound on the start time (since, until, the keyset cursor) bounds the second too, so that it
/// is a range of the index. PostgreSQL keeps (start_time, span_id, trace_id) in its indexes and its SQL.
/// </summary>
internal sealed class RunSql(Func<DateTimeOffset, object> timeValue, Func<DbDataReader, int, DateTimeOffset> readTime,
    string latestFeedbackJoin, string pageFirstJoin, Func<string, string> indexHint, bool traceNumbers = false,
    Func<string, string>? secondOf = null)
{
    /// <summary>The run list's newest-first order on invocation <c>i</c>, led by the second where the indexes are keyed by it.</summary>
    private string NewestFirst =>
        "ORDER BY " + (secondOf is null ? "" : secondOf("i.start_time") + " DESC, ") + "i.start_time DESC, i.span_id DESC, i.trace_id DESC";

    /// <summary>The partial index of low-quality runs, which the second step of quality_concern names.</summary>
    private string LowQualityIndex => secondOf is null ? "ix_invocations_tenant_low_quality_start" : "ix_invocations_tenant_low_quality_second";

    /// <summary>
    /// Where the indexes are keyed by the second: an agent's walk (no job, error type, trace or warning in its conditions)
    /// names the agent's index. Without statistics SQLite weighs (tenant, agent, second) and (tenant, second) alike when
    /// the seconds have two bounds (since and until, or since and a cursor), takes the shorter and tests the agent on every
    /// run of the tenant.
    /// </summary>
    private string AgentIndex(RunSearch search, bool warningInConditions) =>
        secondOf is not null && search.AgentName is not null && search.JobId is null && search.ErrorType is null
            && search.TraceId is null && !warningInConditions
            ? " " + indexHint("ix_invocations_tenant_agent_second")
            : "";

    /// <summary>A bound on the start time, with the same bound on its second where the indexes are keyed by it.</summary>
    private string StartBound(string comparison, string parameter) =>
        secondOf is null
            ? $"i.start_time {comparison} {parameter}"
            : $"{secondOf("i.start_time")} {(comparison == "<" ? "<=" : comparison)} {secondOf(parameter)} AND i.start_time {comparison} {parameter}";

    /// <summary>Rows <paramref name="a"/> and <paramref name="b"/> are of the same trace (their tenants compared apart).</summary>
    private string SameTrace(string a, string b) =>
        traceNumbers ? $"{a}.trace_no = {b}.trace_no" : $"{a}.trace_id = {b}.trace_id";

    /// <summary>
    /// A row (<paramref name="prefix"/>: its alias and a dot, or nothing) is of the trace <paramref name="trace"/> of
    /// tenant <paramref name="tenant"/> (the row's tenant compared apart).
    /// </summary>
    private string InTrace(string prefix, string tenant, string trace) =>
        traceNumbers
            ? $"{prefix}trace_no = (SELECT t.trace_no FROM traces t WHERE t.tenant = {tenant} AND t.trace_id = {trace})"
            : $"{prefix}trace_id = {trace}";

    /// <summary>The most records of one kind a trace read returns: a run is read whole, and a trace is not unbounded.</summary>
    public const int MaxTraceRecords = 10_000;

    // Roll-up columns after the invocation's own: calls, five token sums, cost, unpriced tokens, retries, fallbacks,
    // failed calls, highest attempt. Then the feedback columns.
    private const int RollUpAt = Columns.InvocationCount;
    private const int FeedbackAt = RollUpAt + 12;

    /// <summary>
    /// How many invocations <c>quality_concern</c>'s first, newest-first walk reads per result asked for, before it asks
    /// the low-quality index and the feedback accuracy index for the rest (<see cref="SearchAsync"/>). Internal and
    /// settable so that tests can force the second step; both steps give the same runs.
    /// </summary>
    internal static int TimeWalkRowsPerResult { get; set; } = 40;

    private enum Plan
    {
        /// <summary>
        /// Every condition on one newest-first walk: no warning, or a warning with a time-ordered partial index (its
        /// predicate repeated in the condition, so that the walk is a range of that index).
        /// </summary>
        Walk,

        /// <summary>The newest <c>@window</c> runs of the other conditions, filtered by the warning.</summary>
        Window,

        /// <summary>
        /// <c>quality_concern</c> after the window: the newest page of runs below the quality index's bound (its
        /// time-ordered partial index) merged with the runs whose feedback's accuracy is below its threshold (the
        /// feedback accuracy index), sorted newest first.
        /// </summary>
        QualityOrFeedback,
    }

    /// <summary>
    /// The run list (<c>GET /api/v1/invocations</c>), exact for every filter. A warning with a time-ordered partial index
    /// at its default threshold (<c>low_confidence</c>, <c>high_token_usage</c>, <c>many_retries</c> at that threshold or
    /// a stricter one, and the threshold-free <c>fallback_used</c>, <c>unpriced_model</c>) is one range of that index.
    /// <c>quality_concern</c>, which its latest feedback can also raise, takes up to two steps: first the newest
    /// <see cref="TimeWalkRowsPerResult"/> × limit runs of the other filters are walked newest first; if they hold a
    /// page, that is the page. Otherwise the rest comes from the newest runs below the quality bound older than that
    /// window (an index range) merged with the runs whose feedback is below the accuracy threshold (the feedback
    /// accuracy index). A threshold looser than the index's bound walks the time index.
    /// </summary>
    public async Task<List<RunRow>> SearchAsync(RunSearch search,
        Func<string, List<(string Name, object Value)>, Func<DbDataReader, object>, Task<List<object>>> query)
    {
        ArgumentNullException.ThrowIfNull(search);
        ArgumentNullException.ThrowIfNull(query);
        if (search.Warning is not { } warning || !TakesTwoSteps(warning) || search.Limit <= 0)
        {
            var (sql, parameters) = Search(search);
            return (await query(sql, parameters, ReadRow).ConfigureAwait(false)).Cast<RunRow>().ToList();
        }

        var window = (int)Math.Min(int.MaxValue, (long)search.Limit * Math.Max(1, TimeWalkRowsPerResult));
        var (windowSql, windowParameters) = Build(search, null, Plan.Window, window);
        var rows = (await query(windowSql, windowParameters, ReadRow).ConfigureAwait(false)).Cast<RunRow>().ToList();
        if (rows.Count >= search.Limit)
        {
            return rows;
        }

        // The oldest run of the window: none when the other filters have no more runs than the window held.
        var (endSql, endParameters) = WindowEnd(search, window);
        var end = (await query(endSql, endParameters,
            r => new RunCursor(readTime(r, 0), r.GetString(1), r.GetString(2))).ConfigureAwait(false)).Cast<RunCursor>().FirstOrDefault();
        if (end is null)
        {
            return rows;
        }

        var (restSql, restParameters) = Build(search with { After = end, Limit = search.Limit - rows.Count }, null, Plan.QualityOrFeedback, 0);
        rows.AddRange((await query(restSql, restParameters, ReadRow).ConfigureAwait(false)).Cast<RunRow>());
        return rows;
    }

    /// <summary>
    /// The time-ordered partial indexes of migration 11 hold the runs past the thresholds' defaults of when it was
    /// written (constants, so that the index and its query stay one whatever the defaults become): confidence below 0.5,
    /// quality below 0.7, run tokens above 5 000, and every retried run. A threshold at or inside those bounds (the
    /// warning as rare as by default, or rarer) is a range of them, tested exactly; a looser one (a tenant's own
    /// threshold) walks the time index newest first. <c>slow_execution</c> (above each agent's own p95) has none: at
    /// most about one run in twenty is above its agent's p95, so the walk finds a page within a few thousand runs.
    /// </summary>
    public const double IndexedConfidenceBelow = 0.5;

    /// <inheritdoc cref="IndexedConfidenceBelow"/>
    public const double IndexedQualityBelow = 0.7;

    /// <inheritdoc cref="IndexedConfidenceBelow"/>
    public const long IndexedTokensAbove = 5000;

    /// <summary>A number as an SQL literal (invariant culture), for the bounds the partial indexes and their queries share.</summary>
    public static string Sql(double value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Migration 11's warning indexes, the same statements on both stores (part of that migration: never edit them;
    /// a change is a new migration).
    /// </summary>
    public static readonly string Migration11WarningIndexes = $"""
        -- The threshold-free warnings (and retried runs) as newest-first index ranges of the runs that have them.
        CREATE INDEX ix_invocations_tenant_fallback_start ON invocations (tenant, start_time, span_id, trace_id)
            WHERE call_fallbacks > 0;
        CREATE INDEX ix_invocations_tenant_unpriced_start ON invocations (tenant, start_time, span_id, trace_id)
            WHERE call_unpriced_tokens > 0;
        CREATE INDEX ix_invocations_tenant_retried_start ON invocations (tenant, start_time, span_id, trace_id)
            WHERE call_retries > 0;
        -- The threshold warnings as newest-first index ranges of the runs past today's default thresholds (partial,
        -- so that a run inside them, the common case, costs ingest nothing here): a page at the default threshold, or
        -- a stricter one, reads only such runs (RunSql.IndexedConfidenceBelow). Retried runs serve many_retries.
        CREATE INDEX ix_invocations_tenant_low_confidence_start ON invocations (tenant, start_time, span_id, trace_id)
            WHERE confidence < {Sql(IndexedConfidenceBelow)};
        CREATE INDEX ix_invocations_tenant_low_quality_start ON invocations (tenant, start_time, span_id, trace_id)
            WHERE quality < {Sql(IndexedQualityBelow)};
        CREATE INDEX ix_invocations_tenant_high_tokens_start ON invocations (tenant, start_time, span_id, trace_id)
            WHERE {RunTokens} > {Sql(IndexedTokensAbove)};
        CREATE INDEX ix_feedback_tenant_accuracy ON feedback
            (tenant, (COALESCE(accuracy, score, CASE WHEN success THEN 1.0 WHEN NOT success THEN 0.0 END)))
            WHERE invocation_span_id IS NOT NULL;
        """;

    /// <summary>
    /// Migration 13's statements, the same on both stores (part of that migration: never edit them). Migration 11's
    /// low_confidence and high_token_usage indexes recreated with the value the warning compares as their last key
    /// column: a page at a threshold stricter than the index's bound (confidence below 0.2 of runs below 0.5, say)
    /// tests each indexed run's value in the index and reads the table only for the runs it returns, where the
    /// index of migration 11 read every run below the bound from the table to test it (docs/collector/rest-api.md,
    /// <i>Measured</i>). The key columns before it keep the newest-first order of the range; a key column rather than
    /// PostgreSQL's INCLUDE because a B-tree tests a key column's condition in the index (Index Cond) on a plain
    /// index scan, and a page reads the table for its other columns anyway.
    /// </summary>
    public static readonly string Migration13CoveringWarningIndexes = $"""
        DROP INDEX IF EXISTS ix_invocations_tenant_low_confidence_start;
        CREATE INDEX ix_invocations_tenant_low_confidence_start
            ON invocations (tenant, start_time, span_id, trace_id, confidence)
            WHERE confidence < {Sql(IndexedConfidenceBelow)};
        DROP INDEX IF EXISTS ix_invocations_tenant_high_tokens_start;
        CREATE INDEX ix_invocations_tenant_high_tokens_start
            ON invocations (tenant, start_time, span_id, trace_id, {RunTokens})
            WHERE {RunTokens} > {Sql(IndexedTokensAbove)};
        """;

    /// <summary>Whether the warning is answered by the window and then the quality and feedback indexes.</summary>
    private static bool TakesTwoSteps(RunWarningFilter warning) =>
        warning.Warning == "quality_concern" && warning.Threshold <= IndexedQualityBelow;

    public (string Sql, List<(string Name, object Value)> Parameters) Search(RunSearch search, string? traceId = null) =>
        Build(search, traceId, Plan.Walk, 0);

    private (string Sql, List<(string Name, object Value)> Parameters) WindowEnd(RunSearch search, int window)
    {
        var (conditions, parameters) = Conditions(search, null, byTraceKey: true);
        parameters.Add(("@window_offset", window - 1));
        return ($"""
            SELECT i.start_time, i.span_id, i.trace_id FROM invocations i{AgentIndex(search, false)}
            WHERE {string.Join(" AND ", conditions)}
            {NewestFirst}
            LIMIT 1 OFFSET @window_offset
            """, parameters);
    }

    private (string Sql, List<(string Name, object Value)> Parameters) Build(RunSearch search, string? traceId, Plan plan,
        int window)
    {
        ArgumentNullException.ThrowIfNull(search);
        var (conditions, parameters) = Conditions(search, traceId, byTraceKey: plan != Plan.QualityOrFeedback);
        string page;
        var newestFirst = NewestFirst;
        if (search.Warning is not { } warning || plan == Plan.Walk)
        {
            if (search.Warning is { } inline)
            {
                conditions.Add(WarningCondition(inline, parameters));
            }

            page = $"""
                SELECT i.trace_id, i.span_id FROM invocations i{AgentIndex(search with { TraceId = traceId ?? search.TraceId }, search.Warning is not null)}
                WHERE {string.Join(" AND ", conditions)}
                {newestFirst}
                LIMIT @limit
                """;
        }
        else if (plan == Plan.Window)
        {
            parameters.Add(("@window", window));
            page = $"""
                SELECT i.trace_id, i.span_id FROM (
                    SELECT i.tenant, i.trace_id, i.span_id, i.start_time, i.agent_name, i.duration_seconds, i.confidence,
                           i.quality, i.input_tokens, i.output_tokens, i.call_count, i.call_tokens, i.call_retries
                    FROM invocations i{AgentIndex(search, false)}
                    WHERE {string.Join(" AND ", conditions)}
                    {newestFirst}
                    LIMIT @window) i
                WHERE {WarningCondition(warning, parameters)}
                {newestFirst}
                LIMIT @limit
                """;
        }
        else
        {
            // The newest page of low-quality runs (an index range) and every run with low-accuracy feedback; the outer
            // query tests the whole rule (the latest feedback) and cuts the page.
            var others = string.Join(" AND ", conditions);
            conditions.Add(WarningCondition(warning, parameters));
            page = $"""
                SELECT i.trace_id, i.span_id FROM (
                    SELECT * FROM (
                        SELECT i.trace_id, i.span_id FROM invocations i {indexHint(LowQualityIndex)}
                        WHERE {others} AND i.quality < {Sql(IndexedQualityBelow)} AND i.quality < @w_threshold
                        {newestFirst}
                        LIMIT @limit) q
                    UNION
                    SELECT invocation_trace_id, invocation_span_id FROM feedback {indexHint("ix_feedback_tenant_accuracy")}
                    WHERE tenant = @tenant AND invocation_span_id IS NOT NULL AND {FeedbackAccuracy} < @w_accuracy) m
                {pageFirstJoin} invocations i ON {InTrace("i.", "@tenant", "m.trace_id")} AND i.span_id = m.span_id AND i.tenant = @tenant
                WHERE {string.Join(" AND ", conditions)}
                {newestFirst}
                LIMIT @limit
                """;
        }

        parameters.Add(("@limit", Math.Max(0, search.Limit)));
        var sql = $"""
            WITH page AS MATERIALIZED (
                {page}),
            calls AS MATERIALIZED (
                SELECT p.trace_id, p.owner_span_id, COUNT(*) AS calls,
                       CAST(SUM(p.input_tokens) AS BIGINT) AS input_tokens,
                       CAST(SUM(p.output_tokens) AS BIGINT) AS output_tokens,
                       CAST(SUM(p.cache_read_tokens) AS BIGINT) AS cache_read_tokens,
                       CAST(SUM(p.cache_creation_tokens) AS BIGINT) AS cache_creation_tokens,
                       CAST(SUM(p.reasoning_tokens) AS BIGINT) AS reasoning_tokens,
                       SUM(p.cost_usd) AS cost_usd,
                       CAST(SUM(p.unpriced_tokens) AS BIGINT) AS unpriced_tokens,
                       SUM(CASE WHEN p.attempt > 1 THEN 1 ELSE 0 END) AS retries,
                       SUM(CASE WHEN p.fallback_from IS NOT NULL THEN 1 ELSE 0 END) AS fallbacks,
                       SUM(CASE WHEN p.error_type IS NOT NULL THEN 1 ELSE 0 END) AS failed,
                       MAX(p.attempt) AS max_attempt
                FROM page {pageFirstJoin} provider_calls p ON {InTrace("p.", "@tenant", "page.trace_id")} AND p.owner_span_id = page.span_id
                WHERE p.tenant = @tenant
                GROUP BY p.trace_id, p.owner_span_id)
            SELECT {Columns.Prefixed(Columns.Invocation, "i")},
                   COALESCE(c.calls, 0), COALESCE(c.input_tokens, 0), COALESCE(c.output_tokens, 0),
                   COALESCE(c.cache_read_tokens, 0), COALESCE(c.cache_creation_tokens, 0),
                   COALESCE(c.reasoning_tokens, 0), c.cost_usd, COALESCE(c.unpriced_tokens, 0),
                   COALESCE(c.retries, 0), COALESCE(c.fallbacks, 0), COALESCE(c.failed, 0), COALESCE(c.max_attempt, 0),
                   {Columns.Prefixed(Columns.Feedback, "f")}
            FROM page
            {pageFirstJoin} invocations i ON {InTrace("i.", "@tenant", "page.trace_id")} AND i.span_id = page.span_id AND i.tenant = @tenant
            LEFT JOIN calls c ON c.trace_id = i.trace_id AND c.owner_span_id = i.span_id
            {latestFeedbackJoin}
            ORDER BY i.start_time DESC, i.span_id DESC, i.trace_id DESC
            """;
        return (sql, parameters);
    }

    /// <summary>Every condition of the search but its warning, on invocation <c>i</c>.</summary>
    /// <remarks>
    /// With trace numbers and a trace given, <paramref name="byTraceKey"/> takes the tenant out of the index choice
    /// (<c>+i.tenant</c>): SQLite, without statistics, would rather walk the tenant's run-list index newest first (no
    /// sort) than search the key by the trace's number, and read every run of the tenant for one trace. Not where the
    /// walk is forced onto a warning's index (<see cref="Plan.QualityOrFeedback"/>), which then needs the tenant.
    /// </remarks>
    private (List<string> Conditions, List<(string Name, object Value)> Parameters) Conditions(RunSearch search, string? traceId,
        bool byTraceKey)
    {
        ArgumentNullException.ThrowIfNull(search);
        var byTrace = traceNumbers && byTraceKey && (traceId ?? search.TraceId) is not null;
        var conditions = new List<string> { byTrace ? "+i.tenant = @tenant" : "i.tenant = @tenant" };
        var parameters = new List<(string Name, object Value)> { ("@tenant", search.Tenant) };
        void Equal(string column, string name, string? value)
        {
            if (value is not null)
            {
                conditions.Add($"i.{column} = @{name}");
                parameters.Add(("@" + name, value));
            }
        }

        if ((traceId ?? search.TraceId) is { } trace)
        {
            conditions.Add(InTrace("i.", "@tenant", "@trace"));
            parameters.Add(("@trace", trace));
        }

        Equal("agent_name", "agent", search.AgentName);
        Equal("outcome", "outcome", search.Outcome);
        Equal("task_type", "task_type", search.TaskType);
        Equal("job_id", "job", search.JobId);
        Equal("error_type", "error_type", search.ErrorType);
        if (search.Since is { } since)
        {
            conditions.Add(StartBound(">=", "@since"));
            parameters.Add(("@since", timeValue(since)));
        }
        else if (secondOf is not null && !byTrace && search.After is null)
        {
            // A range on the second where the search gives none (no since, no cursor): without one SQLite, with no
            // statistics and no index giving the whole order, takes any index with the tenant and sorts all of the
            // tenant's runs; with it, the index of the filter's seconds (sorted one second at a time). One bound only: with
            // two (this and a cursor's) it took the tenant's index over the agent's.
            conditions.Add($"{secondOf("i.start_time")} >= {secondOf("@since")}");
            parameters.Add(("@since", long.MinValue));
        }

        if (search.Until is { } until)
        {
            conditions.Add(StartBound("<", "@until"));
            parameters.Add(("@until", timeValue(until)));
        }

        if (search.MinDurationSeconds is { } minDuration)
        {
            conditions.Add("i.duration_seconds >= @min_duration");
            parameters.Add(("@min_duration", minDuration));
        }

        var ownCalls = $"{SameTrace("p", "i")} AND p.owner_span_id = i.span_id AND p.tenant = i.tenant";
        if (search.Model is { } model)
        {
            conditions.Add($"EXISTS (SELECT 1 FROM provider_calls p WHERE {ownCalls} AND (p.request_model = @model OR p.response_model = @model))");
            parameters.Add(("@model", model));
        }

        if (search.MinCostUsd is { } minCost)
        {
            // The roll-up rule of RecordReader.RollUp: the calls' sum when there are calls, else the span's own cost.
            conditions.Add($"""
                (CASE WHEN EXISTS (SELECT 1 FROM provider_calls p WHERE {ownCalls})
                      THEN (SELECT SUM(p.cost_usd) FROM provider_calls p WHERE {ownCalls})
                      ELSE i.cost_usd END) >= @min_cost
                """);
            parameters.Add(("@min_cost", minCost));
        }

        if (search.After is { } after)
        {
            // The first comparison alone (on the second, where the indexes are keyed by it) bounds the index range; the rest
            // breaks ties exactly.
            conditions.Add($"""
                {StartBound("<=", "@after_time")} AND (i.start_time < @after_time OR i.span_id < @after_span
                    OR (i.span_id = @after_span AND i.trace_id < @after_trace))
                """);
            parameters.Add(("@after_time", timeValue(after.StartTime)));
            parameters.Add(("@after_span", after.SpanId));
            parameters.Add(("@after_trace", after.TraceId));
        }

        return (conditions, parameters);
    }

    /// <summary>A run's tokens by the roll-up rule of RecordReader.RollUp, as its expression index has it (unqualified).</summary>
    public const string RunTokens = "(CASE WHEN call_count > 0 THEN call_tokens ELSE input_tokens + output_tokens END)";

    /// <summary>A feedback row's accuracy by RunWarnings.AccuracyOf, as its expression index has it (unqualified).</summary>
    private const string FeedbackAccuracy = "(COALESCE(accuracy, score, CASE WHEN success THEN 1.0 WHEN NOT success THEN 0.0 END))";

    /// <summary>
    /// How both stores pick an invocation's latest feedback (alias <c>latest</c>): the newest received, ties broken by
    /// feedback id so that the row the run shows and the row <c>warning=quality_concern</c> tests are one.
    /// </summary>
    public const string LatestFeedbackOrder = "latest.received_at DESC, latest.feedback_id DESC";

    /// <summary>
    /// One warning's rule (<c>RunWarnings.Of</c>) as a condition on an invocation <c>i</c>: its own columns, the summary
    /// of its own provider calls that the writer keeps (migration 11) (<c>call_count</c>, <c>call_tokens</c>,
    /// <c>call_unpriced_tokens</c>, <c>call_retries</c>, <c>call_fallbacks</c>) and its latest feedback. The
    /// threshold-free rules repeat their partial index's predicate literally, so that both planners can use it.
    /// </summary>
    private static string WarningCondition(RunWarningFilter warning, List<(string Name, object Value)> parameters)
    {
        parameters.Add(("@w_threshold", warning.Threshold));
        switch (warning.Warning)
        {
            case "low_confidence":
                // At or below the index's bound, its predicate repeated: the page is a range of its partial index.
                return warning.Threshold <= IndexedConfidenceBelow
                    ? $"i.confidence < {Sql(IndexedConfidenceBelow)} AND i.confidence < @w_threshold"
                    : "i.confidence < @w_threshold";
            case "high_token_usage":
                // The roll-up rule of RecordReader.RollUp (the calls' sum when there are calls, else the span's own), as
                // the partial index has it; at or above the index's bound, its predicate repeated.
                return warning.Threshold >= IndexedTokensAbove
                    ? $"{RunTokens} > {Sql(IndexedTokensAbove)} AND {RunTokens} > @w_threshold"
                    : $"{RunTokens} > @w_threshold";
            case "slow_execution":
            {
                if (warning.SlowAboveSeconds.Count == 0)
                {
                    return "1 = 0";
                }
                var cases = new System.Text.StringBuilder("i.duration_seconds > CASE i.agent_name");
                var n = 0;
                foreach (var (agent, limit) in warning.SlowAboveSeconds.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    cases.Append(System.Globalization.CultureInfo.InvariantCulture, $" WHEN @w_agent{n} THEN @w_limit{n}");
                    parameters.Add(($"@w_agent{n}", agent));
                    parameters.Add(($"@w_limit{n}", limit));
                    n++;
                }
                return cases.Append(" END").ToString();
            }
            case "quality_concern":
                // Quality below its threshold, else the accuracy of the latest feedback below its own (RunWarnings.AccuracyOf).
                parameters.Add(("@w_accuracy", warning.AccuracyThreshold));
                return $"""
                    (i.quality < @w_threshold OR (
                        SELECT COALESCE(latest.accuracy, latest.score,
                                        CASE WHEN latest.success THEN 1.0 WHEN NOT latest.success THEN 0.0 END)
                        FROM feedback latest
                        WHERE latest.invocation_trace_id = i.trace_id AND latest.invocation_span_id = i.span_id
                          AND latest.tenant = i.tenant
                        ORDER BY {LatestFeedbackOrder} LIMIT 1) < @w_accuracy)
                    """;
            case "many_retries":
                // With a threshold of 0 or more, only retried runs qualify: the partial index of retried runs serves.
                return warning.Threshold >= 0
                    ? "i.call_retries > 0 AND i.call_retries > @w_threshold"
                    : "i.call_retries > @w_threshold";
            case "fallback_used":
                return "i.call_fallbacks > 0";
            case "unpriced_model":
                return "i.call_unpriced_tokens > 0";
            default:
                throw new ArgumentOutOfRangeException(nameof(warning), warning.Warning, "not a warning name");
        }
    }

    public RunRow ReadRow(DbDataReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var invocation = RecordReader.Invocation(reader, 0, readTime);
        var feedback = reader.IsDBNull(FeedbackAt) ? null : RecordReader.Feedback(reader, FeedbackAt, readTime);
        var r = RollUpAt;
        var calls = Convert.ToInt64(reader.GetValue(r), System.Globalization.CultureInfo.InvariantCulture);
        var tokens = new TokenCounts(Long(reader, r + 1), Long(reader, r + 2), Long(reader, r + 3), Long(reader, r + 4),
            Long(reader, r + 5));
        var stored = RecordReader.RollUp(invocation, calls, tokens, RecordReader.Real(reader, r + 6), Long(reader, r + 7),
            feedback);
        return new RunRow(stored, new CallSummary(calls, Long(reader, r + 8), Long(reader, r + 9), Long(reader, r + 10),
            (int)Long(reader, r + 11)));
    }

    public (string Sql, List<(string Name, object Value)> Parameters) TraceRecords(string table, string columns,
        string timeColumn, string tenant, string traceId) =>
        ($"""
          SELECT {columns} FROM {table} WHERE tenant = @tenant AND {(table == "evaluations" ? "trace_id = @trace" : InTrace("", "@tenant", "@trace"))}
          ORDER BY {timeColumn}, span_id LIMIT {MaxTraceRecords}
          """,
         [("@tenant", tenant), ("@trace", traceId)]);

    /// <summary>Reads every record of a trace with the provider's reader; shared so both stores build it alike.</summary>
    public async Task<TraceRecords> ReadTraceAsync(string tenant, string traceId,
        Func<string, List<(string Name, object Value)>, Func<DbDataReader, object>, Task<List<object>>> query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var (sql, parameters) = Search(new RunSearch { Tenant = tenant, Limit = MaxTraceRecords }, traceId);
        var invocations = (await query(sql, parameters, ReadRow).ConfigureAwait(false))
            .Cast<RunRow>().Select(row => row.Stored).Reverse().ToList();
        var (callSql, callParameters) = TraceRecords("provider_calls", Columns.ProviderCall, "start_time", tenant, traceId);
        var calls = (await query(callSql, callParameters, r => RecordReader.ProviderCall(r, 0, readTime)).ConfigureAwait(false))
            .Cast<ProviderCall>().ToList();
        var (toolSql, toolParameters) = TraceRecords("tool_calls", Columns.ToolCall, "start_time", tenant, traceId);
        var tools = (await query(toolSql, toolParameters, r => RecordReader.ToolCall(r, 0, readTime)).ConfigureAwait(false))
            .Cast<ToolCall>().ToList();
        var (evaluationSql, evaluationParameters) = TraceRecords("evaluations", Columns.Evaluation, "time, sequence", tenant, traceId);
        var evaluations = (await query(evaluationSql, evaluationParameters, r => RecordReader.Evaluation(r, 0, readTime))
            .ConfigureAwait(false)).Cast<EvaluationRecord>().ToList();
        return new TraceRecords(invocations, calls, tools, evaluations);
    }

    private static long Long(DbDataReader reader, int ordinal) =>
        Convert.ToInt64(reader.GetValue(ordinal), System.Globalization.CultureInfo.InvariantCulture);
}

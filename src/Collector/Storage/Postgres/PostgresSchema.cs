using Npgsql;
using NpgsqlTypes;

namespace PerfOtel.Collector.Storage.Postgres;

// Same tables and indexes as the SQLite schema, in PostgreSQL types: timestamptz (microseconds), double precision,
// bigint. Names are unqualified so the connection's search_path picks the schema.
internal static class PostgresSchema
{
    public static IReadOnlyList<Migration> Migrations { get; } =
    [
        new(1, "records, feedback and the indexes of the analytics queries", """
            CREATE TABLE invocations (
                tenant text NOT NULL,
                trace_id text NOT NULL,
                span_id text NOT NULL,
                parent_span_id text,
                service_name text,
                agent_name text NOT NULL,
                agent_id text,
                agent_type text,
                task_id text,
                task_type text,
                job_id text,
                conversation_id text,
                experiment text,
                variant text,
                start_time timestamptz NOT NULL,
                duration_seconds double precision NOT NULL,
                outcome text NOT NULL,
                error_type text,
                confidence double precision,
                quality double precision,
                input_tokens bigint NOT NULL,
                output_tokens bigint NOT NULL,
                cache_read_tokens bigint NOT NULL,
                cache_creation_tokens bigint NOT NULL,
                reasoning_tokens bigint NOT NULL,
                cost_usd double precision,
                attributes_json text,
                PRIMARY KEY (trace_id, span_id)
            );
            CREATE INDEX ix_invocations_tenant_agent_start ON invocations (tenant, agent_name, start_time);
            CREATE INDEX ix_invocations_start ON invocations (start_time);
            CREATE INDEX ix_invocations_tenant_start ON invocations (tenant, start_time);
            CREATE INDEX ix_invocations_task ON invocations (tenant, task_id) WHERE task_id IS NOT NULL;

            CREATE TABLE provider_calls (
                tenant text NOT NULL,
                trace_id text NOT NULL,
                span_id text NOT NULL,
                parent_span_id text,
                invocation_span_id text,
                owner_span_id text,
                agent_name text,
                operation text NOT NULL,
                provider text NOT NULL,
                request_model text,
                response_model text,
                start_time timestamptz NOT NULL,
                duration_seconds double precision NOT NULL,
                input_tokens bigint NOT NULL,
                output_tokens bigint NOT NULL,
                cache_read_tokens bigint NOT NULL,
                cache_creation_tokens bigint NOT NULL,
                reasoning_tokens bigint NOT NULL,
                cost_usd double precision,
                unpriced_tokens bigint NOT NULL,
                attempt integer NOT NULL,
                fallback_from text,
                fallback_reason text,
                error_type text,
                PRIMARY KEY (trace_id, span_id)
            );
            CREATE INDEX ix_provider_calls_owner ON provider_calls (trace_id, owner_span_id);
            CREATE INDEX ix_provider_calls_tenant_agent_start ON provider_calls (tenant, agent_name, start_time);
            CREATE INDEX ix_provider_calls_start ON provider_calls (start_time);

            CREATE TABLE tool_calls (
                tenant text NOT NULL,
                trace_id text NOT NULL,
                span_id text NOT NULL,
                parent_span_id text,
                invocation_span_id text,
                agent_name text,
                tool_name text NOT NULL,
                tool_call_id text,
                start_time timestamptz NOT NULL,
                duration_seconds double precision NOT NULL,
                error_type text,
                PRIMARY KEY (trace_id, span_id)
            );
            CREATE INDEX ix_tool_calls_start ON tool_calls (start_time);

            CREATE TABLE evaluations (
                tenant text NOT NULL,
                trace_id text NOT NULL,
                span_id text NOT NULL,
                sequence integer NOT NULL,
                agent_name text,
                name text NOT NULL,
                score double precision,
                label text,
                time timestamptz NOT NULL,
                PRIMARY KEY (trace_id, span_id, sequence)
            );
            CREATE INDEX ix_evaluations_tenant_agent_time ON evaluations (tenant, agent_name, time);
            CREATE INDEX ix_evaluations_time ON evaluations (time);

            CREATE TABLE feedback (
                tenant text NOT NULL,
                feedback_id text NOT NULL,
                task_id text,
                trace_id text,
                span_id text,
                success boolean,
                score double precision,
                predicted_json text,
                actual_json text,
                accuracy double precision,
                received_at timestamptz NOT NULL,
                invocation_trace_id text,
                invocation_span_id text,
                PRIMARY KEY (tenant, feedback_id)
            );
            CREATE INDEX ix_feedback_pending_task ON feedback (tenant, task_id)
                WHERE invocation_span_id IS NULL AND task_id IS NOT NULL;
            CREATE INDEX ix_feedback_pending_span ON feedback (trace_id, span_id)
                WHERE invocation_span_id IS NULL AND span_id IS NOT NULL;
            CREATE INDEX ix_feedback_invocation ON feedback (invocation_trace_id, invocation_span_id, received_at);
            CREATE INDEX ix_feedback_received ON feedback (received_at);
            """),
        new(2, "tenant in the identity of every record: the same trace and span ids from two tenants are two records", """
            ALTER TABLE invocations DROP CONSTRAINT invocations_pkey, ADD PRIMARY KEY (tenant, trace_id, span_id);
            ALTER TABLE provider_calls DROP CONSTRAINT provider_calls_pkey, ADD PRIMARY KEY (tenant, trace_id, span_id);
            ALTER TABLE tool_calls DROP CONSTRAINT tool_calls_pkey, ADD PRIMARY KEY (tenant, trace_id, span_id);
            ALTER TABLE evaluations DROP CONSTRAINT evaluations_pkey,
                ADD PRIMARY KEY (tenant, trace_id, span_id, sequence);
            DROP INDEX ix_provider_calls_owner;
            CREATE INDEX ix_provider_calls_owner ON provider_calls (tenant, trace_id, owner_span_id);
            -- Feedback already had the tenant in its key; its span lookups now lead with it too.
            DROP INDEX ix_feedback_pending_span;
            CREATE INDEX ix_feedback_pending_span ON feedback (tenant, trace_id, span_id)
                WHERE invocation_span_id IS NULL AND span_id IS NOT NULL;
            DROP INDEX ix_feedback_invocation;
            CREATE INDEX ix_feedback_invocation ON feedback (tenant, invocation_trace_id, invocation_span_id, received_at);
            """),
        new(3, "indexes of the run list: newest first by (start time, span id, trace id) per tenant, per agent, per job and per error type", """
            CREATE INDEX IF NOT EXISTS ix_invocations_tenant_start_span ON invocations (tenant, start_time, span_id, trace_id);
            CREATE INDEX IF NOT EXISTS ix_invocations_tenant_agent_start_span
                ON invocations (tenant, agent_name, start_time, span_id, trace_id);
            CREATE INDEX IF NOT EXISTS ix_invocations_tenant_job_start ON invocations (tenant, job_id, start_time, span_id, trace_id)
                WHERE job_id IS NOT NULL;
            CREATE INDEX IF NOT EXISTS ix_invocations_tenant_error_start
                ON invocations (tenant, error_type, start_time, span_id, trace_id) WHERE error_type IS NOT NULL;
            """),
        new(4, "sampling weight (adjusted count) of every span-derived record; rows stored before count once", """
            ALTER TABLE invocations ADD COLUMN sample_weight double precision NOT NULL DEFAULT 1;
            ALTER TABLE provider_calls ADD COLUMN sample_weight double precision NOT NULL DEFAULT 1;
            ALTER TABLE tool_calls ADD COLUMN sample_weight double precision NOT NULL DEFAULT 1;
            ALTER TABLE evaluations ADD COLUMN sample_weight double precision NOT NULL DEFAULT 1;
            """),
        new(5, "commit positions: every record carries the 64-bit id of the transaction that stored it, every feedback join the id of the transaction that made it, so the derivation leader reads what any replica committed in commit order", """
            -- Rows stored before this migration get position 0: the leader's first read (from 0) covers them. The
            -- constant default first keeps ADD COLUMN from rewriting the table; new rows then take their transaction's id.
            ALTER TABLE invocations ADD COLUMN commit_position bigint NOT NULL DEFAULT 0;
            ALTER TABLE invocations ALTER COLUMN commit_position SET DEFAULT (pg_current_xact_id()::text::bigint);
            ALTER TABLE provider_calls ADD COLUMN commit_position bigint NOT NULL DEFAULT 0;
            ALTER TABLE provider_calls ALTER COLUMN commit_position SET DEFAULT (pg_current_xact_id()::text::bigint);
            ALTER TABLE tool_calls ADD COLUMN commit_position bigint NOT NULL DEFAULT 0;
            ALTER TABLE tool_calls ALTER COLUMN commit_position SET DEFAULT (pg_current_xact_id()::text::bigint);
            ALTER TABLE evaluations ADD COLUMN commit_position bigint NOT NULL DEFAULT 0;
            ALTER TABLE evaluations ALTER COLUMN commit_position SET DEFAULT (pg_current_xact_id()::text::bigint);
            ALTER TABLE feedback ADD COLUMN joined_position bigint;
            UPDATE feedback SET joined_position = 0 WHERE invocation_span_id IS NOT NULL;
            CREATE INDEX ix_invocations_commit_position ON invocations (commit_position);
            CREATE INDEX ix_provider_calls_commit_position ON provider_calls (commit_position);
            CREATE INDEX ix_tool_calls_commit_position ON tool_calls (commit_position);
            CREATE INDEX ix_evaluations_commit_position ON evaluations (commit_position);
            CREATE INDEX ix_feedback_joined_position ON feedback (joined_position) WHERE joined_position IS NOT NULL;
            """),
        new(6, "alert history: threshold breaches from their start to their resolution", """
            CREATE TABLE alerts (
                tenant text NOT NULL,
                id text NOT NULL,
                agent text NOT NULL,
                window_name text NOT NULL,
                metric text NOT NULL,
                level text NOT NULL,
                value double precision NOT NULL,
                threshold double precision NOT NULL,
                comparison text NOT NULL,
                message text NOT NULL,
                recommendation text NOT NULL,
                active_since timestamptz NOT NULL,
                resolved_at timestamptz,
                PRIMARY KEY (tenant, id)
            );
            CREATE INDEX ix_alerts_resolved ON alerts (tenant, resolved_at);
            CREATE INDEX ix_alerts_open ON alerts (active_since) WHERE resolved_at IS NULL;
            CREATE INDEX ix_alerts_retention ON alerts (resolved_at) WHERE resolved_at IS NOT NULL;
            """),
        // The same number as SQLite's: both stores keep their migrations in step.
        new(7, "span links: the parent of every span seen within the last two attribution horizons, so that a call exported apart from its agent is attributed whatever the order", """
            CREATE TABLE IF NOT EXISTS span_links (
                tenant text NOT NULL,
                trace_id text NOT NULL,
                span_id text NOT NULL,
                parent_span_id text,
                invocation_agent text,
                seen_at timestamptz NOT NULL,
                expired boolean NOT NULL DEFAULT false,
                -- Read by the derivation leader in commit order with the records (docs/collector/scale-out.md).
                commit_position bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
                PRIMARY KEY (tenant, trace_id, span_id)
            );
            CREATE INDEX IF NOT EXISTS ix_span_links_seen ON span_links (seen_at);
            CREATE INDEX IF NOT EXISTS ix_span_links_commit_position ON span_links (commit_position);
            """),
        // The same number as SQLite's, whose migration 8 clusters span_links instead (docs/collector/storage.md).
        new(8, "cheaper ingest: drop the two invocation indexes that are prefixes of their run-list twins", """
            -- (tenant, start_time) is a prefix of ix_invocations_tenant_start_span and (tenant, agent_name, start_time) of
            -- ix_invocations_tenant_agent_start_span (migration 3): every query either served takes the longer index,
            -- with the same order on start time, and each invocation insert updates two B-trees fewer.
            DROP INDEX IF EXISTS ix_invocations_tenant_start;
            DROP INDEX IF EXISTS ix_invocations_tenant_agent_start;
            """),
        // The same number as SQLite's. The rows are packed by the collector's own code (SpanLinkPack), once the tables
        // exist: SQL cannot write the pack format. Migrated packs keep the commit position of the links they hold.
        new(9, "cheaper ingest: span links stored as one packed row per commit, expiry decisions in a table of their own", """
            -- One row per transaction and seen-at time: (commit_position, seen_at) is unique by construction, and its
            -- key serves the derivation leader's commit ranges.
            CREATE TABLE span_link_packs (
                commit_position bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
                seen_at timestamptz NOT NULL,
                links bytea NOT NULL,
                PRIMARY KEY (commit_position, seen_at)
            );
            -- The packs are already compact (SpanLinkPack): no compression CPU, and kept in the row up to a page.
            ALTER TABLE span_link_packs ALTER COLUMN links SET STORAGE EXTERNAL;
            ALTER TABLE span_link_packs SET (toast_tuple_target = 8160);
            CREATE INDEX ix_span_link_packs_seen ON span_link_packs (seen_at);
            CREATE TABLE span_link_expiries (
                tenant text NOT NULL,
                trace_id text NOT NULL,
                span_id text NOT NULL,
                seen_at timestamptz NOT NULL,
                PRIMARY KEY (tenant, trace_id, span_id)
            );
            CREATE INDEX ix_span_link_expiries_seen ON span_link_expiries (seen_at);
            INSERT INTO span_link_expiries (tenant, trace_id, span_id, seen_at)
                SELECT tenant, trace_id, span_id, seen_at FROM span_links WHERE expired;
            """)
        {
            Then = (connection, transaction, cancellationToken) => SpanLinkMigration.PackAsync(connection, transaction, """
                    SELECT seen_at, commit_position, tenant, trace_id, span_id, parent_span_id, invocation_agent FROM span_links
                    ORDER BY commit_position, seen_at, tenant, trace_id, span_id
                    """,
                linkColumn: 2, reader => (new DateTimeOffset(reader.GetFieldValue<DateTime>(0), TimeSpan.Zero), reader.GetInt64(1)),
                "INSERT INTO span_link_packs (commit_position, seen_at, links) VALUES ($1, $2, $3)",
                (command, seenAt, position, pack) =>
                {
                    command.Parameters.Clear();
                    command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = position });
                    command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = seenAt.UtcDateTime });
                    command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = pack, NpgsqlDbType = NpgsqlDbType.Bytea });
                },
                cancellationToken),
        },
        // The same number as SQLite's migration 10, which drops the two invocation indexes this store dropped in its
        // migration 8: nothing to add here (the numbers stay equal).
        new(10, "cheaper ingest on SQLite: its two invocation indexes that are prefixes of their run-list twins (PostgreSQL dropped them in migration 8)", """
            SELECT 1;
            """),
        // The same number as SQLite's (11): the summary of each invocation's own provider calls, kept by the writer (no
        // triggers; docs/collector/storage.md), back-filled; the indexes of the run list's warning= filter.
        new(11, "call summary on invocations (count, tokens, unpriced tokens, retries, fallbacks) kept by the writer, back-filled; indexes of the run list's warning= filter", $"""
            ALTER TABLE invocations ADD COLUMN call_count bigint NOT NULL DEFAULT 0,
                ADD COLUMN call_tokens bigint NOT NULL DEFAULT 0,
                ADD COLUMN call_unpriced_tokens bigint NOT NULL DEFAULT 0,
                ADD COLUMN call_retries bigint NOT NULL DEFAULT 0,
                ADD COLUMN call_fallbacks bigint NOT NULL DEFAULT 0;
            UPDATE invocations i SET call_count = s.calls, call_tokens = s.tokens, call_unpriced_tokens = s.unpriced,
                call_retries = s.retries, call_fallbacks = s.fallbacks
            FROM (SELECT tenant, trace_id, owner_span_id, COUNT(*) AS calls, SUM(input_tokens + output_tokens) AS tokens,
                       SUM(unpriced_tokens) AS unpriced, COUNT(*) FILTER (WHERE attempt > 1) AS retries,
                       COUNT(*) FILTER (WHERE fallback_from IS NOT NULL) AS fallbacks
                  FROM provider_calls
                  WHERE owner_span_id IS NOT NULL
                  GROUP BY tenant, trace_id, owner_span_id) s
            WHERE i.tenant = s.tenant AND i.trace_id = s.trace_id AND i.span_id = s.owner_span_id;

            {RunSql.Migration11WarningIndexes}
            """),
        // The same number as SQLite's migration 12, which records the owners of calls stored before their invocation
        // so that SQLite's writer probes only for those. This store counts a new invocation's earlier calls in its own
        // INSERT ... SELECT (one probe per invocation, measured within the store rule): nothing to add here.
        new(12, "early call owners on SQLite (a new invocation probes its earlier calls only when it has some); nothing on PostgreSQL", """
            SELECT 1;
            """),
        // The same number as SQLite's (13): the low_confidence and high_token_usage indexes with the compared value as
        // their last key column, so that a stricter threshold's page is tested in the index (docs/collector/storage.md).
        new(13, "the value each threshold warning compares as the last key column of its partial index (low_confidence, high_token_usage)",
            RunSql.Migration13CoveringWarningIndexes),
        // The same number as SQLite's (14), which drops its owner index on provider_calls and keeps its early call
        // owners' sums: PostgreSQL has no early call owners, and its owner index serves the calls' INSERT ... SELECT
        // probes of the run-list summary, so it has nothing to add.
        new(14, "no owner index on provider_calls (SQLite only: PostgreSQL's serves its summary probes)", """
            SELECT 1;
            """),
        // The same number as SQLite's (15), where it adds nothing: SQLite compares text by its bytes already.
        new(15, "cheaper ingest: trace and span ids compared by their bytes (COLLATE \"C\"), not by the database's collation; no index on provider calls or evaluations by (tenant, agent, time), which no read uses", IdsInByteOrder),
        // The same number as SQLite's (16), which drops the two (tenant, agent, time) indexes this store dropped in its
        // migration 15: nothing to add here.
        new(16, "no index on provider calls or evaluations by (tenant, agent, time) on SQLite (PostgreSQL dropped them in 15)", """
            SELECT 1;
            """),
        // The same number as SQLite's (17), which numbers traces so that its span tables are keyed (trace_no, span_id)
        // rather than by a random trace id (one random-keyed B-tree per trace instead of three). PostgreSQL keeps its
        // keys: nothing to add here.
        new(17, "traces numbered in arrival order, span tables keyed (trace_no, span_id) on SQLite (nothing on PostgreSQL)", """
            SELECT 1;
            """),
        // The same number as SQLite's (18), which keeps each task's latest run in a table of its own instead of its index
        // of every run by task. PostgreSQL keeps its index: nothing to add here.
        new(18, "the latest run of each task in a table of its own on SQLite (nothing on PostgreSQL)", """
            SELECT 1;
            """),
        // The same number as SQLite's (19, a no-op there: its span tables are keyed by trace number since 17).
        new(19, "cheaper ingest: the id-keyed B-trees lead with the trace and span ids and end with the tenant, so that a key compare decides on its first column", IdsFirst),
        // The same number as SQLite's (20), which keys its time indexes of calls, tool calls and evaluations by the second
        // (SQLite orders an index's equal keys by rowid, and its rows append). PostgreSQL keeps its time indexes.
        new(20, "the time indexes of calls, tool calls and evaluations keyed by the second on SQLite (nothing on PostgreSQL)", """
            SELECT 1;
            """),
        // The same number as SQLite's (21), which keys its run list's indexes of invocations by the second (SQLite orders an
        // index's equal keys by rowid, and invocations append). PostgreSQL keeps its indexes and its run-list SQL.
        new(21, "the run list's indexes of invocations keyed by the second on SQLite (nothing on PostgreSQL)", """
            SELECT 1;
            """),
        // The same number as SQLite's (22), which keys the invocations' time index by the second. PostgreSQL keeps its
        // index and its invocation read.
        new(22, "the invocations' time index keyed by the second on SQLite (nothing on PostgreSQL)", """
            SELECT 1;
            """),
    ];

    /// <summary>
    /// Migration 19 (docs/collector/storage.md, Schema). Every B-tree that is looked up by a record's ids was keyed
    /// <c>(tenant, trace_id, ...)</c>: each compare of an insert's descent and leaf search first compared the tenant, the
    /// same text in nearly every entry, then found the trace id past that variable-length column. With the ids first and
    /// the tenant last, the random trace id decides almost every compare on its own, at a fixed offset in the entry,
    /// and the internal pages' keys are truncated to it. Every lookup of these indexes gives the tenant, the trace id and
    /// the span id (or owner) by equality, so each still finds its entries inside the index (the tenant an index
    /// condition like the ids; the tests explain them); the keys hold the same columns, so exactly-once and tenant
    /// isolation are decided as before, and the primary keys keep their names (<c>table_pkey</c>: the writer's redo
    /// of a plain insert that met a stored record recognises them by it). The indexes read by (tenant, time) keep the
    /// tenant first: their reads are ranges of one tenant. Rebuilds the five primary keys and three indexes in the
    /// migration's transaction (the tables stay, under an exclusive lock while it runs).
    /// </summary>
    private const string IdsFirst = """
        ALTER TABLE invocations DROP CONSTRAINT invocations_pkey, ADD PRIMARY KEY (trace_id, span_id, tenant);
        ALTER TABLE provider_calls DROP CONSTRAINT provider_calls_pkey, ADD PRIMARY KEY (trace_id, span_id, tenant);
        ALTER TABLE tool_calls DROP CONSTRAINT tool_calls_pkey, ADD PRIMARY KEY (trace_id, span_id, tenant);
        ALTER TABLE evaluations DROP CONSTRAINT evaluations_pkey, ADD PRIMARY KEY (trace_id, span_id, sequence, tenant);
        ALTER TABLE span_link_expiries DROP CONSTRAINT span_link_expiries_pkey, ADD PRIMARY KEY (trace_id, span_id, tenant);
        DROP INDEX ix_provider_calls_owner;
        CREATE INDEX ix_provider_calls_owner ON provider_calls (trace_id, owner_span_id, tenant);
        DROP INDEX ix_feedback_pending_span;
        CREATE INDEX ix_feedback_pending_span ON feedback (trace_id, span_id, tenant)
            WHERE invocation_span_id IS NULL AND span_id IS NOT NULL;
        DROP INDEX ix_feedback_invocation;
        CREATE INDEX ix_feedback_invocation ON feedback (invocation_trace_id, invocation_span_id, tenant, received_at);
        """;

    /// <summary>
    /// Migration 15 (docs/collector/storage.md, Schema). Every B-tree entry of a record holds its trace id and most its
    /// span id, and under the database's collation (en_US.UTF-8 and the like) every comparison of two of them is a
    /// <c>strcoll</c>. The ids are OpenTelemetry's, lowercase hex (<c>OtlpIds</c>): byte order is the order those
    /// collations give them, so every ORDER BY and keyset page keeps its order, and it is the order SQLite gives them.
    /// Every id column of every table that compares ids with another changes at once, so that the joins between them
    /// keep using their indexes (an index serves a comparison only under its own collation). A collation change rewrites
    /// no table; the indexes holding those columns are rebuilt, in the migration's transaction. The tenant keeps the
    /// database's collation (a name people read; equal tenants are compared by memcmp first in either case).
    /// </summary>
    private static string IdsInByteOrder => $"""
        -- Read by nothing: the collector reads provider calls and evaluations by time (replay, retention), by trace and
        -- by owner, never by (tenant, agent, time). Dropped first, so that the collation change does not rebuild them.
        DROP INDEX IF EXISTS ix_provider_calls_tenant_agent_start;
        DROP INDEX IF EXISTS ix_evaluations_tenant_agent_time;
        {InByteOrder("invocations", "trace_id", "span_id", "parent_span_id")}
        {InByteOrder("provider_calls", "trace_id", "span_id", "parent_span_id", "invocation_span_id", "owner_span_id")}
        {InByteOrder("tool_calls", "trace_id", "span_id", "parent_span_id", "invocation_span_id")}
        {InByteOrder("evaluations", "trace_id", "span_id")}
        {InByteOrder("feedback", "trace_id", "span_id", "invocation_trace_id", "invocation_span_id")}
        {InByteOrder("span_link_expiries", "trace_id", "span_id")}
        """;

    private static string InByteOrder(string table, params string[] columns) =>
        $"ALTER TABLE {table} " + string.Join(", ", columns.Select(c => $"ALTER COLUMN {c} TYPE text COLLATE \"C\"")) + ";";
}

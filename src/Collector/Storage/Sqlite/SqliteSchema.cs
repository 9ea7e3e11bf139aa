using Microsoft.Data.Sqlite;

namespace PerfOtel.Collector.Storage.Sqlite;

// Times are INTEGER microseconds since the Unix epoch (UTC): compact, ordered, and the precision PostgreSQL keeps too.
// Ids stay lowercase hex TEXT so the file can be inspected with the sqlite3 shell.
internal static class SqliteSchema
{
    public static IReadOnlyList<Migration> Migrations { get; } =
    [
        new(1, "records, feedback and the indexes of the analytics queries", """
            CREATE TABLE invocations (
                tenant TEXT NOT NULL,
                trace_id TEXT NOT NULL,
                span_id TEXT NOT NULL,
                parent_span_id TEXT,
                service_name TEXT,
                agent_name TEXT NOT NULL,
                agent_id TEXT,
                agent_type TEXT,
                task_id TEXT,
                task_type TEXT,
                job_id TEXT,
                conversation_id TEXT,
                experiment TEXT,
                variant TEXT,
                start_time INTEGER NOT NULL,
                duration_seconds REAL NOT NULL,
                outcome TEXT NOT NULL,
                error_type TEXT,
                confidence REAL,
                quality REAL,
                input_tokens INTEGER NOT NULL,
                output_tokens INTEGER NOT NULL,
                cache_read_tokens INTEGER NOT NULL,
                cache_creation_tokens INTEGER NOT NULL,
                reasoning_tokens INTEGER NOT NULL,
                cost_usd REAL,
                attributes_json TEXT,
                PRIMARY KEY (trace_id, span_id)
            );
            CREATE INDEX ix_invocations_tenant_agent_start ON invocations (tenant, agent_name, start_time);
            CREATE INDEX ix_invocations_start ON invocations (start_time);
            CREATE INDEX ix_invocations_tenant_start ON invocations (tenant, start_time);
            CREATE INDEX ix_invocations_task ON invocations (tenant, task_id) WHERE task_id IS NOT NULL;

            -- owner_span_id: the invocation a call rolls up into (InvocationSpanId, else its parent span). Stored so
            -- the read-time roll-up is one index range whichever of parent and child arrived first.
            CREATE TABLE provider_calls (
                tenant TEXT NOT NULL,
                trace_id TEXT NOT NULL,
                span_id TEXT NOT NULL,
                parent_span_id TEXT,
                invocation_span_id TEXT,
                owner_span_id TEXT,
                agent_name TEXT,
                operation TEXT NOT NULL,
                provider TEXT NOT NULL,
                request_model TEXT,
                response_model TEXT,
                start_time INTEGER NOT NULL,
                duration_seconds REAL NOT NULL,
                input_tokens INTEGER NOT NULL,
                output_tokens INTEGER NOT NULL,
                cache_read_tokens INTEGER NOT NULL,
                cache_creation_tokens INTEGER NOT NULL,
                reasoning_tokens INTEGER NOT NULL,
                cost_usd REAL,
                unpriced_tokens INTEGER NOT NULL,
                attempt INTEGER NOT NULL,
                fallback_from TEXT,
                fallback_reason TEXT,
                error_type TEXT,
                PRIMARY KEY (trace_id, span_id)
            );
            CREATE INDEX ix_provider_calls_owner ON provider_calls (trace_id, owner_span_id);
            CREATE INDEX ix_provider_calls_tenant_agent_start ON provider_calls (tenant, agent_name, start_time);
            CREATE INDEX ix_provider_calls_start ON provider_calls (start_time);

            CREATE TABLE tool_calls (
                tenant TEXT NOT NULL,
                trace_id TEXT NOT NULL,
                span_id TEXT NOT NULL,
                parent_span_id TEXT,
                invocation_span_id TEXT,
                agent_name TEXT,
                tool_name TEXT NOT NULL,
                tool_call_id TEXT,
                start_time INTEGER NOT NULL,
                duration_seconds REAL NOT NULL,
                error_type TEXT,
                PRIMARY KEY (trace_id, span_id)
            );
            CREATE INDEX ix_tool_calls_start ON tool_calls (start_time);

            CREATE TABLE evaluations (
                tenant TEXT NOT NULL,
                trace_id TEXT NOT NULL,
                span_id TEXT NOT NULL,
                sequence INTEGER NOT NULL,
                agent_name TEXT,
                name TEXT NOT NULL,
                score REAL,
                label TEXT,
                time INTEGER NOT NULL,
                PRIMARY KEY (trace_id, span_id, sequence)
            );
            CREATE INDEX ix_evaluations_tenant_agent_time ON evaluations (tenant, agent_name, time);
            CREATE INDEX ix_evaluations_time ON evaluations (time);

            -- invocation_trace_id/invocation_span_id are null while the feedback waits for its invocation.
            CREATE TABLE feedback (
                tenant TEXT NOT NULL,
                feedback_id TEXT NOT NULL,
                task_id TEXT,
                trace_id TEXT,
                span_id TEXT,
                success INTEGER,
                score REAL,
                predicted_json TEXT,
                actual_json TEXT,
                accuracy REAL,
                received_at INTEGER NOT NULL,
                invocation_trace_id TEXT,
                invocation_span_id TEXT,
                PRIMARY KEY (tenant, feedback_id)
            );
            CREATE INDEX ix_feedback_pending_task ON feedback (tenant, task_id)
                WHERE invocation_span_id IS NULL AND task_id IS NOT NULL;
            CREATE INDEX ix_feedback_pending_span ON feedback (trace_id, span_id)
                WHERE invocation_span_id IS NULL AND span_id IS NOT NULL;
            CREATE INDEX ix_feedback_invocation ON feedback (invocation_trace_id, invocation_span_id, received_at);
            CREATE INDEX ix_feedback_received ON feedback (received_at);
            """),
        // SQLite cannot change a primary key in place: each span table is rebuilt under its new key, rows copied with
        // their rowids (reads order ties by rowid, retention deletes by it), old table and its indexes dropped.
        new(2, "tenant in the identity of every record: the same trace and span ids from two tenants are two records", """
            CREATE TABLE invocations_by_tenant (
                tenant TEXT NOT NULL,
                trace_id TEXT NOT NULL,
                span_id TEXT NOT NULL,
                parent_span_id TEXT,
                service_name TEXT,
                agent_name TEXT NOT NULL,
                agent_id TEXT,
                agent_type TEXT,
                task_id TEXT,
                task_type TEXT,
                job_id TEXT,
                conversation_id TEXT,
                experiment TEXT,
                variant TEXT,
                start_time INTEGER NOT NULL,
                duration_seconds REAL NOT NULL,
                outcome TEXT NOT NULL,
                error_type TEXT,
                confidence REAL,
                quality REAL,
                input_tokens INTEGER NOT NULL,
                output_tokens INTEGER NOT NULL,
                cache_read_tokens INTEGER NOT NULL,
                cache_creation_tokens INTEGER NOT NULL,
                reasoning_tokens INTEGER NOT NULL,
                cost_usd REAL,
                attributes_json TEXT,
                PRIMARY KEY (tenant, trace_id, span_id)
            );
            INSERT INTO invocations_by_tenant (rowid, tenant, trace_id, span_id, parent_span_id, service_name, agent_name,
                agent_id, agent_type, task_id, task_type, job_id, conversation_id, experiment, variant, start_time,
                duration_seconds, outcome, error_type, confidence, quality, input_tokens, output_tokens, cache_read_tokens,
                cache_creation_tokens, reasoning_tokens, cost_usd, attributes_json)
            SELECT rowid, tenant, trace_id, span_id, parent_span_id, service_name, agent_name,
                agent_id, agent_type, task_id, task_type, job_id, conversation_id, experiment, variant, start_time,
                duration_seconds, outcome, error_type, confidence, quality, input_tokens, output_tokens, cache_read_tokens,
                cache_creation_tokens, reasoning_tokens, cost_usd, attributes_json
            FROM invocations;
            DROP TABLE invocations;
            ALTER TABLE invocations_by_tenant RENAME TO invocations;
            CREATE INDEX ix_invocations_tenant_agent_start ON invocations (tenant, agent_name, start_time);
            CREATE INDEX ix_invocations_start ON invocations (start_time);
            CREATE INDEX ix_invocations_tenant_start ON invocations (tenant, start_time);
            CREATE INDEX ix_invocations_task ON invocations (tenant, task_id) WHERE task_id IS NOT NULL;

            CREATE TABLE provider_calls_by_tenant (
                tenant TEXT NOT NULL,
                trace_id TEXT NOT NULL,
                span_id TEXT NOT NULL,
                parent_span_id TEXT,
                invocation_span_id TEXT,
                owner_span_id TEXT,
                agent_name TEXT,
                operation TEXT NOT NULL,
                provider TEXT NOT NULL,
                request_model TEXT,
                response_model TEXT,
                start_time INTEGER NOT NULL,
                duration_seconds REAL NOT NULL,
                input_tokens INTEGER NOT NULL,
                output_tokens INTEGER NOT NULL,
                cache_read_tokens INTEGER NOT NULL,
                cache_creation_tokens INTEGER NOT NULL,
                reasoning_tokens INTEGER NOT NULL,
                cost_usd REAL,
                unpriced_tokens INTEGER NOT NULL,
                attempt INTEGER NOT NULL,
                fallback_from TEXT,
                fallback_reason TEXT,
                error_type TEXT,
                PRIMARY KEY (tenant, trace_id, span_id)
            );
            INSERT INTO provider_calls_by_tenant (rowid, tenant, trace_id, span_id, parent_span_id, invocation_span_id,
                owner_span_id, agent_name, operation, provider, request_model, response_model, start_time, duration_seconds,
                input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, reasoning_tokens, cost_usd,
                unpriced_tokens, attempt, fallback_from, fallback_reason, error_type)
            SELECT rowid, tenant, trace_id, span_id, parent_span_id, invocation_span_id,
                owner_span_id, agent_name, operation, provider, request_model, response_model, start_time, duration_seconds,
                input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, reasoning_tokens, cost_usd,
                unpriced_tokens, attempt, fallback_from, fallback_reason, error_type
            FROM provider_calls;
            DROP TABLE provider_calls;
            ALTER TABLE provider_calls_by_tenant RENAME TO provider_calls;
            CREATE INDEX ix_provider_calls_owner ON provider_calls (tenant, trace_id, owner_span_id);
            CREATE INDEX ix_provider_calls_tenant_agent_start ON provider_calls (tenant, agent_name, start_time);
            CREATE INDEX ix_provider_calls_start ON provider_calls (start_time);

            CREATE TABLE tool_calls_by_tenant (
                tenant TEXT NOT NULL,
                trace_id TEXT NOT NULL,
                span_id TEXT NOT NULL,
                parent_span_id TEXT,
                invocation_span_id TEXT,
                agent_name TEXT,
                tool_name TEXT NOT NULL,
                tool_call_id TEXT,
                start_time INTEGER NOT NULL,
                duration_seconds REAL NOT NULL,
                error_type TEXT,
                PRIMARY KEY (tenant, trace_id, span_id)
            );
            INSERT INTO tool_calls_by_tenant (rowid, tenant, trace_id, span_id, parent_span_id, invocation_span_id,
                agent_name, tool_name, tool_call_id, start_time, duration_seconds, error_type)
            SELECT rowid, tenant, trace_id, span_id, parent_span_id, invocation_span_id,
                agent_name, tool_name, tool_call_id, start_time, duration_seconds, error_type
            FROM tool_calls;
            DROP TABLE tool_calls;
            ALTER TABLE tool_calls_by_tenant RENAME TO tool_calls;
            CREATE INDEX ix_tool_calls_start ON tool_calls (start_time);

            CREATE TABLE evaluations_by_tenant (
                tenant TEXT NOT NULL,
                trace_id TEXT NOT NULL,
                span_id TEXT NOT NULL,
                sequence INTEGER NOT NULL,
                agent_name TEXT,
                name TEXT NOT NULL,
                score REAL,
                label TEXT,
                time INTEGER NOT NULL,
                PRIMARY KEY (tenant, trace_id, span_id, sequence)
            );
            INSERT INTO evaluations_by_tenant (rowid, tenant, trace_id, span_id, sequence, agent_name, name, score, label, time)
            SELECT rowid, tenant, trace_id, span_id, sequence, agent_name, name, score, label, time FROM evaluations;
            DROP TABLE evaluations;
            ALTER TABLE evaluations_by_tenant RENAME TO evaluations;
            CREATE INDEX ix_evaluations_tenant_agent_time ON evaluations (tenant, agent_name, time);
            CREATE INDEX ix_evaluations_time ON evaluations (time);

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
            ALTER TABLE invocations ADD COLUMN sample_weight REAL NOT NULL DEFAULT 1;
            ALTER TABLE provider_calls ADD COLUMN sample_weight REAL NOT NULL DEFAULT 1;
            ALTER TABLE tool_calls ADD COLUMN sample_weight REAL NOT NULL DEFAULT 1;
            ALTER TABLE evaluations ADD COLUMN sample_weight REAL NOT NULL DEFAULT 1;
            """),
        // The same number as PostgreSQL's migration 5, which gives records commit positions for several replicas: one
        // process owns a SQLite file, so it has nothing to add.
        new(5, "commit positions (PostgreSQL only: a SQLite file serves one collector process)", """
            SELECT 1;
            """),
        new(6, "alert history: threshold breaches from their start to their resolution", """
            CREATE TABLE alerts (
                tenant TEXT NOT NULL,
                id TEXT NOT NULL,
                agent TEXT NOT NULL,
                window_name TEXT NOT NULL,
                metric TEXT NOT NULL,
                level TEXT NOT NULL,
                value REAL NOT NULL,
                threshold REAL NOT NULL,
                comparison TEXT NOT NULL,
                message TEXT NOT NULL,
                recommendation TEXT NOT NULL,
                active_since INTEGER NOT NULL,
                resolved_at INTEGER,
                PRIMARY KEY (tenant, id)
            );
            CREATE INDEX ix_alerts_resolved ON alerts (tenant, resolved_at);
            CREATE INDEX ix_alerts_open ON alerts (active_since) WHERE resolved_at IS NULL;
            CREATE INDEX ix_alerts_retention ON alerts (resolved_at) WHERE resolved_at IS NOT NULL;
            """),
        // The same number as PostgreSQL's: both stores keep their migrations in step.
        new(7, "span links: the parent of every span seen within the last two attribution horizons, so that a call exported apart from its agent is attributed whatever the order", """
            CREATE TABLE IF NOT EXISTS span_links (
                tenant TEXT NOT NULL,
                trace_id TEXT NOT NULL,
                span_id TEXT NOT NULL,
                parent_span_id TEXT,
                invocation_agent TEXT,
                seen_at INTEGER NOT NULL,
                expired INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (tenant, trace_id, span_id)
            );
            CREATE INDEX IF NOT EXISTS ix_span_links_seen ON span_links (seen_at);
            """),
        // The same number as PostgreSQL's, whose migration 8 drops two invocation indexes instead. Here those indexes
        // stay: with the rowid they end in, (tenant, start_time) and (tenant, agent_name, start_time) give the
        // (start_time, rowid) order the invocation reads stream in, which their run-list twins do not.
        new(8, "cheaper ingest: span_links clustered on its key (WITHOUT ROWID), one B-tree fewer per span link", """
            CREATE TABLE span_links_clustered (
                tenant TEXT NOT NULL,
                trace_id TEXT NOT NULL,
                span_id TEXT NOT NULL,
                parent_span_id TEXT,
                invocation_agent TEXT,
                seen_at INTEGER NOT NULL,
                expired INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (tenant, trace_id, span_id)
            ) WITHOUT ROWID;
            INSERT INTO span_links_clustered (tenant, trace_id, span_id, parent_span_id, invocation_agent, seen_at, expired)
                SELECT tenant, trace_id, span_id, parent_span_id, invocation_agent, seen_at, expired FROM span_links;
            DROP TABLE span_links;
            ALTER TABLE span_links_clustered RENAME TO span_links;
            CREATE INDEX ix_span_links_seen ON span_links (seen_at);
            """),
        // The same number as PostgreSQL's. The rows are packed by the collector's own code (SpanLinkPack), once the
        // tables exist: SQL cannot write the pack format.
        new(9, "cheaper ingest: span links stored as one packed row per commit, expiry decisions in a table of their own", """
            CREATE TABLE span_link_packs (
                id INTEGER PRIMARY KEY,
                seen_at INTEGER NOT NULL,
                links BLOB NOT NULL
            );
            CREATE INDEX ix_span_link_packs_seen ON span_link_packs (seen_at);
            CREATE TABLE span_link_expiries (
                tenant TEXT NOT NULL,
                trace_id TEXT NOT NULL,
                span_id TEXT NOT NULL,
                seen_at INTEGER NOT NULL,
                PRIMARY KEY (tenant, trace_id, span_id)
            ) WITHOUT ROWID;
            CREATE INDEX ix_span_link_expiries_seen ON span_link_expiries (seen_at);
            INSERT INTO span_link_expiries (tenant, trace_id, span_id, seen_at)
                SELECT tenant, trace_id, span_id, seen_at FROM span_links WHERE expired <> 0;
            """)
        {
            Then = (connection, transaction, cancellationToken) => SpanLinkMigration.PackAsync(connection, transaction,
                "SELECT seen_at, tenant, trace_id, span_id, parent_span_id, invocation_agent FROM span_links ORDER BY seen_at, tenant, trace_id, span_id",
                linkColumn: 1, reader => (SqliteRecordReader.Time(reader, 0), 0),
                "INSERT INTO span_link_packs (seen_at, links) VALUES ($seen, $links)",
                (command, seenAt, _, pack) =>
                {
                    command.Parameters.Clear();
                    ((SqliteCommand)command).Parameters.AddWithValue("$seen", SqliteTime.ToMicros(seenAt));
                    ((SqliteCommand)command).Parameters.AddWithValue("$links", pack);
                },
                cancellationToken),
        },
        // The same number as PostgreSQL's. PostgreSQL dropped these two in its migration 8; SQLite kept them then for
        // the (start_time, rowid) order of the invocation reads, which now read a tenant's invocations in the order of
        // the run-list twins instead (start_time, span_id, trace_id, rowid): the same start-time order, ties by span.
        new(10, "cheaper ingest: drop the two invocation indexes that are prefixes of their run-list twins", """
            DROP INDEX IF EXISTS ix_invocations_tenant_start;
            DROP INDEX IF EXISTS ix_invocations_tenant_agent_start;
            """),
        // The same number as PostgreSQL's (11). The summary of each invocation's own provider calls (the calls whose
        // owner_span_id is its span, as the run reads roll them up), kept by the writer whatever order records arrive in
        // and when attribution re-owns a stored call (no triggers); what the run list's warning= filter reads
        // (docs/collector/storage.md).
        new(11, "call summary on invocations (count, tokens, unpriced tokens, retries, fallbacks) kept by the writer, back-filled; indexes of the run list's warning= filter", $"""
            ALTER TABLE invocations ADD COLUMN call_count INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE invocations ADD COLUMN call_tokens INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE invocations ADD COLUMN call_unpriced_tokens INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE invocations ADD COLUMN call_retries INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE invocations ADD COLUMN call_fallbacks INTEGER NOT NULL DEFAULT 0;
            UPDATE invocations SET (call_count, call_tokens, call_unpriced_tokens, call_retries, call_fallbacks) = (
                SELECT COUNT(*), COALESCE(SUM(p.input_tokens + p.output_tokens), 0), COALESCE(SUM(p.unpriced_tokens), 0),
                       COALESCE(SUM(p.attempt > 1), 0), COALESCE(SUM(p.fallback_from IS NOT NULL), 0)
                FROM provider_calls p
                WHERE p.tenant = invocations.tenant AND p.trace_id = invocations.trace_id AND p.owner_span_id = invocations.span_id)
            WHERE EXISTS (SELECT 1 FROM provider_calls p
                WHERE p.tenant = invocations.tenant AND p.trace_id = invocations.trace_id AND p.owner_span_id = invocations.span_id);

            {RunSql.Migration11WarningIndexes}
            """),
        // The same number as PostgreSQL's (12, a no-op there). The owners whose calls are stored while no invocation of
        // their span is: a new invocation probes the owner index for its earlier calls only when its span is here, so
        // the writer no longer probes once per new invocation (docs/collector/storage.md). Filled from what is stored.
        new(12, "early call owners: the owners of stored calls with no stored invocation, so that a new invocation probes its earlier calls only when it has some", """
            CREATE TABLE early_call_owners (
                tenant TEXT NOT NULL,
                trace_id TEXT NOT NULL,
                span_id TEXT NOT NULL,
                PRIMARY KEY (tenant, trace_id, span_id)
            ) WITHOUT ROWID;
            INSERT INTO early_call_owners (tenant, trace_id, span_id)
            SELECT DISTINCT p.tenant, p.trace_id, p.owner_span_id FROM provider_calls p
            WHERE p.owner_span_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM invocations i
                WHERE i.tenant = p.tenant AND i.trace_id = p.trace_id AND i.span_id = p.owner_span_id);
            """),
        // The same number as PostgreSQL's (13): the low_confidence and high_token_usage indexes with the compared value
        // as their last key column, so that a stricter threshold's page is tested in the index (docs/collector/storage.md).
        new(13, "the value each threshold warning compares as the last key column of its partial index (low_confidence, high_token_usage)",
            RunSql.Migration13CoveringWarningIndexes),
        // The same number as PostgreSQL's (14, a no-op there). Every provider call wrote two B-trees keyed by its trace
        // id, which is random: the primary key and the owner index, each a leaf page mostly outside the writer's cache,
        // read, dirtied and written to the WAL for every trace of a commit. The owner index goes: the owner reads
        // (the run reads' roll-up) take the primary key's (tenant, trace_id) prefix and test the owner on the row,
        // which reads every call of the trace, no more. The writer's own probes of it go with it: an early call
        // owner now carries the sums of its calls, so a new invocation takes them from there and attribution and
        // retention keep them, without reading the calls (docs/collector/storage.md).
        new(14, "cheaper ingest: no owner index on provider_calls (one random-keyed B-tree fewer per call); early call owners carry their calls' sums", """
            ALTER TABLE early_call_owners ADD COLUMN call_count INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE early_call_owners ADD COLUMN call_tokens INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE early_call_owners ADD COLUMN call_unpriced_tokens INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE early_call_owners ADD COLUMN call_retries INTEGER NOT NULL DEFAULT 0;
            ALTER TABLE early_call_owners ADD COLUMN call_fallbacks INTEGER NOT NULL DEFAULT 0;
            UPDATE early_call_owners SET (call_count, call_tokens, call_unpriced_tokens, call_retries, call_fallbacks) = (
                SELECT COUNT(*), COALESCE(SUM(p.input_tokens + p.output_tokens), 0), COALESCE(SUM(p.unpriced_tokens), 0),
                       COALESCE(SUM(p.attempt > 1), 0), COALESCE(SUM(p.fallback_from IS NOT NULL), 0)
                FROM provider_calls p
                WHERE p.tenant = early_call_owners.tenant AND p.trace_id = early_call_owners.trace_id
                  AND p.owner_span_id = early_call_owners.span_id);
            DELETE FROM early_call_owners WHERE call_count = 0;
            DROP INDEX IF EXISTS ix_provider_calls_owner;
            """),
        // The same number as PostgreSQL's migration 15, which compares ids by their bytes and drops two indexes no read
        // uses there: SQLite compares text by its bytes already (BINARY), and kept its indexes then (migration 16 drops them;
        // docs/collector/storage.md).
        new(15, "ids compared by their bytes and two unread indexes dropped (PostgreSQL only: SQLite compares text by its bytes already)", """
            SELECT 1;
            """),
        // The same number as PostgreSQL's (16, a no-op there: its migration 15 dropped the same two). Every provider call
        // and evaluation wrote an entry keyed (tenant, agent, time) that no statement reads: the start-up replay and
        // retention take the time indexes, a trace's read and the writer's probes the primary key, the owner reads its
        // (tenant, trace_id) prefix; a tenant's read through the store interface takes the time index with the tenant as
        // a filter (docs/collector/storage-performance.md, the plans checked). Dropping an index keeps every row and takes no time.
        new(16, "cheaper ingest: no index on provider calls or evaluations by (tenant, agent, time), which no read uses", """
            DROP INDEX IF EXISTS ix_provider_calls_tenant_agent_start;
            DROP INDEX IF EXISTS ix_evaluations_tenant_agent_time;
            """),
        // The same number as PostgreSQL's (17, a no-op there). Trace ids are random: the three span tables' primary keys
        // (tenant, trace_id, span_id) each put a trace's spans on a random leaf page, three per trace and commit, mostly
        // outside the writer's cache (read, dirtied, written to the WAL, copied by the checkpoint). A trace now gets a
        // number in arrival order, kept in traces (the one random-keyed B-tree a new trace writes, one entry per trace),
        // and the span tables are keyed (trace_no, span_id), which grows at its right edge; trace_no is a function of
        // (tenant, trace_id), so that key decides exactly-once as the old one did. The tables are rebuilt with their
        // rowids (reads order ties by rowid, retention deletes by it) and every index they had (read from the schema
        // before the old tables go, so that exactly those are recreated) (docs/collector/storage.md).
        new(17, "cheaper ingest: traces numbered in arrival order (traces keyed (tenant, trace_id)); the span tables keyed (trace_no, span_id), one random-keyed B-tree per trace instead of three", $"""
            CREATE TABLE traces (
                tenant TEXT NOT NULL,
                trace_id TEXT NOT NULL,
                trace_no INTEGER NOT NULL,
                PRIMARY KEY (tenant, trace_id)
            ) WITHOUT ROWID;
            -- Numbered in the order of their first record's start, the nearest to arrival order what is stored tells.
            INSERT INTO traces (tenant, trace_id, trace_no)
            SELECT tenant, trace_id, ROW_NUMBER() OVER (ORDER BY first_start, tenant, trace_id) FROM (
                SELECT tenant, trace_id, MIN(start_time) AS first_start FROM (
                    SELECT tenant, trace_id, start_time FROM invocations
                    UNION ALL SELECT tenant, trace_id, start_time FROM provider_calls
                    UNION ALL SELECT tenant, trace_id, start_time FROM tool_calls)
                GROUP BY tenant, trace_id);
            """)
        {
            Then = (connection, transaction, _) =>
            {
                RebuildByTraceNumber((SqliteConnection)connection, (SqliteTransaction)transaction);
                return Task.CompletedTask;
            },
        },
        new(18, "cheaper ingest: the latest run of each task in a table of its own instead of an index of every run by task (one entry per task, not per run)", """
            CREATE TABLE task_latest_runs (
                tenant TEXT NOT NULL,
                task_id TEXT NOT NULL,
                start_time INTEGER NOT NULL,
                trace_id TEXT NOT NULL,
                span_id TEXT NOT NULL,
                PRIMARY KEY (tenant, task_id)
            ) WITHOUT ROWID;
            -- Latest by start time; runs that started at the same microsecond by (trace_id, span_id): a function of the
            -- runs stored, whatever order they came in, so that the triggers below keep what this fills.
            INSERT INTO task_latest_runs (tenant, task_id, start_time, trace_id, span_id)
            SELECT tenant, task_id, start_time, trace_id, span_id FROM (
                SELECT tenant, task_id, start_time, trace_id, span_id, ROW_NUMBER() OVER (
                    PARTITION BY tenant, task_id ORDER BY start_time DESC, trace_id DESC, span_id DESC) AS newest
                FROM invocations WHERE task_id IS NOT NULL)
            WHERE newest = 1;
            -- The writer keeps it as it inserts invocations (SqliteWriteSession.InsertInvocation: an invocation is inserted
            -- once, and its tenant, task, start and ids are never updated), not a trigger: an INSERT that fires a trigger
            -- opens a statement journal, which cost 1.6x the CPU of each invocation's insert.
            -- Only retention deletes invocations, by start time: when it deletes a task's latest run, every other run of the
            -- task started no later and goes in the same pass, so the task has no run left. A table rebuilt later (like
            -- migration 17's) must create this trigger again.
            CREATE TRIGGER tr_invocations_task_latest_deleted AFTER DELETE ON invocations WHEN OLD.task_id IS NOT NULL
            BEGIN
                DELETE FROM task_latest_runs WHERE tenant = OLD.tenant AND task_id = OLD.task_id
                    AND trace_id = OLD.trace_id AND span_id = OLD.span_id;
            END;
            DROP INDEX ix_invocations_task;
            """),
        // The same number as PostgreSQL's (19), which puts the ids before the tenant in its id-keyed B-trees. SQLite's span
        // tables are keyed (trace_no, span_id) since 17, and traces' (tenant, trace_id) compares bytes: nothing here.
        new(19, "the id-keyed B-trees lead with the ids (PostgreSQL only: SQLite keys its span tables by trace number)", """
            SELECT 1;
            """),
        // The same number as PostgreSQL's (20, a no-op there). The time indexes of provider calls, tool calls and
        // evaluations serve only the start-up replay (every tenant's records in time order, RecordsCommand) and retention.
        // Keyed by the time itself, a commit's entries land on every page of the last 5-10 s of start times (a batch's
        // traces start that far apart), about 340 pages a commit for provider calls at 34 600 spans/s. Keyed by the
        // second (TimeBucket), entries of one key sit in rowid order and the rows append: a commit's entries go at the
        // right edge of the few seconds it touches. The reads give the bucket first (the index's order) and sort each
        // second by the time itself (docs/collector/storage.md, Schema).
        new(20, "cheaper ingest: the time indexes of calls, tool calls and evaluations keyed by the second, so that a commit's entries go at the right edge of each second it touches", $"""
            DROP INDEX ix_provider_calls_start;
            CREATE INDEX ix_provider_calls_start_second ON provider_calls ({TimeBucket.Of("start_time")});
            DROP INDEX ix_tool_calls_start;
            CREATE INDEX ix_tool_calls_start_second ON tool_calls ({TimeBucket.Of("start_time")});
            DROP INDEX ix_evaluations_time;
            CREATE INDEX ix_evaluations_time_second ON evaluations ({TimeBucket.Of("time")});
            """),
        // The same number as PostgreSQL's (21, a no-op there). The run list's indexes of invocations (every run of a
        // tenant, of an agent, of a job, of an error type, and the warnings' partial ones) were keyed (tenant[, column],
        // start_time, span_id, trace_id[, value]): a commit's entries spread over the last 5-10 s of start times, one page
        // each, about 48 % of the writer's WAL frames after migration 20. Keyed by the second (TimeBucket), entries of one
        // key sit in rowid order and invocations append: a commit's entries go at the right edge of each second it
        // touches. The run list orders by (second, start_time, span_id, trace_id) newest first, the same order, and SQLite
        // sorts one second at a time (RunSql, docs/collector/storage.md, Schema). The warnings' compared value (migration
        // 13's last key column) is not kept: inside a second it would order the entries by value, not by rowid.
        new(21, "cheaper ingest: the run list's indexes of invocations keyed by the second, so that a commit's entries go at the right edge of each second it touches", RunListIndexesBySecond),
        // The same number as PostgreSQL's (22, a no-op there). The invocations' own time index (start_time) serves the
        // invocation read (the start-up replay and the export) and retention. Keyed by the time, a commit's entries land on
        // every page of the last 5-10 s of start times: about 103 of the writer's 976 WAL frames a commit at 63 700 spans/s
        // (10.6 %, the second B-tree after traces). Keyed by the second, they go at the right edge of each second the
        // commit touches, as migrations 20 and 21 did for the other time indexes. The invocation read groups its calls'
        // roll-up by (second, rowid), the index's own order, so SQLite streams the groups, and the store sorts each
        // second's invocations by (start_time, rowid) itself (SqliteExecutionStore.ReadInvocationsAsync): SQLite sorts a
        // GROUP BY whole, and only the last terms of an ORDER BY.
        new(22, "cheaper ingest: the invocations' time index keyed by the second, so that a commit's entries go at the right edge of each second it touches", $"""
            DROP INDEX ix_invocations_start;
            CREATE INDEX ix_invocations_start_second ON invocations ({TimeBucket.Of("start_time")});
            """),
    ];

    /// <summary>Migration 21's statements: the run list's ten indexes of invocations, keyed by the second.</summary>
    internal static string RunListIndexesBySecond => $"""
        DROP INDEX ix_invocations_tenant_start_span;
        CREATE INDEX ix_invocations_tenant_second ON invocations (tenant, {TimeBucket.Of("start_time")});
        DROP INDEX ix_invocations_tenant_agent_start_span;
        CREATE INDEX ix_invocations_tenant_agent_second ON invocations (tenant, agent_name, {TimeBucket.Of("start_time")});
        DROP INDEX ix_invocations_tenant_job_start;
        CREATE INDEX ix_invocations_tenant_job_second ON invocations (tenant, job_id, {TimeBucket.Of("start_time")})
            WHERE job_id IS NOT NULL;
        DROP INDEX ix_invocations_tenant_error_start;
        CREATE INDEX ix_invocations_tenant_error_second ON invocations (tenant, error_type, {TimeBucket.Of("start_time")})
            WHERE error_type IS NOT NULL;
        DROP INDEX ix_invocations_tenant_fallback_start;
        CREATE INDEX ix_invocations_tenant_fallback_second ON invocations (tenant, {TimeBucket.Of("start_time")})
            WHERE call_fallbacks > 0;
        DROP INDEX ix_invocations_tenant_unpriced_start;
        CREATE INDEX ix_invocations_tenant_unpriced_second ON invocations (tenant, {TimeBucket.Of("start_time")})
            WHERE call_unpriced_tokens > 0;
        DROP INDEX ix_invocations_tenant_retried_start;
        CREATE INDEX ix_invocations_tenant_retried_second ON invocations (tenant, {TimeBucket.Of("start_time")})
            WHERE call_retries > 0;
        DROP INDEX ix_invocations_tenant_low_confidence_start;
        CREATE INDEX ix_invocations_tenant_low_confidence_second ON invocations (tenant, {TimeBucket.Of("start_time")})
            WHERE confidence < {RunSql.Sql(RunSql.IndexedConfidenceBelow)};
        DROP INDEX ix_invocations_tenant_low_quality_start;
        CREATE INDEX ix_invocations_tenant_low_quality_second ON invocations (tenant, {TimeBucket.Of("start_time")})
            WHERE quality < {RunSql.Sql(RunSql.IndexedQualityBelow)};
        DROP INDEX ix_invocations_tenant_high_tokens_start;
        CREATE INDEX ix_invocations_tenant_high_tokens_second ON invocations (tenant, {TimeBucket.Of("start_time")})
            WHERE {RunSql.RunTokens} > {RunSql.Sql(RunSql.IndexedTokensAbove)};
        """;

    /// <summary>The span tables keyed by trace number (migration 17): their tables' definitions, columns as before plus <c>trace_no</c>.</summary>
    private static readonly (string Table, string Columns, string Definition)[] TablesByTraceNumber =
    [
        ("invocations", Columns.Invocation + ", " + CallTotals.ColumnNames, """
            tenant TEXT NOT NULL,
            trace_id TEXT NOT NULL,
            span_id TEXT NOT NULL,
            parent_span_id TEXT,
            service_name TEXT,
            agent_name TEXT NOT NULL,
            agent_id TEXT,
            agent_type TEXT,
            task_id TEXT,
            task_type TEXT,
            job_id TEXT,
            conversation_id TEXT,
            experiment TEXT,
            variant TEXT,
            start_time INTEGER NOT NULL,
            duration_seconds REAL NOT NULL,
            outcome TEXT NOT NULL,
            error_type TEXT,
            confidence REAL,
            quality REAL,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cache_read_tokens INTEGER NOT NULL,
            cache_creation_tokens INTEGER NOT NULL,
            reasoning_tokens INTEGER NOT NULL,
            cost_usd REAL,
            attributes_json TEXT,
            sample_weight REAL NOT NULL DEFAULT 1,
            call_count INTEGER NOT NULL DEFAULT 0,
            call_tokens INTEGER NOT NULL DEFAULT 0,
            call_unpriced_tokens INTEGER NOT NULL DEFAULT 0,
            call_retries INTEGER NOT NULL DEFAULT 0,
            call_fallbacks INTEGER NOT NULL DEFAULT 0,
            trace_no INTEGER NOT NULL,
            PRIMARY KEY (trace_no, span_id)
            """),
        ("provider_calls", Columns.ProviderCallInsert, """
            tenant TEXT NOT NULL,
            trace_id TEXT NOT NULL,
            span_id TEXT NOT NULL,
            parent_span_id TEXT,
            invocation_span_id TEXT,
            owner_span_id TEXT,
            agent_name TEXT,
            operation TEXT NOT NULL,
            provider TEXT NOT NULL,
            request_model TEXT,
            response_model TEXT,
            start_time INTEGER NOT NULL,
            duration_seconds REAL NOT NULL,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cache_read_tokens INTEGER NOT NULL,
            cache_creation_tokens INTEGER NOT NULL,
            reasoning_tokens INTEGER NOT NULL,
            cost_usd REAL,
            unpriced_tokens INTEGER NOT NULL,
            attempt INTEGER NOT NULL,
            fallback_from TEXT,
            fallback_reason TEXT,
            error_type TEXT,
            sample_weight REAL NOT NULL DEFAULT 1,
            trace_no INTEGER NOT NULL,
            PRIMARY KEY (trace_no, span_id)
            """),
        ("tool_calls", Columns.ToolCall, """
            tenant TEXT NOT NULL,
            trace_id TEXT NOT NULL,
            span_id TEXT NOT NULL,
            parent_span_id TEXT,
            invocation_span_id TEXT,
            agent_name TEXT,
            tool_name TEXT NOT NULL,
            tool_call_id TEXT,
            start_time INTEGER NOT NULL,
            duration_seconds REAL NOT NULL,
            error_type TEXT,
            sample_weight REAL NOT NULL DEFAULT 1,
            trace_no INTEGER NOT NULL,
            PRIMARY KEY (trace_no, span_id)
            """),
    ];

    /// <summary>
    /// Migration 17's rebuild of each span table under (trace_no, span_id), in the migration's transaction: every row
    /// copied with its rowid and its trace's number, the old table dropped, and the indexes it had (other than its
    /// primary key) created again from their stored definitions, so that exactly those come back whatever they are.
    /// </summary>
    private static void RebuildByTraceNumber(SqliteConnection connection, SqliteTransaction transaction)
    {
        foreach (var (table, columns, definition) in TablesByTraceNumber)
        {
            var indexes = new List<string>();
            using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = "SELECT sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = $table AND sql IS NOT NULL ORDER BY rowid";
                command.Parameters.AddWithValue("$table", table);
                using var reader = command.ExecuteReader();
                while (reader.Read())
                {
                    indexes.Add(reader.GetString(0));
                }
            }

            using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = $"""
                    CREATE TABLE {table}_by_trace (
                    {definition});
                    INSERT INTO {table}_by_trace (rowid, {columns}, trace_no)
                    SELECT {Columns.Prefixed("rowid, " + columns, "r")}, t.trace_no
                    FROM {table} r JOIN traces t ON t.tenant = r.tenant AND t.trace_id = r.trace_id;
                    DROP TABLE {table};
                    ALTER TABLE {table}_by_trace RENAME TO {table};
                    {string.Join(";\n", indexes)};
                    """;
                command.ExecuteNonQuery();
            }
        }
    }
}

/// <summary>
/// The key of the time indexes of provider calls, tool calls and evaluations since migration 20: the second a time falls
/// in (times are microseconds; SQLite's integer division truncates towards zero, still never decreasing with the time,
/// the second around the epoch two seconds wide). A read must use the same expression for SQLite to take the index.
/// </summary>
internal static class TimeBucket
{
    /// <summary>The index's expression over <paramref name="column"/> (qualified as the statement needs it): 1 s buckets.</summary>
    public static string Of(string column) => $"{column} / 1000000";
}

#!/usr/bin/env python3
"""The plans SQLite gives the collector's statements on the write-time indexes (#21, docs/collector/storage-performance.md, "What the
SQLite writer writes per span"): EXPLAIN QUERY PLAN of every read and write of provider_calls and evaluations, on a
database the collector wrote (`ingest-load --keep-data DIR`) and on a copy without the indexes named, side by side;
then the statement each other write-time index is kept for. The collector runs no ANALYZE: these are its plans.

  python3 scripts/load/sqlite-query-plans.py DB [INDEX_TO_DROP ...]
  default: ix_provider_calls_tenant_agent_start ix_evaluations_tenant_agent_time (migration 16)
"""
import os
import re
import shutil
import sqlite3
import sys
import tempfile

source = sys.argv[1]
drop = sys.argv[2:] or ['ix_provider_calls_tenant_agent_start', 'ix_evaluations_tenant_agent_time']
compared = {
    'replay calls (every tenant)': "SELECT * FROM provider_calls WHERE start_time >= ?1 ORDER BY start_time, rowid",
    'calls of a tenant (store interface, as before migration 16)': "SELECT * FROM provider_calls WHERE tenant = ?1 AND start_time >= ?2 ORDER BY start_time, rowid",
    'calls of a tenant and agent (as before migration 16)': "SELECT * FROM provider_calls WHERE tenant = ?1 AND agent_name = ?2 AND start_time >= ?3 ORDER BY start_time, rowid",
    'calls of a tenant and agent (since migration 16)': "SELECT * FROM provider_calls WHERE +tenant = ?1 AND +agent_name = ?2 AND start_time >= ?3 ORDER BY start_time, rowid",
    'replay evaluations (every tenant)': "SELECT * FROM evaluations WHERE time >= ?1 ORDER BY time, rowid",
    'evaluations of a tenant and agent (as before migration 16)': "SELECT * FROM evaluations WHERE tenant = ?1 AND agent_name = ?2 AND time >= ?3 ORDER BY time, rowid",
    'retention calls': "DELETE FROM provider_calls WHERE rowid IN (SELECT rowid FROM provider_calls WHERE start_time < ?1 LIMIT ?2) RETURNING tenant",
    'retention evaluations': "DELETE FROM evaluations WHERE rowid IN (SELECT rowid FROM evaluations WHERE time < ?1 LIMIT ?2)",
    'trace read calls': "SELECT * FROM provider_calls WHERE tenant = ?1 AND trace_id = ?2 ORDER BY start_time, span_id LIMIT 10000",
    'trace read evaluations': "SELECT * FROM evaluations WHERE tenant = ?1 AND trace_id = ?2 ORDER BY time, span_id LIMIT 10000",
    'invocation read roll-up (tenant, agent)': """SELECT i.span_id, COUNT(p.span_id) FROM invocations i
        LEFT JOIN provider_calls p ON p.trace_id = i.trace_id AND p.owner_span_id = i.span_id AND p.tenant = i.tenant
        WHERE i.tenant = ?1 AND i.agent_name = ?2 AND i.start_time >= ?3
        GROUP BY i.start_time, i.span_id, i.trace_id, i.rowid ORDER BY i.start_time, i.span_id, i.trace_id, i.rowid""",
    'run list calls CTE': """WITH page AS MATERIALIZED (SELECT i.trace_id, i.span_id FROM invocations i WHERE i.tenant = ?1
        ORDER BY i.start_time DESC, i.span_id DESC, i.trace_id DESC LIMIT 50)
        SELECT p.trace_id, p.owner_span_id, COUNT(*) FROM page CROSS JOIN provider_calls p ON p.trace_id = page.trace_id
        AND p.owner_span_id = page.span_id WHERE p.tenant = ?1 GROUP BY p.trace_id, p.owner_span_id""",
    'run list model= filter': """SELECT i.span_id FROM invocations i WHERE i.tenant = ?1 AND EXISTS (SELECT 1 FROM provider_calls p
        WHERE p.trace_id = i.trace_id AND p.owner_span_id = i.span_id AND p.tenant = i.tenant AND (p.request_model = ?2 OR p.response_model = ?2))
        ORDER BY i.start_time DESC, i.span_id DESC, i.trace_id DESC LIMIT 50""",
    'writer: call before attribution': "SELECT owner_span_id FROM provider_calls WHERE tenant = ?1 AND trace_id = ?2 AND span_id = ?3",
    'writer: attribute call': "UPDATE provider_calls SET owner_span_id = ?4, agent_name = ?5 WHERE tenant = ?1 AND trace_id = ?2 AND span_id = ?3",
    'writer: attribute evaluations': "UPDATE evaluations SET agent_name = ?4 WHERE tenant = ?1 AND trace_id = ?2 AND span_id = ?3",
}
kept = {
    'ix_invocations_start: replay of every tenant': "SELECT * FROM invocations i WHERE i.start_time >= ?1 ORDER BY i.start_time, i.rowid",
    'ix_invocations_start: retention': "SELECT rowid FROM invocations WHERE start_time < ?1 LIMIT ?2",
    # Migration 20 keyed the time indexes of calls, tool calls and evaluations by the second (start_time / 1000000).
    'ix_tool_calls_start_second: replay': "SELECT * FROM tool_calls WHERE start_time / 1000000 >= ?1 / 1000000 AND start_time >= ?1 ORDER BY start_time / 1000000, start_time, rowid",
    'ix_tool_calls_start_second: retention': "SELECT rowid FROM tool_calls WHERE start_time / 1000000 <= ?1 / 1000000 AND start_time < ?1 LIMIT ?2",
    'ix_provider_calls_start_second: replay': "SELECT * FROM provider_calls WHERE start_time / 1000000 >= ?1 / 1000000 AND start_time >= ?1 ORDER BY start_time / 1000000, start_time, rowid",
    'ix_provider_calls_start_second: retention': "SELECT rowid FROM provider_calls WHERE start_time / 1000000 <= ?1 / 1000000 AND start_time < ?1 LIMIT ?2",
    # Migration 21 keyed the run list's indexes of invocations by the second: a page sorts one second at a time.
    'ix_invocations_tenant_second: run list of a tenant (since migration 21)': "SELECT i.trace_id, i.span_id FROM invocations i WHERE i.tenant = ?1 ORDER BY i.start_time / 1000000 DESC, i.start_time DESC, i.span_id DESC, i.trace_id DESC LIMIT 50",
    'ix_invocations_tenant_second: run list page after a cursor': "SELECT i.trace_id, i.span_id FROM invocations i WHERE i.tenant = ?1 AND i.start_time / 1000000 <= ?2 / 1000000 AND i.start_time <= ?2 AND (i.start_time < ?2 OR i.span_id < ?3 OR (i.span_id = ?3 AND i.trace_id < ?4)) ORDER BY i.start_time / 1000000 DESC, i.start_time DESC, i.span_id DESC, i.trace_id DESC LIMIT 50",
    # Migration 18 replaced ix_invocations_task (every run by task) with task_latest_runs (each task's latest run).
    'task_latest_runs: feedback by task (since migration 18)': """SELECT i.* FROM task_latest_runs k
        JOIN traces t ON t.tenant = k.tenant AND t.trace_id = k.trace_id
        JOIN invocations i ON i.trace_no = t.trace_no AND i.span_id = k.span_id WHERE k.tenant = ?1 AND k.task_id = ?2""",
}


def plans(path, statements):
    db = sqlite3.connect(f'file:{path}?mode=ro', uri=True)
    out = {}
    for name, sql in statements.items():
        arguments = [None] * max(int(n) for n in re.findall(r'\?(\d)', sql))
        out[name] = [row[3] for row in db.execute('EXPLAIN QUERY PLAN ' + sql, arguments)]
    db.close()
    return out


with tempfile.TemporaryDirectory() as scratch:
    without = os.path.join(scratch, 'without.db')
    shutil.copy(source, without)
    db = sqlite3.connect(without)
    for index in drop:
        db.execute(f'DROP INDEX IF EXISTS {index}')
    db.commit()
    db.close()
    before, after = plans(source, compared), plans(without, compared)
print(f'with and without {", ".join(drop)}:')
for name in compared:
    print(f'- {name}: {"same" if before[name] == after[name] else "DIFFERENT"}')
    print('    with:    ' + ' | '.join(before[name]))
    if before[name] != after[name]:
        print('    without: ' + ' | '.join(after[name]))
print('the statement each other write-time index is kept for:')
for name, plan in plans(source, kept).items():
    print(f'- {name}: ' + ' | '.join(plan))

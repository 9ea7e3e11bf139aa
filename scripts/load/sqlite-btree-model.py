#!/usr/bin/env python3
"""What the SQLite store's B-trees cost per span, measured on a model of its writer (#21, docs/collector/storage-performance.md).

Takes the schema and the records of a database the collector wrote (`ingest-load --keep-data DIR`), builds a fresh
database with that schema (or a variant of it), fills it with PREFILL spans, then writes COMMITS commits of about 2 000
spans the way the ingest writer does (one transaction each: the provider calls, then the invocations, then the tool
calls, then one span-link pack), every trace a copy of a stored one under new random ids. It reports per span: WAL frames
written (from the -wal file's growth; the automatic checkpoint off, one PASSIVE checkpoint every 8 000 pages of 4 KiB
then the WAL truncated), the pages the checkpoints copied into the database file and the read calls (from
/proc/self/io: pages missing from the cache, read back from the OS, and the checkpoints' reads of the WAL).

  python3 scripts/load/sqlite-btree-model.py DB VARIANT [PREFILL=600000] [COMMITS=30] [CACHE_KIB=16384]

VARIANT is a '+'-joined list of: as-is; owner-index (adds (tenant, trace_id, owner_span_id) on provider_calls);
no-owner-index; no-agent-indexes (without the (tenant, agent, time) indexes of provider_calls and evaluations, as
SQLite's migration 16); calls-without-rowid, tools-without-rowid (the table clustered on its primary key); sequential
(trace ids from a counter: every trace-keyed B-tree written at its right edge); page-NNNN (page size); shared-identity
(the three span tables without primary keys, and one identity B-tree (tenant, trace_id, span_id, kind) WITHOUT ROWID
written for every span of every table: one random leaf page per trace instead of three); no-pk (the three span tables
without primary keys and nothing in their place: the floor every trace-keyed B-tree is above, not a schema the store
could use, since it keeps neither exactly-once nor reads by trace); blob-ids (trace and span ids stored as 16- and
8-byte blobs instead of 32- and 16-character hex text); trace-numbers (SQLite's migration 17: a table traces (tenant,
trace_id, trace_no, last_seen) WITHOUT ROWID keyed (tenant, trace_id), one entry per trace, the only random-keyed
B-tree a new trace writes; the three span tables keyed (trace_no, span_id), trace_no from a counter in arrival order,
so they grow at their right edge).
"""
import os
import random
import re
import sqlite3
import sys
import time

source, variant = sys.argv[1], sys.argv[2]
prefill = int(sys.argv[3]) if len(sys.argv) > 3 else 600_000
commits = int(sys.argv[4]) if len(sys.argv) > 4 else 30
cache_kib = int(sys.argv[5]) if len(sys.argv) > 5 else 16384
options = set(variant.split('+'))
page = next((int(o[5:]) for o in options if o.startswith('page-')), 4096)
commit_spans = 2000

src = sqlite3.connect(f'file:{source}?mode=ro', uri=True)
columns = {t: [d[0] for d in src.execute(f'SELECT * FROM {t} LIMIT 1').description]
           for t in ('invocations', 'provider_calls', 'tool_calls')}
templates = []
for inv in src.execute('SELECT * FROM invocations LIMIT 4000').fetchall():
    key = (inv[0], inv[1], inv[2])
    calls = src.execute('SELECT * FROM provider_calls WHERE tenant = ? AND trace_id = ? AND owner_span_id = ?', key).fetchall()
    tools = src.execute('SELECT * FROM tool_calls WHERE tenant = ? AND trace_id = ? AND invocation_span_id = ?', key).fetchall()
    templates.append((inv, calls, tools))

statements = [row[0] for row in src.execute(
    "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY type DESC, rowid")]
if 'owner-index' in options and not any('ix_provider_calls_owner' in s for s in statements):
    statements.append('CREATE INDEX ix_provider_calls_owner ON provider_calls (tenant, trace_id, owner_span_id)')
if 'no-owner-index' in options:
    statements = [s for s in statements if 'ix_provider_calls_owner' not in s]
if 'no-agent-indexes' in options:
    statements = [s for s in statements
                  if 'ix_provider_calls_tenant_agent_start' not in s and 'ix_evaluations_tenant_agent_time' not in s]
for table, option in (('provider_calls', 'calls-without-rowid'), ('tool_calls', 'tools-without-rowid')):
    if option in options:
        statements = [s + ' WITHOUT ROWID' if re.match(rf'CREATE TABLE (IF NOT EXISTS )?"?{table}"? ', s) else s
                      for s in statements]

if 'shared-identity' in options or 'no-pk' in options:
    statements = [re.sub(r',\s*PRIMARY KEY \([^)]*\)\s*\)', '\n)', s) if re.match(r'CREATE TABLE (IF NOT EXISTS )?"?(invocations|provider_calls|tool_calls)"? ', s) else s
                  for s in statements]
if 'shared-identity' in options:
    statements.append('CREATE TABLE span_identity (tenant TEXT NOT NULL, trace_id TEXT NOT NULL, span_id TEXT NOT NULL, kind INTEGER NOT NULL, PRIMARY KEY (tenant, trace_id, span_id)) WITHOUT ROWID')
if 'trace-numbers' in options:
    statements = [re.sub(r'PRIMARY KEY \(tenant, trace_id, span_id\)', 'trace_no INTEGER NOT NULL, PRIMARY KEY (trace_no, span_id)', s)
                  if re.match(r'CREATE TABLE (IF NOT EXISTS )?"?(invocations|provider_calls|tool_calls)"? ', s) else s
                  for s in statements]
    statements.append('CREATE TABLE traces (tenant TEXT NOT NULL, trace_id TEXT NOT NULL, trace_no INTEGER NOT NULL, last_seen INTEGER NOT NULL, PRIMARY KEY (tenant, trace_id)) WITHOUT ROWID')
    columns = {t: c + ['trace_no'] for t, c in columns.items()}
path = f'/tmp/sqlite-btree-model-{os.getpid()}.db'
db = sqlite3.connect(path, isolation_level=None)
db.execute(f'PRAGMA page_size = {page}')
db.execute('PRAGMA journal_mode = wal')
db.execute('PRAGMA synchronous = off')
db.execute('PRAGMA cache_size = -200000')
for statement in statements:
    db.execute(statement)
inserts = {t: f"INSERT INTO {t} ({', '.join(c)}) VALUES ({', '.join('?' * len(c))}) ON CONFLICT DO NOTHING"
           for t, c in columns.items()}
clock, counter = [1_796_285_316_000_000], [0]
traces, trace_numbers = [], [0]


def batch(spans_wanted):
    calls, invocations, tools, spans = [], [], [], 0
    while spans < spans_wanted:
        inv, inv_calls, inv_tools = templates[random.randrange(len(templates))]
        counter[0] += 1
        trace = f'{counter[0]:016x}' + os.urandom(8).hex() if 'sequential' in options else os.urandom(16).hex()
        if 'blob-ids' in options:
            trace = bytes.fromhex(trace)
        spans_of = {}

        def span(old):
            if not old:
                return old
            return spans_of.setdefault(old, os.urandom(8) if 'blob-ids' in options else os.urandom(8).hex())

        clock[0] += 150
        extra = []
        if 'trace-numbers' in options:
            trace_numbers[0] += 1
            extra = [trace_numbers[0]]
            traces.append((inv[0], trace, trace_numbers[0], clock[0]))
        row = list(inv)
        row[1], row[2], row[3], row[14] = trace, span(row[2]), span(row[3]), clock[0]
        invocations.append(row + extra)
        for call in inv_calls:
            row = list(call)
            row[1], row[2], row[3], row[4], row[5], row[11] = trace, span(row[2]), span(row[3]), span(row[4]), span(row[5]), clock[0]
            calls.append(row + extra)
        for tool in inv_tools:
            row = list(tool)
            row[1], row[2], row[3], row[4], row[8] = trace, span(row[2]), span(row[3]), span(row[4]), clock[0]
            tools.append(row + extra)
        spans += 1 + len(inv_calls) + len(inv_tools)
    return calls, invocations, tools, spans


def commit():
    calls, invocations, tools, spans = batch(commit_spans)
    db.execute('BEGIN')
    if 'trace-numbers' in options:
        # The writer looks a trace up and inserts it when new: one probe and one insert into the one random-keyed tree.
        for tenant, trace, number, seen in traces:
            if db.execute('SELECT trace_no FROM traces WHERE tenant = ? AND trace_id = ?', (tenant, trace)).fetchone() is None:
                db.execute('INSERT INTO traces VALUES (?, ?, ?, ?)', (tenant, trace, number, seen))
        traces.clear()
    if 'shared-identity' in options:
        db.executemany('INSERT INTO span_identity VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING',
                       [(r[0], r[1], r[2], k) for k, rows in ((0, calls), (1, invocations), (2, tools)) for r in rows])
    db.executemany(inserts['provider_calls'], calls)
    db.executemany(inserts['invocations'], invocations)
    db.executemany(inserts['tool_calls'], tools)
    db.execute('INSERT INTO span_link_packs (seen_at, links) VALUES (?, ?)', (clock[0], os.urandom(18 * spans)))
    db.execute('COMMIT')
    return spans


filled = 0
while filled < prefill:
    filled += commit()
db.execute('PRAGMA wal_checkpoint(TRUNCATE)')
db.close()
db = sqlite3.connect(path, isolation_level=None)
db.execute('PRAGMA synchronous = normal')
db.execute(f'PRAGMA cache_size = -{cache_kib}')
db.execute('PRAGMA wal_autocheckpoint = 0')


def io():
    values = dict(line.split(': ') for line in open('/proc/self/io').read().splitlines())
    return int(values['syscr']), int(values['syscw'])


frames = spans = 0
reads0, writes0 = io()
started = time.process_time()
for index in range(commits):
    spans += commit()
    size = os.path.getsize(path + '-wal')
    written = (size - 32) // (page + 24) if size else 0
    if written >= 8000 * 4096 // page or index == commits - 1:
        db.execute('PRAGMA wal_checkpoint(PASSIVE)').fetchone()
        frames += written
        db.execute('PRAGMA wal_checkpoint(TRUNCATE)')
cpu = time.process_time() - started
reads1, writes1 = io()
size = os.path.getsize(path)
db.close()
for suffix in ('', '-wal', '-shm'):
    if os.path.exists(path + suffix):
        os.remove(path + suffix)
# Each WAL frame is two write calls (header, page); the rest are the checkpoints' copies.
copied = (writes1 - writes0) - 2 * frames
print(f'{variant}: {filled} spans before, {spans} measured, cache {cache_kib} KiB, page {page} B: '
      f'WAL frames {frames / spans:.3f} per span ({frames * page / spans:.0f} bytes), checkpoint copies '
      f'{copied / spans:.3f}, reads {(reads1 - reads0) / spans:.3f}, process CPU {cpu / spans * 1e6:.1f} us per span '
      f'(with the model\'s own Python), database {size / 1e6:.0f} MB')

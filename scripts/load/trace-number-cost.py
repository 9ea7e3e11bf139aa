#!/usr/bin/env python3
"""What a trace-number structure costs per new trace in SQLite, on a model (#21, docs/collector/ingest-performance.md,
"A leveled traces tree, costed").

Today's store numbers a new trace by one insert into `traces`, a random-keyed WITHOUT ROWID tree of (tenant, trace_id,
trace_no). A design of sorted runs merged level by level instead (an LSM tree inside SQLite) writes its runs at their
right edge, but copies every trace once per merge, deletes the runs it merged and searches every level for a trace it
has not seen. This measures each of those costs in the collector's process CPU (user + system, with the checkpoints that
copy the writes into the database file), in SQL statements alone (no per-row interpreter work):

  python3 scripts/load/trace-number-cost.py [ROWS=3000000] [DIRECTORY=a temporary one] [KEY=text|blob]

- random-keyed insert: commits of 420 new traces (the collector's at full rate) into a tree of ROWS rows, a checkpoint
  every 19 commits (about the checkpointer's 8 000 pages);
- the copy of a 1M-row run into a new run in key order, the delete of a whole run, and the merge of two runs through a
  sorter: what a merge does per row;
- a lookup that finds nothing (a new trace's), in the random tree and in a 1.1M-row run.
The writer's cache is 16 MiB, as the collector's; pages outside it come from the OS's file cache. KEY=blob stores the
random tree's trace ids as 16-byte blobs instead of 32-character hex text (the runs keep text).
"""
import os
import sqlite3
import sys
import tempfile
import time

rows = int(sys.argv[1]) if len(sys.argv) > 1 else 3_000_000
directory = sys.argv[2] if len(sys.argv) > 2 else tempfile.mkdtemp(prefix='trace-number-cost-')
key = sys.argv[3] if len(sys.argv) > 3 else 'text'
if key not in ('text', 'blob'):
    sys.exit(f'KEY must be text or blob, not {key}')
tree_key = 'b' if key == 'blob' else 'trace_id'
path = os.path.join(directory, 'model.db')
for suffix in ('', '-wal', '-shm'):
    if os.path.exists(path + suffix):
        os.remove(path + suffix)

db = sqlite3.connect(path, isolation_level=None)
for pragma in ('journal_mode=WAL', 'synchronous=NORMAL', 'cache_size=-16384', 'wal_autocheckpoint=0', 'temp_store=MEMORY'):
    db.execute('PRAGMA ' + pragma)
db.execute('CREATE TABLE traces (tenant TEXT NOT NULL, trace_id TEXT NOT NULL, trace_no INTEGER NOT NULL, '
           'PRIMARY KEY (tenant, trace_id)) WITHOUT ROWID')
db.execute('CREATE TABLE runs (run INTEGER NOT NULL, tenant TEXT NOT NULL, trace_id TEXT NOT NULL, trace_no INTEGER NOT NULL, '
           'PRIMARY KEY (run, tenant, trace_id)) WITHOUT ROWID')
db.execute('CREATE TEMP TABLE fresh (k INTEGER PRIMARY KEY, b BLOB NOT NULL, trace_id TEXT NOT NULL)')


def fresh(count):
    """COUNT new random 16-byte trace ids (as blobs, and as hex text), numbered 1..COUNT, in a temporary table."""
    db.execute('DELETE FROM fresh')
    db.execute('WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?) '
               "INSERT INTO fresh (b, trace_id) SELECT randomblob(16), '' FROM s", (count,))
    db.execute('UPDATE fresh SET trace_id = lower(hex(b))')


def run(statements):
    for statement in statements:
        db.execute(statement)


def measure(label, count, statements):
    db.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    start = time.process_time()
    run(statements)
    db.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    print(f'{label}: {(time.process_time() - start) / count * 1e6:.2f} us CPU a row', flush=True)


fresh(rows)
run(['BEGIN', f"INSERT INTO traces SELECT 'default', {tree_key}, k FROM fresh ORDER BY {tree_key}", 'COMMIT'])

commits, per_commit = 200, 420
fresh(commits * per_commit)
inserts = []
for c in range(commits):
    inserts += ['BEGIN', f"INSERT INTO traces SELECT 'default', {tree_key}, k FROM fresh WHERE k > {c * per_commit} AND k <= {(c + 1) * per_commit}", 'COMMIT']
    if c % 19 == 18:
        inserts.append('PRAGMA wal_checkpoint(RESTART)')
measure(f'random-keyed insert into {rows:,} rows ({key} keys), commits of {per_commit}', commits * per_commit, inserts)

million = 1_000_000
fresh(million)
run(['BEGIN', "INSERT INTO runs SELECT 1, 'default', trace_id, k FROM fresh ORDER BY trace_id", 'COMMIT'])
measure('copy of a run into a new run in key order (no sorter)', million,
        ['BEGIN', 'INSERT INTO runs SELECT 2, tenant, trace_id, trace_no FROM runs WHERE run = 1', 'COMMIT'])
measure('delete of a whole run', million, ['BEGIN', 'DELETE FROM runs WHERE run = 1', 'COMMIT'])
fresh(million // 10)
run(['BEGIN', "INSERT INTO runs SELECT 3, 'default', trace_id, k FROM fresh ORDER BY trace_id", 'COMMIT'])
measure('merge of two runs (1M and 100k rows) into a new run through a sorter', million + million // 10,
        ['BEGIN', 'INSERT INTO runs SELECT 4, tenant, trace_id, trace_no FROM runs WHERE run IN (2, 3) ORDER BY tenant, trace_id', 'COMMIT'])

probes = 200_000
fresh(probes)
for label, sql in (
        (f'lookup that finds nothing in the random tree of {rows:,} rows', f"SELECT count(*) FROM fresh f WHERE EXISTS (SELECT 1 FROM traces t WHERE t.tenant = 'default' AND t.trace_id = f.{tree_key})"),
        ('lookup that finds nothing in a run of 1.1M rows', "SELECT count(*) FROM fresh f WHERE EXISTS (SELECT 1 FROM runs r WHERE r.run = 4 AND r.tenant = 'default' AND r.trace_id = f.trace_id)")):
    start = time.process_time()
    db.execute(sql).fetchone()
    print(f'{label}: {(time.process_time() - start) / probes * 1e6:.2f} us CPU a lookup', flush=True)
print(f'SQLite {sqlite3.sqlite_version}; database at {path}')

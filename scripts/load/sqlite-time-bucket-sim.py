#!/usr/bin/env python3
# Store-level sketch (#21, timeidx; python3 scripts/load/sqlite-time-bucket-sim.py): WAL frames a commit of one time index keyed by the time or by a bucket of B seconds.
# Commits of 1 950 rows at 20 000 rows/s, start times up to 7 s behind the commit (uniform), 215-byte rows.
import os, random, sqlite3, tempfile
def run(expr, commits=300, per=1950, rate=20000):
    path = os.path.join(tempfile.gettempdir(), f'perfotel-bucket-sim-{os.getpid()}.db')
    for f in (path, path + '-wal', path + '-shm'):
        if os.path.exists(f): os.remove(f)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute('PRAGMA journal_mode=WAL'); db.execute('PRAGMA wal_autocheckpoint=0'); db.execute('PRAGMA cache_size=-65536')
    db.execute('CREATE TABLE t (trace_no INTEGER, span_id TEXT, start_time INTEGER NOT NULL, pad BLOB, PRIMARY KEY (trace_no, span_id))')
    if expr: db.execute(f'CREATE INDEX ix ON t ({expr})')
    rnd = random.Random(1); now = 1_780_000_000_000_000; no = 0; frames = []
    for c in range(commits):
        now += per * 1_000_000 // rate
        rows = []
        for _ in range(per):
            no += 1
            rows.append((no, '%016x' % rnd.getrandbits(64), now - rnd.randrange(7_000_000), b'x' * 150))
        before = os.path.getsize(path + '-wal') if os.path.exists(path + '-wal') else 0
        db.execute('BEGIN'); db.executemany('INSERT INTO t VALUES (?,?,?,?)', rows); db.execute('COMMIT')
        after = os.path.getsize(path + '-wal')
        if c >= commits // 2: frames.append((after - before) / (4096 + 24))
        if after > 200_000_000: db.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    db.close()
    for f in (path, path + '-wal', path + '-shm'):
        if os.path.exists(f): os.remove(f)
    return sum(frames) / len(frames)
for expr in ['', 'start_time', 'start_time / 1000000', 'start_time / 5000000']:
    print(f'{expr or "(no time index)":24s} {run(expr):7.1f} frames a commit (table and index)')

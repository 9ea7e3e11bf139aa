#!/usr/bin/env python3
# Store-level sketch (#21, runidx; python3 scripts/load/sqlite-run-index-sim.py): WAL frames a commit that one index of
# invocations adds, by its key: the run list's (tenant, start_time, span_id, trace_id[, value]) against keys by the second
# ((tenant, start_time / 1000000[, value])). Not the collector: a rowid table of invocation-sized rows (a 32-character
# trace id, a 16-character span id, 300 bytes of the other columns), commits of 360 runs (the collector's 1 950 spans a
# commit at about 5.4 spans a run) at 6 000 runs/s (34 600 spans/s), start times up to 7 s behind the commit (uniform),
# one tenant; the partial index holds the runs whose value passes its bound (share given).
import os, random, sqlite3, sys, tempfile

def run(key, where='', share=1.0, commits=400, per=360, rate=6000):
    path = os.path.join(tempfile.gettempdir(), f'perfotel-runidx-sim-{os.getpid()}.db')
    for f in (path, path + '-wal', path + '-shm'):
        if os.path.exists(f): os.remove(f)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute('PRAGMA journal_mode=WAL'); db.execute('PRAGMA wal_autocheckpoint=0'); db.execute('PRAGMA cache_size=-65536')
    db.execute('CREATE TABLE invocations (tenant TEXT, trace_id TEXT, span_id TEXT, start_time INTEGER NOT NULL, value INTEGER, pad BLOB)')
    if key: db.execute(f'CREATE INDEX ix ON invocations ({key}) {where}')
    rnd = random.Random(1); now = 1_780_000_000_000_000; frames = []
    for c in range(commits):
        now += per * 1_000_000 // rate
        rows = []
        for _ in range(per):
            value = 6000 + rnd.randrange(20000) if rnd.random() < share else rnd.randrange(5000)
            rows.append(('default', '%032x' % rnd.getrandbits(128), '%016x' % rnd.getrandbits(64), now - rnd.randrange(7_000_000),
                         value, b'x' * 300))
        before = os.path.getsize(path + '-wal') if os.path.exists(path + '-wal') else 0
        db.execute('BEGIN'); db.executemany('INSERT INTO invocations VALUES (?,?,?,?,?,?)', rows); db.execute('COMMIT')
        after = os.path.getsize(path + '-wal')
        if c >= commits // 2: frames.append((after - before) / (4096 + 24))
        if after > 200_000_000: db.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    db.close()
    for f in (path, path + '-wal', path + '-shm'):
        if os.path.exists(f): os.remove(f)
    return sum(frames) / len(frames)

share = float(sys.argv[1]) if len(sys.argv) > 1 else 0.6
table = run('')
print(f'table alone: {table:.1f} frames a commit; each index below: its frames a commit beyond the table')
partial = 'WHERE value > 5000'
for name, key, where in [
    ('every run (tenant, start_time, span_id, trace_id)', 'tenant, start_time, span_id, trace_id', ''),
    ('every run (tenant, second)', 'tenant, (start_time / 1000000)', ''),
    (f'partial, {share:.0%} of runs (tenant, start_time, span_id, trace_id, value)', 'tenant, start_time, span_id, trace_id, value', partial),
    (f'partial, {share:.0%} of runs (tenant, second, value)', 'tenant, (start_time / 1000000), value', partial),
    (f'partial, {share:.0%} of runs (tenant, second)', 'tenant, (start_time / 1000000)', partial),
]:
    print(f'{name:70s} {run(key, where, share) - table:7.1f}')

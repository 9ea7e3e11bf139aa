#!/usr/bin/env python3
"""Which B-tree (table or index) each WAL frame of the SQLite collector goes to, in its real traffic (#21, walmap).

    python3 scripts/load/sqlite-wal-map.py DIR [SECONDS] [-- extra ingest-load options, e.g. --collector DLL]

Runs the end-to-end driver (benchmarks/PerfOtel.Benchmarks, built in Release) for SECONDS (default 60) with
`ingest-load --store sqlite --keep-data DIR` and, while it runs, reads the collector's `DIR/perfotel.db-wal` over and
over: the WAL header's salts name the WAL's generation (they change each time the writer restarts the WAL over copied
frames), and each frame header (24 bytes: page number, database size after commit or 0, the salts, the checksums)
whose salts are the generation's is a frame of it. Each frame is counted once per generation, by its position, however
often it is seen; a frame written and overwritten (WAL restarted) between two reads is missed, so what is reported is
a sample, and its coverage is printed (frames seen / frames the collector says it wrote). At the end the kept database's
`dbstat` (name, pageno, pagetype) names the tree and the page type (leaf, internal, overflow) of every page number; a
page number no tree holds at the end (a freed page) is "(free or gone)". The frames per span by tree are the sample's
shares times the collector's own WAL frames per span (`perfotel.collector.store.wal.frames` over the spans it
acknowledged, from the driver's output); the frames per commit are those of the commits seen whole (a commit's last
frame carries the database size).

    python3 scripts/load/sqlite-wal-map.py --map DIR SAMPLE.json   # the mapping again, from a kept run's sample

Only frame headers are read (the page images are not), so its own cost is a few milliseconds of CPU per read of the
WAL; it runs beside the collector on the same machine and competes with it for the CPU like any other process.
"""
import json
import mmap
import os
import re
import sqlite3
import struct
import subprocess
import sys
import time
from collections import Counter, defaultdict

WAL_HEADER = 32
FRAME_HEADER = 24


def read_generation(path, seen):
    """Reads the frame headers of the WAL's current generation into seen[(salt1, salt2)] = {index: (pgno, commit)}."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return 0
    try:
        size = os.fstat(fd).st_size
        if size < WAL_HEADER:
            return 0
        with mmap.mmap(fd, size, prot=mmap.PROT_READ) as m:
            magic, _version, page_size, _ckpt, salt1, salt2 = struct.unpack_from(">IIIIII", m, 0)
            if magic not in (0x377F0682, 0x377F0683):
                return 0
            frames = seen.setdefault((salt1, salt2), {})
            stride = FRAME_HEADER + page_size
            index = 0
            new = 0
            offset = WAL_HEADER
            while offset + FRAME_HEADER <= size:
                pgno, commit, s1, s2 = struct.unpack_from(">IIII", m, offset)
                if s1 != salt1 or s2 != salt2 or pgno == 0:
                    break
                if index not in frames:
                    frames[index] = (pgno, commit)
                    new += 1
                index += 1
                offset += stride
            return new
    finally:
        os.close(fd)


def sample_while(process, wal, interval):
    seen = {}
    reads = 0
    while process.poll() is None:
        read_generation(wal, seen)
        reads += 1
        time.sleep(interval)
    return seen, reads


def tree_of_pages(db):
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    pages = {}
    for name, pageno, pagetype in connection.execute("SELECT name, pageno, pagetype FROM dbstat"):
        pages[pageno] = (name, pagetype)
    kinds = {}
    for name, kind, table in connection.execute("SELECT name, type, tbl_name FROM sqlite_schema"):
        kinds[name] = (kind, table)
    connection.close()
    return pages, kinds


def report(db, seen, spans=None, frames_written=None, seconds=None):
    pages, kinds = tree_of_pages(db)
    by_tree = Counter()
    by_type = Counter()
    by_tree_type = Counter()
    commits = 0
    whole_commit_frames = []
    trees_per_commit = []
    sampled = 0
    for generation in seen.values():
        sampled += len(generation)
        run = []
        expected = 0
        for index in sorted(generation):
            pgno, commit = generation[index]
            name, pagetype = pages.get(pgno, ("(free or gone)", "-"))
            by_tree[name] += 1
            by_type[pagetype] += 1
            by_tree_type[(name, pagetype)] += 1
            # A commit is seen whole when every frame from the previous commit's end to its own was read.
            if index != expected:
                run = None
            if run is not None:
                run.append(name)
            expected = index + 1
            if commit:
                commits += 1
                if run is not None:
                    whole_commit_frames.append(len(run))
                    trees_per_commit.append(Counter(run))
                run = []
    if sampled == 0:
        print("no WAL frame seen")
        return
    per_span = None
    if spans and frames_written:
        per_span = frames_written / spans
        print(f"collector: {spans} spans acknowledged, {frames_written} WAL frames written, {per_span:.3f} frames a span")
        print(f"sample: {sampled} frames in {len(seen)} WAL generations ({sampled / frames_written:.1%} of the frames written), "
              f"{commits} commits")
    else:
        print(f"sample: {sampled} frames in {len(seen)} WAL generations, {commits} commits")
    if whole_commit_frames:
        mean = sum(whole_commit_frames) / len(whole_commit_frames)
        whole = sorted(whole_commit_frames)
        line = (f"commits seen whole: {len(whole)}, frames a commit: mean {mean:.0f}, median {whole[len(whole) // 2]}, "
                f"10-90 % {whole[len(whole) // 10]}-{whole[len(whole) * 9 // 10]}")
        if per_span:
            line += f"; spans a commit (mean frames a commit / frames a span): {mean / per_span:.0f}"
        print(line)
    print()
    print("| tree (table or index) | kind | share of the frames | leaf | internal | frames a span | pages a whole commit (mean) |")
    print("|---|---|---:|---:|---:|---:|---:|")
    rest = Counter()
    for name, count in by_tree.most_common():
        if count < sampled / 2000:
            rest[name] = count
            continue
        kind = kinds.get(name, ("-", "-"))[0] if not name.startswith("sqlite_autoindex") else "index (primary key)"
        leaf = by_tree_type[(name, "leaf")]
        internal = by_tree_type[(name, "internal")]
        share = count / sampled
        fps = f"{share * per_span:.3f}" if per_span else "-"
        pcm = sum(c[name] for c in trees_per_commit) / len(trees_per_commit) if trees_per_commit else 0
        print(f"| {name} | {kind} | {share:.1%} | {leaf / count:.0%} | {internal / count:.0%} | {fps} | {pcm:.1f} |")
    if rest:
        count = sum(rest.values())
        fps = f"{count / sampled * per_span:.3f}" if per_span else "-"
        print(f"| {len(rest)} other trees, each under 0.05 % | - | {count / sampled:.2%} | - | - | {fps} | - |")
    print()
    total = sum(by_type.values())
    print("page types: " + ", ".join(f"{t} {c / total:.1%}" for t, c in by_type.most_common()))


def main(argv):
    if argv[:1] == ["--map"]:
        directory, sample = argv[1], argv[2]
        with open(sample) as f:
            data = json.load(f)
        seen = {tuple(map(int, k.split(","))): {int(i): tuple(v) for i, v in g.items()} for k, g in data["seen"].items()}
        report(os.path.join(directory, "perfotel.db"), seen, data.get("spans"), data.get("frames"))
        return 0
    if not argv:
        print(__doc__)
        return 2
    directory = os.path.abspath(argv[0])
    rest = argv[1:]
    seconds = "60"
    if rest and rest[0] != "--":
        seconds, rest = rest[0], rest[1:]
    if rest[:1] == ["--"]:
        rest = rest[1:]
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    driver = os.path.join(root, "benchmarks/PerfOtel.Benchmarks/bin/Release/net10.0/PerfOtel.Benchmarks.dll")
    os.makedirs(directory, exist_ok=True)
    wal = os.path.join(directory, "perfotel.db-wal")
    command = ["dotnet", driver, "ingest-load", "--store", "sqlite", "--duration", seconds, "--keep-data", directory] + rest
    print(" ".join(command), flush=True)
    log = open(os.path.join(directory, "ingest-load.out"), "w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    seen, reads = sample_while(process, wal, 0.05)
    log.close()
    with open(os.path.join(directory, "ingest-load.out")) as f:
        out = f.read()
    print(out)
    spans = frames = None
    m = re.search(r"WAL frames written by the commits[^:]*:\s*(\d+)", out)
    if m:
        frames = int(m.group(1))
    m = re.search(r"(\d[\d ]*) spans acknowledged", out)
    if m:
        spans = int(m.group(1).replace(" ", ""))
    with open(os.path.join(directory, "wal-sample.json"), "w") as f:
        json.dump({"spans": spans, "frames": frames,
                   "seen": {f"{k[0]},{k[1]}": {str(i): list(v) for i, v in g.items()} for k, g in seen.items()}}, f)
    print(f"{reads} reads of the WAL")
    report(os.path.join(directory, "perfotel.db"), seen, spans, frames)
    return process.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

#!/usr/bin/env python3
"""Splits a perf profile of the collector (#21) by where its CPU goes: the kernel by system call and thread, libe_sqlite3
by function, managed code by namespace (self time), the runtime, the thread pool and the JIT.

    python3 scripts/load/perf-split.py SCRIPT PERFMAP MMAPS

SCRIPT: `perf script -F comm,tid,ip,sym,dso` of a `perf record -g` of the collector; PERFMAP: its /tmp/perf-<pid>.map
(DOTNET_PerfMapEnabled=1); MMAPS: the PERF_RECORD_MMAP lines of `perf script --show-mmap-events`. The JIT's code runs
from the W^X double mapping (memfd:doublemapper), which perf shows as offsets in that memfd and does not look up in the
perf map: each offset is turned back into an address through the mapping that holds it, then looked up here.
scripts/load/collector-perf-profile.sh runs the whole thing.
"""
import bisect
import collections
import re
import sys


def load_jit(perfmap):
    entries = []
    for line in open(perfmap, encoding="utf-8", errors="replace"):
        parts = line.rstrip("\n").split(" ", 2)
        if len(parts) == 3:
            entries.append((int(parts[0], 16), int(parts[1], 16), parts[2]))
    entries.sort()
    return entries, [e[0] for e in entries]


def load_maps(mmaps):
    maps = []
    for line in open(mmaps, encoding="utf-8", errors="replace"):
        m = re.search(r"\[0x([0-9a-f]+)\(0x([0-9a-f]+)\) @ (0x[0-9a-f]+|0) ", line)
        if m and "doublemapper" in line:
            maps.append((int(m.group(3), 16), int(m.group(2), 16), int(m.group(1), 16)))
    return maps


def read_samples(script, resolve):
    samples, current = [], None
    for line in open(script, encoding="utf-8", errors="replace"):
        if not line.strip():
            if current:
                samples.append(current)
            current = None
        elif not line[0].isspace():
            current = {"comm": line.rsplit(" ", 2)[0].strip(), "frames": []}
        elif current is not None:
            m = re.match(r"\s*([0-9a-f]+) (.*?) \((.*)\)$", line.rstrip())
            if m:
                ip, sym, dso = m.groups()
                if "doublemapper" in dso:
                    sym, dso = resolve(int(ip, 16)), "JIT"
                elif dso.endswith(".dll"):
                    sym, dso = "[ReadyToRun " + dso.rsplit("/", 1)[-1] + "]", "R2R"
                current["frames"].append((sym, dso))
    if current:
        samples.append(current)
    return samples


NAMESPACES = ("PerfOtel.Collector.Derived.Kernel", "PerfOtel.Collector.Derived", "PerfOtel.Collector.Receiving",
              "PerfOtel.Collector.Storage", "PerfOtel.Collector.Ingest", "PerfOtel.Collector", "PerfOtel.Instrumentation",
              "Microsoft.AspNetCore", "Microsoft.Data.Sqlite", "SQLitePCL", "System")


def namespace(sym):
    m = re.search(r"([\w.`+<>$]+)::", sym)
    name = m.group(1) if m else sym
    return next((p + ".*" for p in NAMESPACES if name.startswith(p)), "other")


def kernel_path(frames):
    path = ""
    for sym, dso in frames:
        if "kernel" not in dso:
            break
        m = re.match(r"(?:__x64_sys_|__do_sys_|__se_sys_)(\w+)", sym)
        if m:
            path = "syscall " + m.group(1)
        elif sym in ("asm_exc_page_fault", "exc_page_fault") and not path:
            path = "page fault"
        elif (sym.startswith("asm_sysvec") or sym.startswith("asm_common_interrupt")) and not path:
            path = "interrupt"
    return path or "other"


def main():
    script, perfmap, mmaps = sys.argv[1:4]
    jit, starts = load_jit(perfmap)
    maps = load_maps(mmaps)

    def resolve(offset):
        for pgoff, length, start in maps:
            if pgoff <= offset < pgoff + length:
                address = start + offset - pgoff
                i = bisect.bisect_right(starts, address) - 1
                if i >= 0 and jit[i][0] <= address < jit[i][0] + jit[i][1]:
                    return re.sub(r"\[(OptimizedTier1OSR|OptimizedTier1|Optimized|Tier0|Tier1|QuickJitted|PreJIT|Instrumented[^\]]*)\]", "", jit[i][2])
                return "?jit"
        return "?unmapped"

    samples = read_samples(script, resolve)
    total = len(samples)
    shares, detail, threads = collections.Counter(), collections.defaultdict(collections.Counter), collections.Counter()
    for sample in samples:
        frames = sample["frames"]
        if not frames:
            continue
        threads[sample["comm"]] += 1
        names = [f for f, _ in frames]
        sym, dso = frames[0]
        pool = any("LowLevelLifoSemaphore" in n or "PortableThreadPool" in n or "WorkerThread" in n for n in names)
        worker = sample["comm"].startswith(".NET TP")
        thread = "request, writer and derivation threads" if worker else sample["comm"]
        if "kernel" in dso:
            path = kernel_path(frames)
            if worker and path in ("syscall sched_yield", "syscall futex"):
                shares["thread pool (spinning, waits, wakes)"] += 1
                detail["thread pool (spinning, waits, wakes)"][path] += 1
            else:
                shares["kernel"] += 1
                detail["kernel"][f"{path} [{thread}]"] += 1
        elif "e_sqlite3" in dso:
            shares["libe_sqlite3"] += 1
            detail["libe_sqlite3"][sym] += 1
        elif "libc.so" in dso:
            shares["libc"] += 1
            detail["libc"][sym] += 1
        elif "libcoreclr" in dso:
            key = ("GC (background thread)" if sample["comm"] == ".NET BGC"
                   else "thread pool (spinning, waits, wakes)" if pool
                   else "runtime (libcoreclr: GC on allocating threads, allocation, casts, stubs)")
            shares[key] += 1
        elif "libclrjit" in dso:
            shares["JIT compiler"] += 1
        elif dso in ("JIT", "R2R"):
            if pool:
                shares["thread pool (spinning, waits, wakes)"] += 1
            else:
                shares["managed (self time)"] += 1
                detail["managed (self time)"][namespace(sym) if dso == "JIT" else sym] += 1
                detail["managed methods (self time)"][re.sub(r"^.*?\]\s*", "", sym).split("(")[0]] += 1
        else:
            shares["other"] += 1
            detail["other"][dso] += 1
    print(f"samples {total}")
    for key, count in shares.most_common():
        print(f"{100 * count / total:5.1f}%  {key}")
        for name, n in detail[key].most_common(15):
            if n * 1000 >= 3 * total:
                print(f"          {100 * n / total:5.1f}%  {name}")
    print("managed methods, self time")
    for name, n in detail["managed methods (self time)"].most_common(25):
        print(f"          {100 * n / total:5.1f}%  {name}")
    print("by thread")
    for name, n in threads.most_common(8):
        print(f"          {100 * n / total:5.1f}%  {name}")


if __name__ == "__main__":
    main()

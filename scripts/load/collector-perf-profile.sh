#!/usr/bin/env bash
# A perf profile of the collector at full rate (#21): one ingest-load run (SQLite by default) with
# DOTNET_PerfMapEnabled=1, perf record -F 499 -g on the collector's PID for SECONDS from WARMUP seconds after it
# started, then the split by kernel path, libe_sqlite3 function, managed namespace, runtime, thread pool and JIT
# (scripts/load/perf-split.py, which resolves the JIT's frames in the W^X double mapping that perf report leaves
# unresolved). The collector's PID is the driver's child whose argv[1] is PerfOtel.Collector.dll (pgrep -f would also
# match the driver, or another session's collector).
#
#   bash scripts/load/collector-perf-profile.sh OUT_PREFIX [RUN_SECONDS] [WARMUP] [SECONDS] [extra ingest-load options...]
#   e.g. bash scripts/load/collector-perf-profile.sh /tmp/prof 60 25 30 --collector /other/build/PerfOtel.Collector.dll
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/load/collector-pid.sh
out="$1"; run="${2:-60}"; warmup="${3:-25}"; seconds="${4:-30}"
shift $(( $# > 4 ? 4 : $# ))
dotnet build -c Release benchmarks/PerfOtel.Benchmarks -v quiet -nologo >/dev/null
driver="$PWD/benchmarks/PerfOtel.Benchmarks/bin/Release/net10.0/PerfOtel.Benchmarks.dll"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)" > "$out.log"
dotnet "$driver" ingest-load --duration "$run" --store sqlite --collector-env DOTNET_PerfMapEnabled=1 "$@" >> "$out.log" 2>&1 &
driver_pid=$!
pid="$(collector_pid_of "$driver_pid")"
sleep "$warmup"
echo "collector pid $pid; load average at the profile: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out.log"
perf record -F 499 -g -p "$pid" -o "$out.data" -- sleep "$seconds" >> "$out.log" 2>&1
# The collector may delete its perf map as it exits: keep a copy for perf script.
cp "/tmp/perf-$pid.map" "$out.perfmap"
wait "$driver_pid"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out.log"
perf script -i "$out.data" -F comm,tid,ip,sym,dso > "$out.script" 2>/dev/null
perf script -i "$out.data" --show-mmap-events 2>/dev/null | grep 'PERF_RECORD_MMAP' > "$out.mmaps" || true
python3 scripts/load/perf-split.py "$out.script" "$out.perfmap" "$out.mmaps" | tee "$out.split"
grep -E 'steady state|WAL frames written' "$out.log"

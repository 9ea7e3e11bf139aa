#!/usr/bin/env bash
# Which B-trees (tables and indexes) write the SQLite collector's WAL frames (#21): one end-to-end run of the benchmarks'
# ingest-load driver on SQLite with its database kept, a few copies of the collector's WAL taken near the end of the
# run (at about 80 % of it, the WAL as it is once the database has grown), then the benchmarks' wal-frames mode on the
# kept database and the copies: commits, frames a commit, each tree's frames a commit and share, and for windows of
# 1, 3, 10 and 20 consecutive commits the distinct pages against the frames (what a checkpoint that covers them copies).
# The collector's I/O per commit (the writer's pwrite of each frame, the checkpointer's read and copy, the writeback)
# goes with these frames. docs/collector/ingest-performance.md, "Which B-trees write the WAL frames", says how to read it.
#
#   bash scripts/load/wal-frames.sh [SECONDS] [extra ingest-load options...]
#   default: 120 s; e.g. bash scripts/load/wal-frames.sh 60
#        bash scripts/load/wal-frames.sh 120 --collector <other build>/src/Collector/bin/Release/net10.0/PerfOtel.Collector.dll
#
# WAL_COPIES (default 6) copies WAL_COPY_INTERVAL (default 0.7) seconds apart. Everything (the kept database, the
# copies) is in a temporary directory removed at exit. The collector listens on 127.0.0.1 only, as ingest-load starts it.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds="${1:-120}"
shift $(( $# > 1 ? 1 : $# ))
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [SECONDS] [ingest-load options...]; SECONDS must be a positive integer, not '$seconds'" >&2; exit 2; }
copies="${WAL_COPIES:-6}"
interval="${WAL_COPY_INTERVAL:-0.7}"

# As scripts/ingest-load.sh: an incremental build of the driver, which builds the collector it starts (a project
# reference) into src/Collector/bin/Release; nothing is rebuilt when both are up to date.
dotnet build -c Release benchmarks/PerfOtel.Benchmarks -v quiet -nologo >/dev/null
driver="$PWD/benchmarks/PerfOtel.Benchmarks/bin/Release/net10.0/PerfOtel.Benchmarks.dll"

work="$(mktemp -d -t perfotel-wal-frames.XXXXXX)"
data="$work/data"
out="$work/ingest-load.out"
driver_pid=""
tail_pid=""
cleanup() {
  # Only when the script is stopped early: the driver (and the collector it started, which a stopped driver may leave).
  if [ -n "$driver_pid" ] && kill -0 "$driver_pid" 2>/dev/null; then
    local collector_pid
    collector_pid="$(sed -n 's/.*collector process pid \([0-9]*\).*/\1/p' "$out" 2>/dev/null | head -1)"
    kill "$driver_pid" 2>/dev/null || true
    if [ -n "$collector_pid" ] && grep -q PerfOtel.Collector "/proc/$collector_pid/cmdline" 2>/dev/null; then
      kill "$collector_pid" 2>/dev/null || true
    fi
  fi
  if [ -n "$tail_pid" ]; then kill "$tail_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== wal-frames: ingest-load --store sqlite --duration $seconds${*:+ $*}, WAL copied $copies times ${interval} s apart from about 80 % of the run ($(date -u '+%Y-%m-%d %H:%M:%S UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg))"
# Bounded: the run, its start-up and the collector's stop, with minutes to spare.
timeout "$((seconds + 300))" dotnet "$driver" ingest-load --store sqlite --duration "$seconds" --keep-data "$data" "$@" >"$out" 2>&1 &
driver_pid=$!
tail -n +1 -f --pid="$driver_pid" "$out" &
tail_pid=$!

# The run's clock starts when the driver has started the collector and printed its first line.
for ((waited = 0; ; waited++)); do
  grep -q '^ingest-load (end to end' "$out" && break
  kill -0 "$driver_pid" 2>/dev/null || { wait "$driver_pid" || true; echo "ingest-load ended before its run began" >&2; exit 1; }
  ((waited < 1200)) || { echo "ingest-load did not start its run within 120 s" >&2; exit 1; }
  sleep 0.1
done
sleep "$(awk -v s="$seconds" 'BEGIN { printf "%.1f", s * 0.8 }')"
wal_args=()
for ((i = 1; i <= copies; i++)); do
  if [ -f "$data/perfotel.db-wal" ]; then
    cp "$data/perfotel.db-wal" "$work/wal.$i"
    wal_args+=(--wal "$work/wal.$i")
  fi
  ((i == copies)) || sleep "$interval"
done
copied_at="$(date -u '+%H:%M:%S UTC')"

status=0
wait "$driver_pid" || status=$?
driver_pid=""
wait "$tail_pid" || true
tail_pid=""
[ "$status" -eq 0 ] || { echo "ingest-load failed (exit $status)" >&2; exit "$status"; }
[ ${#wal_args[@]} -gt 0 ] || { echo "no WAL file to copy in $data" >&2; exit 1; }

echo
echo "== WAL copies taken at $copied_at; the run ended $(date -u '+%H:%M:%S UTC'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
timeout 600 dotnet "$driver" wal-frames --database "$data/perfotel.db" "${wal_args[@]}"
echo
echo "ingest-load, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null || echo '?'):"
echo "| transport | store | run | acknowledged spans/s (steady) | CPU-s per 100 000 spans | p50 / p99 | RSS idle MB | RSS 1 min | RSS 2 min | RSS 5 min | RSS end | RSS max | load average at the end |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
sed -n 's/^table row: //p' "$out"

#!/usr/bin/env bash
# End-to-end ingest over the wire: a collector started as its own process with default settings (every derivation on,
# default logging) and realistic OTLP trace exports sent by concurrent senders from another process (the benchmarks
# program's ingest-load mode). Prints acknowledged spans/s, the collector's CPU-seconds per 100 000 spans (from
# /proc/<pid>/stat), p50/p99 request latency, its resident memory over time and the log lines it wrote.
#
#   bash scripts/ingest-load.sh [sqlite|postgres|both] [SECONDS] [extra ingest-load options...]
#   e.g. bash scripts/ingest-load.sh both 60 --concurrency 8 --encoding protobuf
#        bash scripts/ingest-load.sh sqlite 600 --rate 25000        # latency at a fixed rate, memory over 10 minutes
#        bash scripts/ingest-load.sh sqlite 60 --transports http,grpc # each transport in turn, then their ratio
#
# Every run ends with a compact Markdown table (one row per store and transport: acknowledged spans/s, CPU-seconds per
# 100 000 spans, latency, the collector's resident memory idle, after 1, 2 and 5 minutes, at the end and at most, and the
# load average) to paste into docs/collector/otlp-ingest.md, e.g. the 5-minute memory run of both transports:
#        bash scripts/ingest-load.sh sqlite 300 --transports http,grpc
#
# postgres: uses $PERFOTEL_TEST_POSTGRES when set, otherwise a throwaway cluster (scripts/load/postgres-cluster.sh).
# The store-level figures (no HTTP, decoding or derivations) come from scripts/load/store-load.sh instead.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/load/postgres-cluster.sh

stores="${1:-both}"
seconds="${2:-60}"
shift $(( $# > 2 ? 2 : $# ))
case "$stores" in
  sqlite|postgres|both) ;;
  *) echo "usage: $0 [sqlite|postgres|both] [SECONDS] [ingest-load options]" >&2; exit 2 ;;
esac

# --transports a,b: one run per transport in this invocation (same build, same machine minutes), then the ratios of
# acknowledged spans/s and CPU-seconds per 100 000 spans against the first.
transports=()
args=()
while [ $# -gt 0 ]; do
  if [ "$1" = --transports ]; then
    IFS=, read -r -a transports <<< "${2:?--transports needs a list such as http,grpc}"
    shift 2
  else
    args+=("$1")
    shift
  fi
done
set -- "${args[@]+"${args[@]}"}"

# Builds the collector too (a project reference), into src/Collector/bin/Release where the driver starts it from.
dotnet build -c Release benchmarks/PerfOtel.Benchmarks -v quiet -nologo >/dev/null
driver=(dotnet benchmarks/PerfOtel.Benchmarks/bin/Release/net10.0/PerfOtel.Benchmarks.dll ingest-load --duration "$seconds")
table="$(mktemp)"
last_output="$(mktemp)"
trap 'rm -f "$table" "$last_output"' EXIT

# Runs the driver once, keeping its output (for the ratios) and its table row.
run_one() {
  "${driver[@]}" "$@" | tee "$last_output"
  sed -n 's/^table row: //p' "$last_output" >> "$table"
}

# Runs the driver once, or once per --transports entry followed by the ratios.
run_driver() {
  if [ ${#transports[@]} -eq 0 ]; then
    run_one "$@"
    return
  fi
  local rates=() cpus=()
  for transport in "${transports[@]}"; do
    echo "== transport $transport (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
    run_one "$@" --transport "$transport"
    rates+=("$(sed -n 's/.*steady state[^:]*: \([0-9.]*\) acknowledged spans\/s.*/\1/p' "$last_output")")
    cpus+=("$(sed -n 's/.* \([0-9.]*\) CPU-seconds per 100 000 spans.*/\1/p' "$last_output")")
  done
  for i in "${!transports[@]}"; do
    awk -v t="${transports[$i]}" -v r="${rates[$i]}" -v r0="${rates[0]}" -v c="${cpus[$i]}" -v c0="${cpus[0]}" -v f="${transports[0]}" \
      'BEGIN { printf "%s: %s acknowledged spans/s (%.2fx %s), %s CPU-s per 100 000 spans (%.2fx %s)\n", t, r, r / r0, f, c, c / c0, f }'
  done
}

if [ "$stores" = sqlite ] || [ "$stores" = both ]; then
  run_driver --store sqlite "$@"
fi
if [ "$stores" = postgres ] || [ "$stores" = both ]; then
  postgres_cluster_start
  run_driver --store postgres --connection "$POSTGRES_LOAD_CONNECTION" "$@"
  postgres_cluster_stop
fi

echo
echo "ingest-load, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null || echo '?'):"
echo "| transport | store | run | acknowledged spans/s (steady) | CPU-s per 100 000 spans | p50 / p99 | RSS idle MB | RSS 1 min | RSS 2 min | RSS 5 min | RSS end | RSS max | load average at the end |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
cat "$table"

#!/usr/bin/env bash
# End-to-end ingest over the wire: a collector started as its own process with default settings (every derivation on,
# default logging) and realistic OTLP trace exports sent by concurrent senders from another process (the benchmarks
# program's ingest-load mode). Prints acknowledged spans/s, the collector's CPU-seconds per 100 000 spans (from
# /proc/<pid>/stat), p50/p99 request latency, its resident memory over time and the log lines it wrote.
#
#   bash scripts/ingest-load.sh [sqlite|postgres|both] [SECONDS] [extra ingest-load options...]
#   e.g. bash scripts/ingest-load.sh both 60 --concurrency 8 --encoding protobuf
#        bash scripts/ingest-load.sh sqlite 600 --rate 25000        # latency at a fixed rate, memory over 10 minutes
#        bash scripts/ingest-load.sh sqlite 300 --rate half         # #21's latency goal: p99 at half the sustained rate
#        bash scripts/ingest-load.sh sqlite 60 --transports http,grpc # each transport in turn, then their ratio
#        bash scripts/ingest-load.sh sqlite 60 --transports http,grpc --rounds 3 # alternated rounds, mean ratios
#
# Every run ends with a compact Markdown table (one row per store and transport: acknowledged spans/s, CPU-seconds per
# 100 000 spans, latency, the collector's resident memory idle, after 1, 2 and 5 minutes, at the end and at most, and the
# load average) to paste into docs/collector/ingest-performance.md, e.g. the 5-minute memory run of both transports:
#        bash scripts/ingest-load.sh sqlite 300 --transports http,grpc
#
# --rate half: first a probe as fast as acknowledged (--probe-seconds, default 60, on a fresh database like the paced run)
# finds the rate the collector sustains on this machine now; the run is then paced at half of it and ends with the p99
# over the run, the highest p99 of a single 5-second interval, and whether the goal (p99 under 100 ms) is met.
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
# --rounds N (with --transports): N rounds, the order reversed every other round (a,b then b,a, so that the machine's
# drift and whatever a run leaves behind, such as disk writeback, hit both alike), then each transport's mean and the
# mean ratios, beside the lowest and highest ratio of a single round. Single runs of one build spread by 10 % and more
# (most of the CPU is the store's, and its share moves from run to run), so one pair of runs cannot show a transport
# 5 % cheaper or dearer (docs/collector/ingest-performance.md, "OTLP/gRPC against OTLP/HTTP: where the CPU goes").
transports=()
rounds=1
args=()
half_rate=false
probe_seconds=60
while [ $# -gt 0 ]; do
  if [ "$1" = --rate ] && [ "${2:-}" = half ]; then
    half_rate=true
    shift 2
  elif [ "$1" = --probe-seconds ]; then
    probe_seconds="${2:?--probe-seconds needs a number}"
    [[ "$probe_seconds" =~ ^[1-9][0-9]*$ ]] || { echo "--probe-seconds must be a positive integer, not '$probe_seconds'" >&2; exit 2; }
    shift 2
  elif [ "$1" = --transports ]; then
    IFS=, read -r -a transports <<< "${2:?--transports needs a list such as http,grpc}"
    shift 2
  elif [ "$1" = --rounds ]; then
    rounds="${2:?--rounds needs a number}"
    [[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "--rounds must be a positive integer, not '$rounds'" >&2; exit 2; }
    shift 2
  else
    args+=("$1")
    shift
  fi
done
set -- "${args[@]+"${args[@]}"}"
if [ "$rounds" -gt 1 ] && [ ${#transports[@]} -lt 2 ]; then
  echo "--rounds alternates transports: give at least two with --transports (e.g. --transports http,grpc)" >&2
  exit 2
fi

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

# Runs the driver once, or once per --transports entry (--rounds times, alternating the order) followed by the ratios.
run_driver() {
  if [ ${#transports[@]} -eq 0 ]; then
    run_one "$@"
    return
  fi
  local -A rate_sum=() cpu_sum=() rate_of=() cpu_of=()
  local order=() ratios=() round transport i
  for transport in "${transports[@]}"; do rate_sum[$transport]=0; cpu_sum[$transport]=0; done
  for ((round = 0; round < rounds; round++)); do
    if ((round % 2 == 0)); then order=("${transports[@]}"); else
      order=(); for ((i = ${#transports[@]} - 1; i >= 0; i--)); do order+=("${transports[$i]}"); done
    fi
    for transport in "${order[@]}"; do
      echo "== transport $transport$( ((rounds > 1)) && echo ", round $((round + 1)) of $rounds") (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
      run_one "$@" --transport "$transport"
      rate_of[$transport]="$(sed -n 's/.*steady state[^:]*: \([0-9.]*\) acknowledged spans\/s.*/\1/p' "$last_output")"
      cpu_of[$transport]="$(sed -n 's/.* \([0-9.]*\) CPU-seconds per 100 000 spans.*/\1/p' "$last_output")"
      rate_sum[$transport]="$(awk -v a="${rate_sum[$transport]}" -v b="${rate_of[$transport]}" 'BEGIN { print a + b }')"
      cpu_sum[$transport]="$(awk -v a="${cpu_sum[$transport]}" -v b="${cpu_of[$transport]}" 'BEGIN { print a + b }')"
    done
    for transport in "${transports[@]:1}"; do
      ratios+=("$transport $(awk -v r="${rate_of[$transport]}" -v r0="${rate_of[${transports[0]}]}" -v c="${cpu_of[$transport]}" -v c0="${cpu_of[${transports[0]}]}" 'BEGIN { printf "%.3f %.3f", r / r0, c / c0 }')")
    done
  done
  local first="${transports[0]}"
  for transport in "${transports[@]}"; do
    awk -v t="$transport" -v f="$first" -v n="$rounds" -v r="${rate_sum[$transport]}" -v r0="${rate_sum[$first]}" \
      -v c="${cpu_sum[$transport]}" -v c0="${cpu_sum[$first]}" \
      'BEGIN { printf "%s: %.0f acknowledged spans/s (%.2fx %s), %.2f CPU-s per 100 000 spans (%.2fx %s)%s\n", t, r / n, r / r0, f, c / n, c / c0, f, (n > 1 ? ", mean of " n " runs" : "") }'
    if [ "$rounds" -gt 1 ] && [ "$transport" != "$first" ]; then
      printf '%s\n' "${ratios[@]}" | awk -v t="$transport" -v f="$first" '$1 == t {
          if (n == 0 || $2 < rl) rl = $2; if (n == 0 || $2 > rh) rh = $2; if (n == 0 || $3 < cl) cl = $3; if (n == 0 || $3 > ch) ch = $3; n++ }
        END { printf "  single rounds: %.2f-%.2fx %s spans/s, %.2f-%.2fx %s CPU per span\n", rl, rh, f, cl, ch, f }'
    fi
  done
}

# --rate half: a probe as fast as acknowledged, then the run paced at half its steady-state rate, then the verdict.
paced_rate=""
run_store() {
  if ! $half_rate; then
    run_driver "$@"
    return
  fi
  local probe_transport=()
  [ ${#transports[@]} -eq 0 ] || probe_transport=(--transport "${transports[0]}")
  echo "== probe: ${probe_seconds} s as fast as acknowledged, to find the sustained rate (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
  "${driver[@]}" "$@" "${probe_transport[@]+"${probe_transport[@]}"}" --duration "$probe_seconds" | tee "$last_output"
  local sustained
  sustained="$(sed -n 's/.*steady state[^:]*: \([0-9.]*\) acknowledged spans\/s.*/\1/p' "$last_output")"
  paced_rate="$(awk -v r="$sustained" 'BEGIN { printf "%d", r / 2 }')"
  [ "$paced_rate" -gt 0 ] || { echo "the probe acknowledged nothing: no rate to pace at" >&2; exit 1; }
  echo "== paced at half the sustained ${sustained} spans/s: ${paced_rate} spans/s for ${seconds} s (load average before: $(cut -d' ' -f1-3 /proc/loadavg))"
  run_driver "$@" --rate "$paced_rate"
  local p99 worst over
  p99="$(sed -n 's/.*request latency p50 [0-9.]* ms, p99 \([0-9.]*\) ms.*/\1/p' "$last_output")"
  worst="$(sed -n 's/.*after the warm-up at most \([0-9.]*\) ms (at \([0-9]*\) s), \([0-9]* of [0-9]*\) at or above.*/\1 ms at \2 s; intervals at or above 100 ms: \3/p' "$last_output")"
  over="$(awk -v p="$p99" 'BEGIN { print (p != "" && p < 100) ? "met" : "NOT met" }')"
  echo "half-rate latency (#21: p99 under 100 ms at half the sustained rate): sustained ${sustained} spans/s, paced at ${paced_rate}; p99 ${p99} ms over the run (after the warm-up): ${over}; highest p99 of a single interval ${worst}"
}

if [ "$stores" = sqlite ] || [ "$stores" = both ]; then
  run_store --store sqlite "$@"
fi
if [ "$stores" = postgres ] || [ "$stores" = both ]; then
  postgres_cluster_start
  run_store --store postgres --connection "$POSTGRES_LOAD_CONNECTION" "$@"
  postgres_cluster_stop
fi

echo
echo "ingest-load, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(git rev-parse --short HEAD 2>/dev/null || echo '?'):"
echo "| transport | store | run | acknowledged spans/s (steady) | CPU-s per 100 000 spans | p50 / p99 | RSS idle MB | RSS 1 min | RSS 2 min | RSS 5 min | RSS end | RSS max | load average at the end |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
cat "$table"

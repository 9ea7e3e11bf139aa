#!/usr/bin/env bash
# End-to-end ingest (scripts/ingest-load.sh's driver: OTLP/HTTP protobuf over the wire into a collector process with
# default settings and every derivation on) of this checkout's collector against an earlier commit's, in one run on
# one machine (#21): the same driver, the same requests, alternating base/current/current/base so that drift of a
# shared machine hits both alike. Reports each run's acknowledged spans/s, the collector's CPU-seconds per 100 000
# spans (from /proc) and its highest resident memory, then the mean ratios current/base.
#
#   bash scripts/load/ingest-load-compare.sh [BASE_REF] [SECONDS] [ROUNDS] [extra ingest-load options...]
#   default: main, 40 s, 2 rounds, SQLite
#   e.g. bash scripts/load/ingest-load-compare.sh main 40 2 --collector-env DOTNET_TieredCompilation=0
#        STORE=postgres bash scripts/load/ingest-load-compare.sh main 60 2
#
# STORE=postgres: one throwaway PostgreSQL cluster (scripts/load/postgres-cluster.sh: fsync and synchronous_commit on)
# with a fresh database for every run, and one more column: the server's CPU-seconds per 100 000 spans (its processes'
# clock ticks from /proc over the whole run, warm-up included, read once the run's backends exited, divided by every
# span acknowledged; scripts/load/postgres-cluster-ticks-check.sh checks that count), because on
# PostgreSQL most of the CPU per span is the server's, not the collector's.
#
# On a busy machine the first minute of a collector includes much of its JIT work (tiering), which the 10 s warm-up
# does not cover when the collector gets a fraction of a core; --collector-env DOTNET_TieredCompilation=0 compiles
# everything fully at first use, so that short runs compare the steady-state code of both builds.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/load/base-checkout.sh
source scripts/load/postgres-cluster.sh
source scripts/load/ingest-load-figures.sh

base_ref="${1:-main}"
seconds="${2:-40}"
rounds="${3:-2}"
shift $(( $# > 3 ? 3 : $# ))

store="${STORE:-sqlite}"
case "$store" in sqlite|postgres) ;; *) echo "STORE must be sqlite or postgres, not '$store'" >&2; exit 2 ;; esac
cleanup() { base_checkout_remove; postgres_cluster_stop; }
trap cleanup EXIT
base_checkout_start "$base_ref" src/Collector
if [ "$store" = postgres ]; then
  postgres_cluster_start
  # postgres_cluster_start sets its own EXIT trap: put back the one that also removes the base worktree.
  trap cleanup EXIT
fi
hertz="$(getconf CLK_TCK)"
run=0
dotnet build -c Release benchmarks/PerfOtel.Benchmarks -v quiet -nologo >/dev/null
declare -A collector=(
  [base]="$base_dir/src/Collector/bin/Release/net10.0/PerfOtel.Collector.dll"
  [current]="$PWD/src/Collector/bin/Release/net10.0/PerfOtel.Collector.dll"
)
driver="$PWD/benchmarks/PerfOtel.Benchmarks/bin/Release/net10.0/PerfOtel.Benchmarks.dll"

# One run: prints "<acknowledged spans/s> <collector CPU-seconds per 100 000 spans> <highest resident MB> <server CPU-seconds
# per 100 000 spans, or - on SQLite> <WAL frames a span, or - on PostgreSQL>" from the driver's steady-state, summary,
# resident-memory and collector-metrics lines. WAL frames a span (the frames the SQLite writer's commits appended over
# the whole run, divided by every span acknowledged) depends on the store's layout and the commits' size, not on the
# machine's load, except through the commits' size (a slower run commits fewer spans at a time): at a paced rate
# (--rate N) it compares two builds' pages written per span with little noise.
measure() {
  local out store_args=(--store sqlite) before=0 after=0
  if [ "$store" = postgres ]; then
    store_args=(--store postgres --connection "$(postgres_cluster_database "ingest_compare_$run")")
    postgres_cluster_idle
    before="$(postgres_cluster_ticks)"
  fi
  out="$(dotnet "$driver" ingest-load "${store_args[@]}" --duration "$seconds" --collector "${collector[$1]}" "${@:2}")"
  # After the collector's backends exited (its pool closes as it stops), and as one consistent snapshot of the cluster's
  # processes (postgres_cluster_ticks): a backend exiting between two reads was counted in neither.
  if [ "$store" = postgres ]; then postgres_cluster_idle; after="$(postgres_cluster_ticks)"; fi
  local figures spans rate cpu rss_high
  read -r rate cpu _ rss_high < <(ingest_load_figures <<< "$out")
  figures="$rate $cpu $rss_high"
  spans="$(sed -n 's/^summary: \([0-9]*\) spans acknowledged.*/\1/p' <<< "$out")"
  if [ "$store" = postgres ]; then
    echo "$figures $(awk -v t="$((after - before))" -v hz="$hertz" -v n="$spans" 'BEGIN { printf "%.2f", t / hz / n * 100000 }') -"
  else
    local frames
    frames="$(sed -n 's/.*WAL frames written by the commits[^:]*: \([0-9]*\).*/\1/p' <<< "$out")"
    echo "$figures - $(awk -v f="${frames:-0}" -v n="$spans" 'BEGIN { if (f > 0 && n > 0) printf "%.3f", f / n; else printf "-" }')"
  fi
}
echo "ingest-load ($store, $seconds s per run, $rounds rounds of base/current/current/base); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %14s %24s %14s %14s %14s %14s\n' build "spans/s" "CPU-s per 100 000 spans" "RSS max MB" "server CPU-s" "WAL frames/span" "load average"
declare -A sum_rate=([base]=0 [current]=0) sum_cpu=([base]=0 [current]=0) sum_rss=([base]=0 [current]=0) sum_server=([base]=0 [current]=0)
declare -A sum_frames=([base]=0 [current]=0)
for ((r = 0; r < rounds; r++)); do
  for build in base current current base; do
    run=$((run + 1))
    read -r rate cpu rss server frames < <(measure "$build" "$@")
    printf '%-8s %14s %24s %14s %14s %14s %14s\n' "$build" "$rate" "$cpu" "$rss" "$server" "$frames" "$(cut -d' ' -f1 /proc/loadavg)"
    [ "$frames" = - ] || sum_frames[$build]="$(awk -v a="${sum_frames[$build]}" -v b="$frames" 'BEGIN { print a + b }')"
    [ "$server" = - ] || sum_server[$build]="$(awk -v a="${sum_server[$build]}" -v b="$server" 'BEGIN { print a + b }')"
    sum_rss[$build]="$(awk -v a="${sum_rss[$build]}" -v b="$rss" 'BEGIN { print a + b }')"
    sum_rate[$build]="$(awk -v a="${sum_rate[$build]}" -v b="$rate" 'BEGIN { print a + b }')"
    sum_cpu[$build]="$(awk -v a="${sum_cpu[$build]}" -v b="$cpu" 'BEGIN { print a + b }')"
  done
done
awk -v rc="${sum_rate[current]}" -v rb="${sum_rate[base]}" -v cc="${sum_cpu[current]}" -v cb="${sum_cpu[base]}" \
  -v mc="${sum_rss[current]}" -v mb="${sum_rss[base]}" -v n="$((2 * rounds))" \
  'BEGIN { printf "current %.0f acknowledged spans/s against base %.0f (%.2fx); %.2f against %.2f CPU-s per 100 000 spans (%.2fx); highest resident memory %.0f against %.0f MB (%.2fx; it grows with the spans a run ingests, so read it beside the spans/s)\n", rc / n, rb / n, rc / rb, cc / n, cb / n, cc / cb, mc / n, mb / n, mc / mb }'
if [ "$store" = sqlite ] && [ "${sum_frames[base]}" != 0 ]; then
  awk -v fc="${sum_frames[current]}" -v fb="${sum_frames[base]}" -v n="$((2 * rounds))" \
    'BEGIN { printf "SQLite WAL frames a span, whole runs: current %.3f against base %.3f (%.2fx)\n", fc / n, fb / n, fc / fb }'
fi
if [ "$store" = postgres ]; then
  awk -v sc="${sum_server[current]}" -v sb="${sum_server[base]}" -v n="$((2 * rounds))" \
    'BEGIN { printf "server (PostgreSQL) CPU-s per 100 000 spans, whole runs: current %.2f against base %.2f (%.2fx)\n", sc / n, sb / n, sc / sb }'
fi
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

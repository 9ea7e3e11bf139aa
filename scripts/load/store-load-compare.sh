#!/usr/bin/env bash
# Store-level ingest throughput of this checkout against an earlier commit, in one run on one machine (#13's rule:
# ingest into SQLite and PostgreSQL stays within 10 % of the figures before the derivation seam and the folder move).
# Both builds run the same store-load driver mode (100-span batches through IExecutionStore.WriteAsync, 8 writers,
# acknowledged after commit), alternating base/current/current/base so drift of the machine hits both alike. Each
# PostgreSQL run gets its own fresh database, since the two builds have different schemas.
#
#   bash scripts/load/store-load-compare.sh [BASE_REF] [SECONDS] [ROUNDS]
#   default: 36e6aa4 (the end of the first round, the figures the issue was filed against), 30 s, 2 rounds
#   LINKS=off bash scripts/load/store-load-compare.sh ...   current build without span links (the figure before they
#                                                           were written by the driver; a base before migration 7 has none)
#   STORES=postgres bash scripts/load/store-load-compare.sh ...   one store only (default: sqlite postgres)
#   CURRENT_ARGS="--cache-mib 64" bash scripts/load/store-load-compare.sh ...   extra store-load options for the
#                                                           current build only (here SQLite's writer cache of 36e6aa4)
#   SPIN=off bash scripts/load/store-load-compare.sh ...    both builds without the .NET thread pool's spin-waiting
#                                                           (DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0): its idle
#                                                           workers otherwise spin in sched_yield while the writers wait
#                                                           for the database, about half of the PostgreSQL driver's CPU,
#                                                           and more of it the longer the server takes to answer
#
# Three figures per run: steady-state spans/s and spans per CPU-second of the driver process (as the driver prints
# them), and spans per CPU-second of the whole run counting the driver AND, for PostgreSQL, the server's processes
# (postmaster and its children, from /proc): a client-only figure leaves out most of PostgreSQL's cost.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/load/postgres-cluster.sh
source scripts/load/base-checkout.sh

base_ref="${1:-36e6aa4}"
seconds="${2:-30}"
rounds="${3:-2}"

cleanup() { base_checkout_remove; postgres_cluster_stop; }
trap cleanup EXIT
base_checkout_start "$base_ref" benchmarks/PerfOtel.Benchmarks
declare -A driver=(
  [base]="$base_dir/benchmarks/PerfOtel.Benchmarks/bin/Release/net10.0/PerfOtel.Benchmarks.dll"
  [current]="$PWD/benchmarks/PerfOtel.Benchmarks/bin/Release/net10.0/PerfOtel.Benchmarks.dll"
)

postgres_cluster_start
# postgres_cluster_start sets its own EXIT trap: put back the one that also removes the base worktree.
trap cleanup EXIT
links="${LINKS:-on}"
if [ "${SPIN:-on}" = off ]; then export DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0; fi
read -r -a current_args <<< "${CURRENT_ARGS:-}"
hertz="$(getconf CLK_TCK)"
# One run: prints "<spans/s> <spans per CPU-second> <spans per CPU-second, driver and server>".
measure() {
  local build="$1" provider="$2" run="$3" out times before after extra=()
  [ "$build" = current ] && extra=("${current_args[@]}")
  out="$(mktemp)"
  times="$(mktemp)"
  if [ "$provider" = sqlite ]; then
    local data_dir
    data_dir="$(mktemp -d /tmp/perfotel-store-load.XXXXXX)"
    before=0
    /usr/bin/time -o "$times" -f '%U %S' dotnet "${driver[$build]}" store-load --provider sqlite --seconds "$seconds" \
      --data-dir "$data_dir" --links "$links" "${extra[@]}" > "$out"
    after=0
    rm -rf "$data_dir"
  else
    local connection
    connection="$(postgres_cluster_database "compare_$run")"
    postgres_cluster_idle
    before="$(postgres_cluster_ticks)"
    /usr/bin/time -o "$times" -f '%U %S' dotnet "${driver[$build]}" store-load --provider postgres --seconds "$seconds" \
      --connection "$connection" --links "$links" "${extra[@]}" > "$out"
    postgres_cluster_idle
    after="$(postgres_cluster_ticks)"
  fi
  local steady spans
  steady="$(sed -n 's/.*steady state: \([0-9]*\) spans\/s mean.*(\([0-9]*\) spans per CPU-second).*/\1 \2/p' "$out")"
  spans="$(sed -n 's/summary: \([0-9]*\) spans acknowledged.*/\1/p' "$out")"
  awk -v steady="$steady" -v spans="$spans" -v server="$(( after - before ))" -v hz="$hertz" -v driver="$(tail -1 "$times")" \
    'BEGIN { split(driver, d, " "); printf "%s %.0f\n", steady, spans / (d[1] + d[2] + server / hz) }'
  rm -f "$out" "$times"
}

echo "store-load, $seconds s per run, $rounds rounds of base/current/current/base, span links $links${CURRENT_ARGS:+, current with $CURRENT_ARGS}, thread pool spin ${SPIN:-on}; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
run=0
printf '%-9s %-8s %14s %18s %28s\n' store build "spans/s" "spans per CPU-s" "per CPU-s, driver+server"
for provider in ${STORES:-sqlite postgres}; do
  declare -A sum_rate=([base]=0 [current]=0) sum_cpu=([base]=0 [current]=0) sum_all=([base]=0 [current]=0)
  for ((r = 0; r < rounds; r++)); do
    for build in base current current base; do
      run=$((run + 1))
      read -r rate per_cpu per_all < <(measure "$build" "$provider" "$run")
      printf '%-9s %-8s %14s %18s %28s   load %s\n' "$provider" "$build" "$rate" "$per_cpu" "$per_all" "$(cut -d' ' -f1 /proc/loadavg)"
      sum_rate[$build]=$((sum_rate[$build] + rate))
      sum_cpu[$build]=$((sum_cpu[$build] + per_cpu))
      sum_all[$build]=$((sum_all[$build] + per_all))
    done
  done
  awk -v p="$provider" -v rc="${sum_rate[current]}" -v rb="${sum_rate[base]}" -v cc="${sum_cpu[current]}" -v cb="${sum_cpu[base]}" \
    -v ac="${sum_all[current]}" -v ab="${sum_all[base]}" -v n="$((2 * rounds))" \
    'BEGIN { printf "%s: current %.0f spans/s against base %.0f (%.2fx); %.0f against %.0f spans per CPU-second (%.2fx); driver and server: %.0f against %.0f (%.2fx)\n", p, rc / n, rb / n, rc / rb, cc / n, cb / n, cc / cb, ac / n, ab / n, ac / ab }'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

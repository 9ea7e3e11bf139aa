#!/usr/bin/env bash
# Store-level ingest throughput of this checkout against an earlier commit, in one run on one machine (#13's rule:
# ingest into SQLite and PostgreSQL stays within 10 % of the figures before the derivation seam and the folder move).
# Both builds run the same store-load driver mode (100-span batches through IExecutionStore.WriteAsync, 8 writers,
# acknowledged after commit), alternating base/current/current/base so drift of the machine hits both alike. Each
# PostgreSQL run gets its own fresh database, since the two builds have different schemas.
#
#   bash scripts/load/store-load-compare.sh [BASE_REF] [SECONDS] [ROUNDS]
#   default: 36e6aa4 (the end of the first round, the figures the issue was filed against), 30 s, 2 rounds
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/load/postgres-cluster.sh

base_ref="${1:-36e6aa4}"
seconds="${2:-30}"
rounds="${3:-2}"

base_dir="$(mktemp -d /tmp/perfotel-store-base.XXXXXX)"
cleanup() { git worktree remove --force "$base_dir" >/dev/null 2>&1 || rm -rf "$base_dir"; postgres_cluster_stop; }
trap cleanup EXIT
git worktree add --detach "$base_dir" "$base_ref" >/dev/null 2>&1
echo "building $base_ref and the current checkout"
dotnet build -c Release "$base_dir/benchmarks/PerfOtel.Benchmarks" -v quiet -nologo >/dev/null
dotnet build -c Release benchmarks/PerfOtel.Benchmarks -v quiet -nologo >/dev/null
declare -A driver=(
  [base]="$base_dir/benchmarks/PerfOtel.Benchmarks/bin/Release/net10.0/PerfOtel.Benchmarks.dll"
  [current]="$PWD/benchmarks/PerfOtel.Benchmarks/bin/Release/net10.0/PerfOtel.Benchmarks.dll"
)

postgres_cluster_start
# postgres_cluster_start sets its own EXIT trap: put back the one that also removes the base worktree.
trap cleanup EXIT
# One run: prints "<spans/s> <spans per CPU-second>" from the driver's steady-state line.
measure() {
  local build="$1" provider="$2" run="$3" out
  out="$(mktemp)"
  if [ "$provider" = sqlite ]; then
    local data_dir
    data_dir="$(mktemp -d /tmp/perfotel-store-load.XXXXXX)"
    dotnet "${driver[$build]}" store-load --provider sqlite --seconds "$seconds" --data-dir "$data_dir" > "$out"
    rm -rf "$data_dir"
  else
    local db="compare_$run"
    "${POSTGRES_LOAD_AS[@]}" psql -h 127.0.0.1 -p "$(sed 's/.*Port=\([0-9]*\).*/\1/' <<< "$POSTGRES_LOAD_CONNECTION")" -U postgres -q -c "CREATE DATABASE $db" postgres
    dotnet "${driver[$build]}" store-load --provider postgres --seconds "$seconds" \
      --connection "${POSTGRES_LOAD_CONNECTION/Database=postgres/Database=$db}" > "$out"
  fi
  sed -n 's/.*steady state: \([0-9]*\) spans\/s mean.*(\([0-9]*\) spans per CPU-second).*/\1 \2/p' "$out"
  rm -f "$out"
}

echo "store-load, $seconds s per run, $rounds rounds of base/current/current/base; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
run=0
printf '%-9s %-8s %14s %18s\n' store build "spans/s" "spans per CPU-s"
for provider in sqlite postgres; do
  declare -A sum_rate=([base]=0 [current]=0) sum_cpu=([base]=0 [current]=0)
  for ((r = 0; r < rounds; r++)); do
    for build in base current current base; do
      run=$((run + 1))
      read -r rate per_cpu < <(measure "$build" "$provider" "$run")
      printf '%-9s %-8s %14s %18s\n' "$provider" "$build" "$rate" "$per_cpu"
      sum_rate[$build]=$((sum_rate[$build] + rate))
      sum_cpu[$build]=$((sum_cpu[$build] + per_cpu))
    done
  done
  awk -v p="$provider" -v rc="${sum_rate[current]}" -v rb="${sum_rate[base]}" -v cc="${sum_cpu[current]}" -v cb="${sum_cpu[base]}" \
    'BEGIN { printf "%s: current %.0f spans/s against base %.0f (%.2fx); %.0f against %.0f spans per CPU-second (%.2fx)\n", p, rc / 2 / '"$rounds"', rb / 2 / '"$rounds"', rc / rb, cc / 2 / '"$rounds"', cb / 2 / '"$rounds"', cc / cb }'
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

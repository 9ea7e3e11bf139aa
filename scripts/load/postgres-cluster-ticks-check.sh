#!/usr/bin/env bash
# Checks postgres_cluster_ticks (scripts/load/postgres-cluster.sh), the count of the throwaway cluster's CPU that the
# load scripts divide by the spans of a run: while short connections come and go (each backend burns CPU and exits, as
# a pool's do when the collector stops), the count is read over and over, and it must never go down. A backend that
# exits between the reads of a count that is not a consistent snapshot is counted in neither read and the count drops
# by its ticks; two base runs of pg30's compare counted half of the server's CPU that way. Exits 1 when a count dropped.
#
#   bash scripts/load/postgres-cluster-ticks-check.sh [CONNECTIONS]      # default 60 connections, 3 at a time
#   POSTGRES_CLUSTER_SCRIPT=/path/to/postgres-cluster.sh bash ...         # check another version of the count
set -euo pipefail
cd "$(dirname "$0")/../.."
source "${POSTGRES_CLUSTER_SCRIPT:-scripts/load/postgres-cluster.sh}"

connections="${1:-60}"
postgres_cluster_start
port="$(sed 's/.*Port=\([0-9]*\).*/\1/' <<< "$POSTGRES_LOAD_CONNECTION")"
start="$(postgres_cluster_ticks)"

# Three senders, each opening one connection after another whose backend sums a few million numbers and exits.
churn() {
  local i
  for ((i = 0; i < connections / 3; i++)); do
    "${POSTGRES_LOAD_AS[@]}" psql -h 127.0.0.1 -p "$port" -U postgres -qAt \
      -c "SELECT sum(x) FROM generate_series(1, 1500000) x" postgres >/dev/null
  done
}
churn & a=$!
churn & b=$!
churn & c=$!

samples=0 drops=0 lost=0 previous="$start"
while kill -0 "$a" 2>/dev/null || kill -0 "$b" 2>/dev/null || kill -0 "$c" 2>/dev/null; do
  now="$(postgres_cluster_ticks)"
  samples=$((samples + 1))
  if [ "$now" -lt "$previous" ]; then
    drops=$((drops + 1)); lost=$((lost + previous - now))
  fi
  previous="$now"
done
wait "$a" "$b" "$c"
if declare -F postgres_cluster_idle >/dev/null; then postgres_cluster_idle; else sleep 2; fi
end="$(postgres_cluster_ticks)"
echo "$connections connections, $samples counts read while they came and went: $drops went down (by $lost ticks in all);" \
  "the cluster used $((end - start)) ticks over the check ($(getconf CLK_TCK) a second); load average $(cut -d' ' -f1 /proc/loadavg)"
[ "$drops" -eq 0 ] || { echo "FAIL: the count lost the ticks of backends that exited between its reads" >&2; exit 1; }
echo "OK: the count never went down"

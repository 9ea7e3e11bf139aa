#!/usr/bin/env bash
# What the run list's call-summary triggers (migration 8) cost ingest, in one script run: the store-level driver
# (store-load) alternately without the triggers (dropped from a fresh store: the store as before migration 8) and with
# them, ROUNDS times each, every run on an empty store. CPU is the comparable figure on a shared machine: the driver's
# user+system time (SQLite runs inside it) plus, on PostgreSQL, the server's (its processes' and reaped backends').
#
#   bash scripts/load/trigger-cost.sh sqlite|postgres|both [SECONDS] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/load/postgres-cluster.sh

which="${1:-both}"
seconds="${2:-60}"
rounds="${3:-2}"

dotnet build -c Release benchmarks/PerfOtel.Benchmarks -v quiet -nologo >/dev/null
driver=(dotnet benchmarks/PerfOtel.Benchmarks/bin/Release/net10.0/PerfOtel.Benchmarks.dll store-load --seconds "$seconds")

ticks="$(getconf CLK_TCK)"
psql="$(command -v psql || ls -d /usr/lib/postgresql/*/bin/psql | sort | tail -1)"
# CPU seconds of the PostgreSQL cluster so far: the postmaster, its live children, and children it has reaped.
server_cpu() {
  local pid total=0 f
  pid="$(head -1 "$POSTGRES_LOAD_CLUSTER/data/postmaster.pid")"
  read -ra f < <(sed 's/^.*) //' "/proc/$pid/stat")
  total=$(( f[11] + f[12] + f[13] + f[14] ))
  for child in $(ps -o pid= --ppid "$pid"); do
    if [ -r "/proc/$child/stat" ]; then
      read -ra f < <(sed 's/^.*) //' "/proc/$child/stat" 2>/dev/null || echo "")
      [ "${#f[@]}" -gt 13 ] && total=$(( total + f[11] + f[12] ))
    fi
  done
  echo "$total"
}

# One run: prints "spans cpu_seconds spans_per_s".
run_once() {
  local provider="$1" triggers="$2" out before=0 after=0 spans cpu server=0 database
  out="$(mktemp)"
  if [ "$provider" = sqlite ]; then
    local dir; dir="$(mktemp -d /tmp/perfotel-trigger-cost.XXXXXX)"
    /usr/bin/time -f "cpu %U %S" "${driver[@]}" --provider sqlite --data-dir "$dir" --summary-triggers "$triggers" >"$out" 2>&1
    rm -rf "$dir"
  else
    database="load_$RANDOM$RANDOM"
    "${POSTGRES_LOAD_AS[@]}" "$psql" -q -h 127.0.0.1 -p "$POSTGRES_PORT" -U postgres -d postgres \
      -c "CREATE DATABASE $database" >/dev/null
    sleep 2
    before="$(server_cpu)"
    /usr/bin/time -f "cpu %U %S" "${driver[@]}" --provider postgres --summary-triggers "$triggers" \
      --connection "${POSTGRES_LOAD_CONNECTION/Database=postgres/Database=$database}" >"$out" 2>&1
    sleep 2
    after="$(server_cpu)"
    server=$(( after - before ))
    "${POSTGRES_LOAD_AS[@]}" "$psql" -q -h 127.0.0.1 -p "$POSTGRES_PORT" -U postgres -d postgres \
      -c "DROP DATABASE $database" >/dev/null
  fi
  spans="$(sed -n 's/^summary: \([0-9]*\) spans.*/\1/p' "$out")"
  cpu="$(awk -v s="$server" -v t="$ticks" '/^cpu /{printf "%.2f", $2 + $3 + s / t}' "$out")"
  grep -q '^summary:' "$out" || { cat "$out" >&2; exit 1; }
  echo "$spans $cpu $(awk -v n="$spans" -v s="$seconds" 'BEGIN{printf "%.0f", n / s}')"
  rm -f "$out"
}

measure() {
  local provider="$1" off_spans=0 off_cpu=0 on_spans=0 on_cpu=0 line
  echo "== $provider: ${seconds} s a run, $rounds rounds of (off, on); load average $(cut -d' ' -f1-3 /proc/loadavg)"
  for round in $(seq "$rounds"); do
    for triggers in off on; do
      read -r spans cpu rate < <(run_once "$provider" "$triggers")
      printf '  round %s triggers %-3s  %9s spans  %6s spans/s  %7s CPU-s  %6.2f CPU-s per 100k spans  (load %s)\n' \
        "$round" "$triggers" "$spans" "$rate" "$cpu" "$(awk -v c="$cpu" -v n="$spans" 'BEGIN{print c * 100000 / n}')" \
        "$(cut -d' ' -f1 /proc/loadavg)"
      if [ "$triggers" = off ]; then off_spans=$((off_spans + spans)); off_cpu="$(awk -v a="$off_cpu" -v b="$cpu" 'BEGIN{print a + b}')";
      else on_spans=$((on_spans + spans)); on_cpu="$(awk -v a="$on_cpu" -v b="$cpu" 'BEGIN{print a + b}')"; fi
    done
  done
  awk -v fs="$off_spans" -v fc="$off_cpu" -v ns="$on_spans" -v nc="$on_cpu" -v p="$provider" 'BEGIN{
    printf "  %s: CPU per span with triggers / without = %.3f; spans/s with / without = %.3f\n", p, (nc / ns) / (fc / fs), ns / fs }'
}

case "$which" in
  sqlite) measure sqlite ;;
  postgres) postgres_cluster_start; POSTGRES_PORT="$(sed 's/.*Port=\([0-9]*\).*/\1/' <<<"$POSTGRES_LOAD_CONNECTION")"; measure postgres ;;
  both)
    measure sqlite
    postgres_cluster_start; POSTGRES_PORT="$(sed 's/.*Port=\([0-9]*\).*/\1/' <<<"$POSTGRES_LOAD_CONNECTION")"; measure postgres ;;
  *) echo "usage: $0 sqlite|postgres|both [SECONDS] [ROUNDS]" >&2; exit 2 ;;
esac

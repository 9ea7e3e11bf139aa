#!/usr/bin/env bash
# What a record's time index costs the server's inserts (#21, pgidx): one backend inserts 100 200 provider-call-like
# rows per run (25 columns as provider_calls has, 600-row statements taking their rows from unnest in the select list,
# as the collector's writes do) into one of two tables of a throwaway cluster, alternated A/B/B/A per round. Both have
# the key (trace_id, span_id, tenant), the owner index and the commit position index (migration 19); they differ in the
# time index:
#   time:   (start_time)                                    a B-tree of every start time (migrations 1-20)
#   second: (date_bin('1 second', start_time, origin))      a B-tree of the second, equal keys in heap order (migration 21 as tried in 7ae7f8d, not landed)
#   brin:   a BRIN index of start_time (ranges of 128 heap pages): no entry per row
#   none:   no time index                                    what the time index costs at all
# Start times as a batch processor exports them: the run's rows arrive at 18 000 a second (the calls of 30 000 spans/s)
# and each started up to 5 s before it arrived, so a statement's times spread over the last 5 s, as the driver's do.
# Prints the backend's CPU ticks (clock ticks of 1/100 s, from /proc) per run and the means, then the index sizes.
#
#   bash scripts/load/postgres-time-index.sh [ROUNDS] [A] [B]      # defaults: 3 time second
# Read it beside docs/collector/ingest-performance.md, "PostgreSQL: fewer index entries per span".
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-3}"; a="${2:-time}"; b="${3:-second}"
prefix=perfotel-time-index
source scripts/load/postgres-backend-ticks.sh
source scripts/load/postgres-provider-call-rows.sh
origin="TIMESTAMPTZ '2000-01-01 00:00:00+00'"
time_index_sql() { # $1 table, $2 mode
  case "$2" in
    time) echo "CREATE INDEX $1_time ON $1 (start_time);" ;;
    second) echo "CREATE INDEX $1_time ON $1 (date_bin(INTERVAL '1 second', start_time, $origin));" ;;
    brin) echo "CREATE INDEX $1_time ON $1 USING brin (start_time);" ;;
    none) ;;
  esac
}
for mode in "$a" "$b"; do
  sql <<SQL
$(call_table_sql "calls_$mode" "trace_id, span_id, tenant" "trace_id, owner_span_id, tenant" | grep -v '(start_time)')
$(time_index_sql "calls_$mode" "$mode")
SQL
done
arrays_sql() { # $1 mode, $2 first row: the provider-call rows, then their start times as the driver's arrive
  call_arrays_sql "$2" "$2 + b*600 + g/4"
  cat <<SQL
SELECT setseed(0.5);
UPDATE src SET a12 = (SELECT array_agg(TIMESTAMPTZ '2026-12-03 00:00:00+00'
    + (($2 + b*600 + g) / 18000.0 - 5 * random()) * INTERVAL '1 second' ORDER BY g) FROM generate_series(1,600) g);
SQL
}
insert_sql() { # $1 mode
  echo "INSERT INTO calls_$1 ($call_columns)"
  echo "SELECT $(for i in $(seq 1 25); do printf 'unnest(r.a%d),' $i; done | sed 's/,$//')"
}
alternate "$a" "$b" "$rounds" 100200
sql -c "SELECT c.relname || ': ' || pg_size_pretty(pg_relation_size(c.oid)) FROM pg_class c
  WHERE c.relname LIKE 'calls\_%' ORDER BY c.relname"

#!/usr/bin/env bash
# What taking an insert's rows from FROM unnest(arrays) costs the server against unnest in the select list (#21,
# pgfast): one backend inserts 100 200 provider-call-like rows per run (25 columns as provider_calls has, the key
# (tenant, trace_id, span_id) with ids in byte order, an owner index, start_time and commit_position) in 600-row
# statements, as the collector's writes do, into a throwaway cluster, alternated from/select/select/from per round:
#   from:   INSERT ... SELECT * FROM unnest($1, ..., $25)           a function scan: each array's elements stored in a
#                                                                   tuple store of its own, then read back and zipped
#   select: INSERT ... SELECT unnest($1), ..., unnest($25)          a ProjectSet: the arrays walked in lockstep
# Prints the backend's CPU ticks (from /proc, clock ticks of 1/100 s) per run: the arrays are built before the ticks
# are read.
#
#   bash scripts/load/postgres-unnest-form.sh [ROUNDS]
# Read it beside docs/collector/ingest-performance.md, "PostgreSQL toward 30 000: what the server does per span now".
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-3}"
prefix=perfotel-unnest-form
source scripts/load/postgres-backend-ticks.sh
source scripts/load/postgres-provider-call-rows.sh
sql <<SQL
$(call_table_sql calls "tenant, trace_id, span_id" "tenant, trace_id, owner_span_id")
SQL
arrays_sql() { call_arrays_sql "$2" g; } # $1 mode (unused: both forms insert the same rows)
insert_sql() { # $1 form: from or select
  echo "INSERT INTO calls ($call_columns)"
  if [ "$1" = from ]; then
    echo "SELECT * FROM unnest($(for i in $(seq 1 25); do printf 'r.a%d,' $i; done | sed 's/,$//'))"
  else
    echo "SELECT $(for i in $(seq 1 25); do printf 'unnest(r.a%d),' $i; done | sed 's/,$//')"
  fi
}
alternate from select "$rounds" 100200

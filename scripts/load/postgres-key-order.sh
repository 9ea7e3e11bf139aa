#!/usr/bin/env bash
# What the order of an id-keyed B-tree's columns costs the server's inserts (#21, pgkeys): one backend inserts 100 200
# provider-call-like rows per run (25 columns as provider_calls has, ids lowercase hex COLLATE "C" with a random trace
# id per 4 rows, 600-row statements taking their rows from unnest in the select list, as the collector's writes do)
# into one of two tables of a throwaway cluster, alternated tenant/ids/ids/tenant per round:
#   tenant: PRIMARY KEY (tenant, trace_id, span_id), owner index (tenant, trace_id, owner_span_id)   (migrations 2-17)
#   ids:    PRIMARY KEY (trace_id, span_id, tenant), owner index (trace_id, owner_span_id, tenant)   (migration 19)
# both with the start_time and commit_position indexes; the two tables grow alike. Prints the backend's CPU ticks
# (from /proc, clock ticks of 1/100 s) per run and the means, then the two tables' index sizes.
#
#   bash scripts/load/postgres-key-order.sh [ROUNDS]
#   POSTGRES_LOAD_INITDB_ARGS="--locale-provider=icu --icu-locale=en-US" bash scripts/load/postgres-key-order.sh 4
# Read it beside docs/collector/ingest-performance.md, "PostgreSQL keys that decide on their first column".
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-3}"
prefix=perfotel-key-order
source scripts/load/postgres-backend-ticks.sh
source scripts/load/postgres-provider-call-rows.sh
sql <<SQL
$(call_table_sql calls_tenant "tenant, trace_id, span_id" "tenant, trace_id, owner_span_id")
$(call_table_sql calls_ids "trace_id, span_id, tenant" "trace_id, owner_span_id, tenant")
SQL
arrays_sql() { call_arrays_sql "$2" "$2 + b*600 + g/4"; } # $1 form (unused: both insert rows of the same shape)
insert_sql() { # $1 form: tenant or ids
  echo "INSERT INTO calls_$1 ($call_columns)"
  echo "SELECT $(for i in $(seq 1 25); do printf 'unnest(r.a%d),' $i; done | sed 's/,$//')"
}
alternate tenant ids "$rounds" 100200
sql -c "SELECT c || ': key ' || pg_size_pretty(pg_relation_size(c || '_pkey')) || ', owner index ' ||
  pg_size_pretty(pg_relation_size(c || '_owner')) FROM unnest(ARRAY['calls_tenant', 'calls_ids']) c"

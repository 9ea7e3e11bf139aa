#!/usr/bin/env bash
# What ON CONFLICT DO NOTHING costs the server per new row (#21, pg30): one backend inserts 100 000 provider-call-like
# rows per run (the key (tenant, trace_id, span_id) with ids in byte order, an owner index, start_time and
# commit_position, as provider_calls has) in 2 000-row INSERT ... SELECT FROM unnest(arrays) statements, plainly or with
# ON CONFLICT DO NOTHING, alternated plain/conflict/conflict/plain per round, into a throwaway cluster. Prints the
# backend's CPU ticks (from /proc, clock ticks of 1/100 s) per run: the arrays are built before the ticks are read.
#
#   bash scripts/load/postgres-insert-conflict.sh [ROUNDS]
# Read it beside docs/collector/ingest-performance.md, "PostgreSQL towards 30 000 spans/s".
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-4}"
prefix=perfotel-insert-conflict
source scripts/load/postgres-backend-ticks.sh
sql <<'SQL'
CREATE TABLE calls (tenant text NOT NULL, trace_id text COLLATE "C" NOT NULL, span_id text COLLATE "C" NOT NULL,
  owner_span_id text COLLATE "C", model text, start_time timestamptz NOT NULL, tokens bigint, cost float8,
  commit_position bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint), PRIMARY KEY (tenant, trace_id, span_id));
CREATE INDEX ON calls (tenant, trace_id, owner_span_id);
CREATE INDEX ON calls (start_time);
CREATE INDEX ON calls (commit_position);
SQL
arrays_sql() { # $1 mode (unused: both insert the same rows); $2 the first row's number (every run inserts new keys)
  cat <<SQL
CREATE TEMP TABLE src AS SELECT b,
  (SELECT array_agg('default'::text) FROM generate_series(1,2000)) a1,
  (SELECT array_agg(md5(($2 + b*2000 + g)::text)) FROM generate_series(1,2000) g) a2,
  (SELECT array_agg(left(md5(('s'||($2 + b*2000 + g))::text),16)) FROM generate_series(1,2000) g) a3,
  (SELECT array_agg(left(md5(('o'||g)::text),16)) FROM generate_series(1,2000) g) a4,
  (SELECT array_agg('gpt-4o'::text) FROM generate_series(1,2000)) a5,
  (SELECT array_agg(now()) FROM generate_series(1,2000)) a6,
  (SELECT array_agg(g::bigint) FROM generate_series(1,2000) g) a7,
  (SELECT array_agg(0.01::float8) FROM generate_series(1,2000)) a8
FROM generate_series(0,49) b;
SQL
}
insert_sql() { # $1 mode: plain, or conflict (ON CONFLICT DO NOTHING)
  echo "INSERT INTO calls (tenant, trace_id, span_id, owner_span_id, model, start_time, tokens, cost)"
  echo "SELECT * FROM unnest(r.a1, r.a2, r.a3, r.a4, r.a5, r.a6, r.a7, r.a8)"
  if [ "$1" = conflict ]; then echo "ON CONFLICT DO NOTHING"; fi
}
alternate plain conflict "$rounds" 100000

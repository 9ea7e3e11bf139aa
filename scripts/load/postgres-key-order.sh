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
cols="tenant, trace_id, span_id, parent_span_id, invocation_span_id, owner_span_id, agent_name, operation, provider, request_model, response_model, start_time, duration_seconds, input_tokens, output_tokens, cache_read, cache_creation, reasoning, cost_usd, unpriced_tokens, attempt, fallback_from, fallback_reason, error_type, sample_weight"
for form in tenant ids; do
  if [ "$form" = tenant ]; then key="tenant, trace_id, span_id"; owner="tenant, trace_id, owner_span_id"
  else key="trace_id, span_id, tenant"; owner="trace_id, owner_span_id, tenant"; fi
  sql <<SQL
CREATE TABLE calls_$form (tenant text NOT NULL, trace_id text COLLATE "C" NOT NULL, span_id text COLLATE "C" NOT NULL,
  parent_span_id text COLLATE "C", invocation_span_id text COLLATE "C", owner_span_id text COLLATE "C", agent_name text, operation text,
  provider text, request_model text, response_model text, start_time timestamptz NOT NULL, duration_seconds float8,
  input_tokens bigint, output_tokens bigint, cache_read bigint, cache_creation bigint, reasoning bigint, cost_usd float8,
  unpriced_tokens bigint, attempt int, fallback_from text, fallback_reason text, error_type text, sample_weight float8,
  commit_position bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
  CONSTRAINT calls_${form}_pkey PRIMARY KEY ($key));
CREATE INDEX calls_${form}_owner ON calls_$form ($owner);
CREATE INDEX ON calls_$form (start_time);
CREATE INDEX ON calls_$form (commit_position);
SQL
done
arrays_sql() { # $1 form (unused: both insert rows of the same shape); $2 the first row's number
  cat <<SQL
CREATE TEMP TABLE src AS SELECT b,
  (SELECT array_agg('default'::text) FROM generate_series(1,600)) a1,
  (SELECT array_agg(md5(($2 + b*600 + g/4)::text)) FROM generate_series(1,600) g) a2,
  (SELECT array_agg(left(md5(('s'||($2 + b*600 + g))::text),16)) FROM generate_series(1,600) g) a3,
  (SELECT array_agg(left(md5(('p'||($2 + b*600 + g/4))::text),16)) FROM generate_series(1,600) g) a4,
  (SELECT array_agg(left(md5(('p'||($2 + b*600 + g/4))::text),16)) FROM generate_series(1,600) g) a5,
  (SELECT array_agg(left(md5(('p'||($2 + b*600 + g/4))::text),16)) FROM generate_series(1,600) g) a6,
  (SELECT array_agg('support-agent'::text) FROM generate_series(1,600)) a7,
  (SELECT array_agg('chat'::text) FROM generate_series(1,600)) a8,
  (SELECT array_agg('openai'::text) FROM generate_series(1,600)) a9,
  (SELECT array_agg('gpt-4o'::text) FROM generate_series(1,600)) a10,
  (SELECT array_agg('gpt-4o-2024-08-06'::text) FROM generate_series(1,600)) a11,
  (SELECT array_agg(now() + g * interval '1 ms') FROM generate_series(1,600) g) a12,
  (SELECT array_agg(0.5::float8) FROM generate_series(1,600)) a13,
  (SELECT array_agg(g::bigint) FROM generate_series(1,600) g) a14,
  (SELECT array_agg(g::bigint) FROM generate_series(1,600) g) a15,
  (SELECT array_agg(0::bigint) FROM generate_series(1,600) g) a16,
  (SELECT array_agg(0::bigint) FROM generate_series(1,600) g) a17,
  (SELECT array_agg(0::bigint) FROM generate_series(1,600) g) a18,
  (SELECT array_agg(0.01::float8) FROM generate_series(1,600)) a19,
  (SELECT array_agg(0::bigint) FROM generate_series(1,600) g) a20,
  (SELECT array_agg(1) FROM generate_series(1,600) g) a21,
  (SELECT array_agg(NULL::text) FROM generate_series(1,600)) a22,
  (SELECT array_agg(NULL::text) FROM generate_series(1,600)) a23,
  (SELECT array_agg(NULL::text) FROM generate_series(1,600)) a24,
  (SELECT array_agg(1.0::float8) FROM generate_series(1,600)) a25
FROM generate_series(0,166) b;
SQL
}
insert_sql() { # $1 form: tenant or ids
  echo "INSERT INTO calls_$1 ($cols)"
  echo "SELECT $(for i in $(seq 1 25); do printf 'unnest(r.a%d),' $i; done | sed 's/,$//')"
}
alternate tenant ids "$rounds" 100200
sql -c "SELECT c || ': key ' || pg_size_pretty(pg_relation_size(c || '_pkey')) || ', owner index ' ||
  pg_size_pretty(pg_relation_size(c || '_owner')) FROM unnest(ARRAY['calls_tenant', 'calls_ids']) c"

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
cols="tenant, trace_id, span_id, parent_span_id, invocation_span_id, owner_span_id, agent_name, operation, provider, request_model, response_model, start_time, duration_seconds, input_tokens, output_tokens, cache_read, cache_creation, reasoning, cost_usd, unpriced_tokens, attempt, fallback_from, fallback_reason, error_type, sample_weight"
sql <<SQL
CREATE TABLE calls (tenant text NOT NULL, trace_id text COLLATE "C" NOT NULL, span_id text COLLATE "C" NOT NULL,
  parent_span_id text COLLATE "C", invocation_span_id text COLLATE "C", owner_span_id text COLLATE "C", agent_name text, operation text,
  provider text, request_model text, response_model text, start_time timestamptz NOT NULL, duration_seconds float8,
  input_tokens bigint, output_tokens bigint, cache_read bigint, cache_creation bigint, reasoning bigint, cost_usd float8,
  unpriced_tokens bigint, attempt int, fallback_from text, fallback_reason text, error_type text, sample_weight float8,
  commit_position bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint), PRIMARY KEY (tenant, trace_id, span_id));
CREATE INDEX ON calls (tenant, trace_id, owner_span_id);
CREATE INDEX ON calls (start_time);
CREATE INDEX ON calls (commit_position);
SQL
arrays_sql() { # $1 mode (unused: both forms insert the same rows); $2 the first row's number
  cat <<SQL
CREATE TEMP TABLE src AS SELECT b,
  (SELECT array_agg('default'::text) FROM generate_series(1,600)) a1,
  (SELECT array_agg(md5(($2 + b*600 + g/4)::text)) FROM generate_series(1,600) g) a2,
  (SELECT array_agg(left(md5(('s'||($2 + b*600 + g))::text),16)) FROM generate_series(1,600) g) a3,
  (SELECT array_agg(left(md5(('p'||g)::text),16)) FROM generate_series(1,600) g) a4,
  (SELECT array_agg(left(md5(('p'||g)::text),16)) FROM generate_series(1,600) g) a5,
  (SELECT array_agg(left(md5(('p'||g)::text),16)) FROM generate_series(1,600) g) a6,
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
insert_sql() { # $1 form: from or select
  echo "INSERT INTO calls ($cols)"
  if [ "$1" = from ]; then
    echo "SELECT * FROM unnest($(for i in $(seq 1 25); do printf 'r.a%d,' $i; done | sed 's/,$//'))"
  else
    echo "SELECT $(for i in $(seq 1 25); do printf 'unnest(r.a%d),' $i; done | sed 's/,$//')"
  fi
}
alternate from select "$rounds" 100200

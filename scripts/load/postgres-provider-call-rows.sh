# Sourced by the one-backend measurements of provider-call inserts (postgres-unnest-form.sh, postgres-key-order.sh):
# rows shaped as provider_calls has them (25 columns, ids lowercase hex COLLATE "C", a random trace id per 4 rows), 600
# a statement, 167 statements (100 200 rows) a run.
call_columns="tenant, trace_id, span_id, parent_span_id, invocation_span_id, owner_span_id, agent_name, operation, provider, request_model, response_model, start_time, duration_seconds, input_tokens, output_tokens, cache_read, cache_creation, reasoning, cost_usd, unpriced_tokens, attempt, fallback_from, fallback_reason, error_type, sample_weight"

# CREATE TABLE NAME keyed by KEY (its constraint NAME_pkey), an owner index NAME_owner on OWNER, the time and commit
# position indexes.
call_table_sql() {
  cat <<SQL
CREATE TABLE $1 (tenant text NOT NULL, trace_id text COLLATE "C" NOT NULL, span_id text COLLATE "C" NOT NULL,
  parent_span_id text COLLATE "C", invocation_span_id text COLLATE "C", owner_span_id text COLLATE "C", agent_name text, operation text,
  provider text, request_model text, response_model text, start_time timestamptz NOT NULL, duration_seconds float8,
  input_tokens bigint, output_tokens bigint, cache_read bigint, cache_creation bigint, reasoning bigint, cost_usd float8,
  unpriced_tokens bigint, attempt int, fallback_from text, fallback_reason text, error_type text, sample_weight float8,
  commit_position bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
  CONSTRAINT $1_pkey PRIMARY KEY ($2));
CREATE INDEX $1_owner ON $1 ($3);
CREATE INDEX ON $1 (start_time);
CREATE INDEX ON $1 (commit_position);
SQL
}

# The temporary table src of one run's arrays: FIRST the run's first row number (every run inserts new keys), PARENT
# the SQL expression whose md5 gives the parent, invocation and owner span ids (of g, the row within its statement,
# and b, the statement).
call_arrays_sql() {
  local first="$1" parent="$2"
  cat <<SQL
CREATE TEMP TABLE src AS SELECT b,
  (SELECT array_agg('default'::text) FROM generate_series(1,600)) a1,
  (SELECT array_agg(md5(($first + b*600 + g/4)::text)) FROM generate_series(1,600) g) a2,
  (SELECT array_agg(left(md5(('s'||($first + b*600 + g))::text),16)) FROM generate_series(1,600) g) a3,
  (SELECT array_agg(left(md5(('p'||($parent))::text),16)) FROM generate_series(1,600) g) a4,
  (SELECT array_agg(left(md5(('p'||($parent))::text),16)) FROM generate_series(1,600) g) a5,
  (SELECT array_agg(left(md5(('p'||($parent))::text),16)) FROM generate_series(1,600) g) a6,
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

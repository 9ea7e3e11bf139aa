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
source scripts/load/postgres-cluster.sh
rounds="${1:-3}"
work="$(mktemp -d /tmp/perfotel-unnest-form.XXXXXX)"; chmod 777 "$work"
postgres_cluster_start
trap 'postgres_cluster_stop; rm -rf "$work"' EXIT
port="$(sed 's/.*Port=\([0-9]*\).*/\1/' <<< "$POSTGRES_LOAD_CONNECTION")"
sql() { "${POSTGRES_LOAD_AS[@]}" psql -h 127.0.0.1 -p "$port" -U postgres -X -q -A -t "$@"; }
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
arrays() { local out="" i; for i in $(seq 1 25); do out+="r.a$i,"; done; echo "${out%,}"; }
run() { # $1 form; $2 first row number
  local from select
  from="SELECT * FROM unnest($(arrays))"
  select="SELECT $(for i in $(seq 1 25); do printf 'unnest(r.a%d),' $i; done | sed 's/,$//')"
  local body; if [ "$1" = from ]; then body="$from"; else body="$select"; fi
  cat > "$work/run.sql" <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS src;
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
SELECT pg_backend_pid() AS pid \gset
\setenv P :pid
\! awk '{print \$14+\$15}' /proc/\$P/stat > $work/t0
DO \$\$ DECLARE r record; BEGIN FOR r IN SELECT * FROM src ORDER BY b LOOP
INSERT INTO calls ($cols)
$body;
END LOOP; END \$\$;
\! awk '{print \$14+\$15}' /proc/\$P/stat > $work/t1
SQL
  sql -f "$work/run.sql" >/dev/null
  echo $(( $(cat "$work/t1") - $(cat "$work/t0") ))
}
first=0
declare -A total=([from]=0 [select]=0)
for round in $(seq 1 "$rounds"); do
  for mode in from select select from; do
    first=$((first + 100200))
    ticks="$(run "$mode" "$first")"
    total[$mode]=$((total[$mode] + ticks))
    echo "round $round $mode: $ticks ticks per 100 200 rows (load average $(cut -d' ' -f1 /proc/loadavg))"
  done
done
awk -v f="${total[from]}" -v s="${total[select]}" -v n="$((2 * rounds))" \
  'BEGIN { printf "mean: from %.1f, select %.1f ticks per 100 200 rows; select/from %.2fx\n", f / n, s / n, s / f }'

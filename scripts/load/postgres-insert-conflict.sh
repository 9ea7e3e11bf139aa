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
source scripts/load/postgres-cluster.sh
rounds="${1:-4}"
work="$(mktemp -d /tmp/perfotel-insert-conflict.XXXXXX)"
chmod 777 "$work"
postgres_cluster_start
trap 'postgres_cluster_stop; rm -rf "$work"' EXIT
port="$(sed 's/.*Port=\([0-9]*\).*/\1/' <<< "$POSTGRES_LOAD_CONNECTION")"
sql() { "${POSTGRES_LOAD_AS[@]}" psql -h 127.0.0.1 -p "$port" -U postgres -X -q -A -t "$@"; }
sql <<'SQL'
CREATE TABLE calls (tenant text NOT NULL, trace_id text COLLATE "C" NOT NULL, span_id text COLLATE "C" NOT NULL,
  owner_span_id text COLLATE "C", model text, start_time timestamptz NOT NULL, tokens bigint, cost float8,
  commit_position bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint), PRIMARY KEY (tenant, trace_id, span_id));
CREATE INDEX ON calls (tenant, trace_id, owner_span_id);
CREATE INDEX ON calls (start_time);
CREATE INDEX ON calls (commit_position);
SQL
run() { # $1: the conflict clause; $2: the first row's number (every run inserts new keys)
  cat > "$work/run.sql" <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS src;
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
SELECT pg_backend_pid() AS pid \gset
\setenv P :pid
\! awk '{print \$14+\$15}' /proc/\$P/stat > $work/t0
DO \$\$ DECLARE r record; BEGIN FOR r IN SELECT * FROM src ORDER BY b LOOP
INSERT INTO calls (tenant, trace_id, span_id, owner_span_id, model, start_time, tokens, cost)
SELECT * FROM unnest(r.a1, r.a2, r.a3, r.a4, r.a5, r.a6, r.a7, r.a8)
$1;
END LOOP; END \$\$;
\! awk '{print \$14+\$15}' /proc/\$P/stat > $work/t1
SQL
  sql -f "$work/run.sql" >/dev/null
  echo $(( $(cat "$work/t1") - $(cat "$work/t0") ))
}
first=0
for round in $(seq 1 "$rounds"); do
  for mode in plain conflict conflict plain; do
    first=$((first + 100000))
    if [ "$mode" = plain ]; then ticks="$(run "" "$first")"; else ticks="$(run "ON CONFLICT DO NOTHING" "$first")"; fi
    echo "round $round $mode: $ticks ticks per 100 000 rows (load average $(cut -d' ' -f1 /proc/loadavg))"
  done
done

#!/usr/bin/env bash
# What the PostgreSQL server does for end-to-end ingest (#21): one run of scripts/ingest-load.sh's driver (OTLP/HTTP
# protobuf into a collector process with default settings, every derivation on) against a throwaway cluster with
# pg_stat_statements, then per span acknowledged: the server's CPU, the WAL it wrote (bytes and full-page images),
# each statement's share of the execution time with its buffers and WAL per row, and each index's size and buffer
# accesses. Read it beside docs/collector/ingest-performance.md, "PostgreSQL: the server's work per span".
#
#   bash scripts/load/postgres-ingest-profile.sh [SECONDS] [extra ingest-load options...]
#   e.g. bash scripts/load/postgres-ingest-profile.sh 30
#        POSTGRES_LOAD_INITDB_ARGS="--locale-provider=icu --icu-locale=en-US" bash scripts/load/postgres-ingest-profile.sh 30
#        bash scripts/load/postgres-ingest-profile.sh 30 --collector PATH/TO/PerfOtel.Collector.dll   # another build
#        PERF_SECONDS=15 bash scripts/load/postgres-ingest-profile.sh 40   # and where the server's CPU goes (perf)
#
# PERF_SECONDS=N: `perf record -a -g` for N seconds from a third of the run on, then the share of the postgres
# processes' samples under each of the server's main paths (B-tree inserts, heap inserts, scans, parameters, commit,
# planning: inclusive, so they overlap) and their top functions of their own. Needs perf and the rights to sample the
# whole machine (root or kernel.perf_event_paranoid <= -1).
#
# The statements' figures include the collector's migrations at its start-up (a few ms). pg_stat_statements counts the
# time each statement executed in its backend, not the server's whole CPU (parsing of parameters, COMMIT's WAL flush,
# the WAL writer and checkpointer are outside it): the CPU line is from /proc, over the whole run.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/load/postgres-cluster.sh

seconds="${1:-30}"
shift $(( $# > 1 ? 1 : $# ))
export POSTGRES_LOAD_SERVER_ARGS="${POSTGRES_LOAD_SERVER_ARGS:-} -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all"

dotnet build -c Release benchmarks/PerfOtel.Benchmarks -v quiet -nologo >/dev/null
driver=(dotnet benchmarks/PerfOtel.Benchmarks/bin/Release/net10.0/PerfOtel.Benchmarks.dll ingest-load --duration "$seconds")
postgres_cluster_start
connection="$(postgres_cluster_database ingest_profile)"
port="$(sed 's/.*Port=\([0-9]*\).*/\1/' <<< "$connection")"
sql() { "${POSTGRES_LOAD_AS[@]}" psql -h 127.0.0.1 -p "$port" -U postgres -d ingest_profile -X -q -A -t "$@"; }
sql -c "CREATE EXTENSION pg_stat_statements" -c "SELECT pg_stat_statements_reset()" >/dev/null
echo "collation of the database: $(sql -c "SELECT datlocprovider::text || ' ' || coalesce(daticulocale, datcollate) FROM pg_database WHERE datname = current_database()")"
lsn_before="$(sql -c "SELECT pg_current_wal_lsn()")"
checkpoints_before="$(sql -c "SELECT checkpoints_req || ' ' || checkpoints_timed FROM pg_stat_bgwriter")"
postgres_cluster_idle
ticks_before="$(postgres_cluster_ticks)"
perf_data=""
if [ -n "${PERF_SECONDS:-}" ]; then
  perf_data="$(mktemp /tmp/perfotel-pg-perf.XXXXXX)"
  ( sleep $(( seconds / 3 + 5 )); perf record -a -g -o "$perf_data" -- sleep "$PERF_SECONDS" >/dev/null 2>&1 || true ) &
fi
out="$("${driver[@]}" --store postgres --connection "$connection" "$@")"
wait
postgres_cluster_idle
ticks_after="$(postgres_cluster_ticks)"
grep -E 'steady state|^summary' <<< "$out" || true
spans="$(sed -n 's/^summary: \([0-9]*\) spans acknowledged.*/\1/p' <<< "$out")"
[ -n "$spans" ] && [ "$spans" -gt 0 ] || { echo "no spans acknowledged" >&2; echo "$out" >&2; exit 1; }

sql -v spans="$spans" -v lsn="$lsn_before" <<'EOF'
SELECT 'WAL per span: ' || round(pg_wal_lsn_diff(pg_current_wal_lsn(), :'lsn') / :spans) || ' bytes, full-page images '
       || round(sum(wal_fpi) / :spans, 3) || ' per span'
FROM pg_stat_statements;
EOF
read -r requested timed <<< "$checkpoints_before"
sql -c "SELECT 'checkpoints during the run: ' || (checkpoints_req - $requested) || ' requested (WAL past max_wal_size = '
               || current_setting('max_wal_size') || '), ' || (checkpoints_timed - $timed) || ' timed' FROM pg_stat_bgwriter"
awk -v t="$((ticks_after - ticks_before))" -v hz="$(getconf CLK_TCK)" -v n="$spans" \
  'BEGIN { printf "server CPU: %.2f CPU-s per 100 000 spans (every process of the cluster, whole run)\n", t / hz / n * 100000 }'
echo
echo "statements by execution time (per 100 000 spans: ms; per row: buffers, WAL bytes; full-page images per 100 000 spans):"
sql -F ' | ' -v spans="$spans" <<'EOF'
SELECT round((total_exec_time / :spans * 100000)::numeric) AS ms_per_100k_spans,
       round((100 * total_exec_time / sum(total_exec_time) OVER ())::numeric, 1) AS pct,
       calls,
       round(rows::numeric / greatest(calls, 1), 1) AS rows_per_call,
       round((shared_blks_hit + shared_blks_read)::numeric / greatest(rows, 1), 1) AS buffers_per_row,
       round(wal_bytes / greatest(rows, 1)) AS wal_bytes_per_row,
       round(wal_fpi::numeric / :spans * 100000) AS fpi_per_100k_spans,
       left(regexp_replace(query, '\s+', ' ', 'g'), 110) AS statement
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY total_exec_time DESC LIMIT 16;
EOF
echo
echo "indexes and tables (bytes per span stored, span_link_packs with its TOAST; buffer accesses per span):"
sql -F ' | ' -v spans="$spans" <<'EOF'
SELECT c.relname,
       round(CASE WHEN c.relname = 'span_link_packs' THEN pg_total_relation_size(c.oid) ELSE pg_relation_size(c.oid) END::numeric
             / :spans, 1) AS bytes_per_span,
       round(coalesce(i.idx_blks_hit + i.idx_blks_read, t.heap_blks_hit + t.heap_blks_read)::numeric / :spans, 2) AS buffers_per_span
FROM pg_class c
LEFT JOIN pg_statio_user_indexes i ON i.indexrelid = c.oid
LEFT JOIN pg_statio_user_tables t ON t.relid = c.oid
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'i')
  AND pg_total_relation_size(c.oid) > 8192 * 4
ORDER BY pg_relation_size(c.oid) DESC;
EOF
if [ -n "$perf_data" ]; then
  echo
  echo "the server's CPU by path (perf, the postgres processes' samples; inclusive shares):"
  perf report -i "$perf_data" --comm postgres --percentage relative --children --sort symbol --stdio -g none 2>/dev/null \
    | grep -E '\] (PostgresMain|ExecInsertIndexTuples|_bt_doinsert|_bt_compare|_bt_binsrch_insert|heap_insert|ExecScan|index_getnext_slot|ExecProjectSet|ExecMakeTableFunctionResult|exec_bind_message|array_recv|CommitTransactionCommand|XLogFlush|XLogInsert|GetCachedPlan|ReadBufferExtended) ' \
    | awk '{ printf "  %-28s %s\n", $4, $1 }'
  echo "the server's top functions of their own (perf):"
  perf report -i "$perf_data" --comm postgres --percentage relative --no-children --sort dso,symbol --stdio -g none 2>/dev/null \
    | grep -v '^#' | grep -v '^$' | head -15 | awk '{ printf "  %-36s %s\n", $4, $1 }'
  rm -f "$perf_data"
fi
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

# Sourced by the one-backend measurements of the PostgreSQL insert forms (postgres-insert-conflict.sh,
# postgres-unnest-form.sh): a throwaway cluster with `sql` to talk to it, one SQL run timed by its backend's CPU ticks,
# and the alternated rounds with their means. A script sets `prefix` (its work directory's name) before sourcing it,
# defines `arrays_sql MODE FIRST` (the statements that build the temporary table `src` of the rows' arrays, run before
# the ticks are read) and `insert_sql MODE` (the statement the loop runs once per row of `src`, as `r`), and calls
# `alternate A B ROUNDS ROWS`.
source scripts/load/postgres-cluster.sh
work="$(mktemp -d "/tmp/${prefix:?}.XXXXXX")"; chmod 777 "$work"
postgres_cluster_start
trap 'postgres_cluster_stop; rm -rf "$work"' EXIT
port="$(sed 's/.*Port=\([0-9]*\).*/\1/' <<< "$POSTGRES_LOAD_CONNECTION")"
sql() { "${POSTGRES_LOAD_AS[@]}" psql -h 127.0.0.1 -p "$port" -U postgres -X -q -A -t "$@"; }

# The backend's user+system CPU ticks (clock ticks of 1/100 s, from /proc) over the inserts of one run: MODE, FIRST.
backend_ticks() {
  cat > "$work/run.sql" <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS src;
$(arrays_sql "$1" "$2")
SELECT pg_backend_pid() AS pid \gset
\setenv P :pid
\! awk '{print \$14+\$15}' /proc/\$P/stat > $work/t0
DO \$\$ DECLARE r record; BEGIN FOR r IN SELECT * FROM src ORDER BY b LOOP
$(insert_sql "$1");
END LOOP; END \$\$;
\! awk '{print \$14+\$15}' /proc/\$P/stat > $work/t1
SQL
  sql -f "$work/run.sql" >/dev/null
  echo $(( $(cat "$work/t1") - $(cat "$work/t0") ))
}

# Rounds of A/B/B/A runs, each inserting ROWS new keys; prints every run and the means.
alternate() {
  local a="$1" b="$2" rounds="$3" rows="$4" first=0 round mode ticks
  declare -A total=(["$a"]=0 ["$b"]=0)
  for round in $(seq 1 "$rounds"); do
    for mode in "$a" "$b" "$b" "$a"; do
      first=$((first + rows))
      ticks="$(backend_ticks "$mode" "$first")"
      total[$mode]=$((total[$mode] + ticks))
      echo "round $round $mode: $ticks ticks per $rows rows (load average $(cut -d' ' -f1 /proc/loadavg))"
    done
  done
  awk -v a="$a" -v b="$b" -v ta="${total[$a]}" -v tb="${total[$b]}" -v n="$((2 * rounds))" -v rows="$rows" \
    'BEGIN { printf "mean: %s %.1f, %s %.1f ticks per %d rows; %s/%s %.2fx\n", a, ta / n, b, tb / n, rows, b, a, tb / ta }'
}

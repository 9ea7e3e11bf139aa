# Sourced by the load scripts: a throwaway PostgreSQL cluster for one run.
#
#   source scripts/load/postgres-cluster.sh
#   postgres_cluster_start    # sets POSTGRES_LOAD_CONNECTION; the cluster is stopped and removed when the script exits
#   postgres_cluster_database NAME   # creates database NAME in it; prints its connection string
#   postgres_cluster_ticks    # CPU clock ticks the throwaway cluster used so far (0 with $PERFOTEL_TEST_POSTGRES)
#   postgres_cluster_idle     # waits until no client backend is left (call it before the count that ends a run)
#
# Uses $PERFOTEL_TEST_POSTGRES when set. Otherwise initdb/pg_ctl (as user postgres when run as root, since PostgreSQL
# refuses to run as root) under /tmp on a free loopback port, with default durability (fsync on) and 256 MB of shared
# buffers, like a small production server rather than the fsync-off clusters the tests use.
#
# POSTGRES_LOAD_INITDB_ARGS: more initdb arguments, e.g. the collation users run (the default here is the machine's
#   locale, C.UTF-8 on the development machine): "--locale=en_US.UTF-8", or where that libc locale is not installed,
#   ICU's: "--locale-provider=icu --icu-locale=en-US".
# POSTGRES_LOAD_SERVER_ARGS: more server options, e.g. "-c shared_preload_libraries=pg_stat_statements".

postgres_cluster_start() {
  if [ -n "${PERFOTEL_TEST_POSTGRES:-}" ]; then
    POSTGRES_LOAD_CONNECTION="$PERFOTEL_TEST_POSTGRES"
    return 0
  fi
  local bin_dir
  bin_dir="$(dirname "$(command -v initdb || ls -d /usr/lib/postgresql/*/bin/initdb | sort | tail -1)")"
  [ -x "$bin_dir/initdb" ] || { echo "initdb not found: install PostgreSQL 15 or set PERFOTEL_TEST_POSTGRES" >&2; return 1; }
  POSTGRES_LOAD_CLUSTER="$(mktemp -d /tmp/perfotel-pg-load.XXXXXX)"
  POSTGRES_LOAD_BIN="$bin_dir"
  mkdir -p "$POSTGRES_LOAD_CLUSTER/sock"
  POSTGRES_LOAD_AS=()
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$POSTGRES_LOAD_CLUSTER"; POSTGRES_LOAD_AS=(runuser -u postgres --); fi
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
  trap postgres_cluster_stop EXIT
  "${POSTGRES_LOAD_AS[@]}" "$bin_dir/initdb" -D "$POSTGRES_LOAD_CLUSTER/data" -A trust -U postgres -E UTF8 --no-instructions \
    ${POSTGRES_LOAD_INITDB_ARGS:-} >/dev/null
  "${POSTGRES_LOAD_AS[@]}" "$bin_dir/pg_ctl" -D "$POSTGRES_LOAD_CLUSTER/data" -l "$POSTGRES_LOAD_CLUSTER/server.log" -w -t 60 \
    -o "-p $port -k $POSTGRES_LOAD_CLUSTER/sock -c listen_addresses=127.0.0.1 -c shared_buffers=256MB ${POSTGRES_LOAD_SERVER_ARGS:-}" start >/dev/null
  POSTGRES_LOAD_CONNECTION="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres;Maximum Pool Size=64"
}

postgres_cluster_stop() {
  if [ -n "${POSTGRES_LOAD_CLUSTER:-}" ]; then
    "${POSTGRES_LOAD_AS[@]}" "$POSTGRES_LOAD_BIN/pg_ctl" -D "$POSTGRES_LOAD_CLUSTER/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$POSTGRES_LOAD_CLUSTER"
    POSTGRES_LOAD_CLUSTER=""
  fi
}

postgres_cluster_database() {
  "${POSTGRES_LOAD_AS[@]}" psql -h 127.0.0.1 -p "$(sed 's/.*Port=\([0-9]*\).*/\1/' <<< "$POSTGRES_LOAD_CONNECTION")" -U postgres -q \
    -c "CREATE DATABASE $1" postgres
  echo "${POSTGRES_LOAD_CONNECTION/Database=postgres/Database=$1}"
}

# CPU clock ticks used so far by the throwaway cluster: the postmaster with its reaped children (the backends of
# closed connections), and the live children. A consistent snapshot: the children are listed and read, then the
# postmaster, then the children listed again, and the whole is read again unless both lists are the same. A backend that
# exits between the reads (a pool closing) would otherwise be counted in neither (its own ticks read after it is gone,
# the postmaster's reaped sum before it was added) or in both; a changed list is exactly that case.
postgres_cluster_ticks() {
  [ -n "${POSTGRES_LOAD_CLUSTER:-}" ] || { echo 0; return; }
  local postmaster first second ticks child own
  postmaster="$(head -1 "$POSTGRES_LOAD_CLUSTER/data/postmaster.pid")"
  while :; do
    first="$(ps --ppid "$postmaster" -o pid= | sort -n | paste -sd' ')"
    ticks=0
    for child in $first; do
      own="$(awk '{ print $14 + $15 }' "/proc/$child/stat" 2>/dev/null)" || own=""
      # Gone before its ticks were read: the list below differs, so this snapshot is retaken.
      ticks=$((ticks + ${own:-0}))
    done
    ticks=$((ticks + $(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$postmaster/stat")))
    second="$(ps --ppid "$postmaster" -o pid= | sort -n | paste -sd' ')"
    [ "$first" = "$second" ] && break
  done
  echo "$ticks"
}

# Waits (at most 30 s) until no client connection's backend is left in the throwaway cluster, so that a count taken
# after it holds everything the backends of a run did, their exit included (the collector's pool closes as it stops).
postgres_cluster_idle() {
  [ -n "${POSTGRES_LOAD_CLUSTER:-}" ] || return 0
  local postmaster deadline=$((SECONDS + 30))
  postmaster="$(head -1 "$POSTGRES_LOAD_CLUSTER/data/postmaster.pid")"
  # Client backends show "postgres: USER DATABASE HOST(PORT) ..." (or "[local]"); the server's own processes do not.
  while ps --ppid "$postmaster" -o args= | grep -Eq '^postgres: [^ ]+ [^ ]+ ([0-9.]+\(|\[local\])'; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "postgres_cluster_idle: client backends still open after 30 s" >&2; return 1; }
    sleep 0.2
  done
}

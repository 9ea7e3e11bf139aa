#!/usr/bin/env bash
# Sourced by the load scripts: start_throwaway_postgres starts a PostgreSQL cluster under /tmp (initdb/pg_ctl, as user
# postgres when run as root, default settings: fsync on) on a free loopback port, sets PG_CONNECTION to an Npgsql
# connection string for it, and removes it when the calling script exits.
start_throwaway_postgres() {
  local bin_dir
  bin_dir="$(dirname "$(command -v initdb || ls -d /usr/lib/postgresql/*/bin/initdb | sort | tail -1)")"
  [ -x "$bin_dir/initdb" ] || { echo "initdb not found: install PostgreSQL 15 or set PERFOTEL_TEST_POSTGRES" >&2; return 1; }
  PG_CLUSTER="$(mktemp -d /tmp/perfotel-pg-load.XXXXXX)"
  PG_BIN="$bin_dir"
  mkdir -p "$PG_CLUSTER/sock"
  PG_AS=()
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$PG_CLUSTER"; PG_AS=(runuser -u postgres --); fi
  local port
  port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
  trap stop_throwaway_postgres EXIT
  "${PG_AS[@]}" "$PG_BIN/initdb" -D "$PG_CLUSTER/data" -A trust -U postgres -E UTF8 --no-instructions >/dev/null
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_CLUSTER/data" -l "$PG_CLUSTER/server.log" -w -t 60 \
    -o "-p $port -k $PG_CLUSTER/sock -c listen_addresses=127.0.0.1 -c shared_buffers=256MB" start >/dev/null
  PG_CONNECTION="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres;Maximum Pool Size=64"
}

stop_throwaway_postgres() {
  "${PG_AS[@]}" "$PG_BIN/pg_ctl" -D "$PG_CLUSTER/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$PG_CLUSTER"
}

#!/usr/bin/env bash
# Sustained store ingest: 100-span batches through IExecutionStore.WriteAsync, acknowledged after commit, with memory
# sampled over the run. The throughput table of docs/collector/storage.md comes from this script.
#
#   bash scripts/load/store-load.sh sqlite [SECONDS] [extra store-load options...]
#   bash scripts/load/store-load.sh postgres [SECONDS] [extra store-load options...]
#
# postgres: uses $PERFOTEL_TEST_POSTGRES when set, otherwise starts a throwaway PostgreSQL cluster under /tmp (initdb/pg_ctl,
# as user postgres when run as root, default settings: fsync on) on a free port and removes it afterwards.
set -euo pipefail
cd "$(dirname "$0")/../.."

provider="${1:-sqlite}"
seconds="${2:-300}"
shift $(( $# > 2 ? 2 : $# ))

dotnet build -c Release benchmarks/PerfOtel.Benchmarks -v quiet -nologo >/dev/null
driver=(dotnet benchmarks/PerfOtel.Benchmarks/bin/Release/net10.0/PerfOtel.Benchmarks.dll store-load)

case "$provider" in
  sqlite)
    data_dir="$(mktemp -d /tmp/perfotel-store-load.XXXXXX)"
    trap 'rm -rf "$data_dir"' EXIT
    "${driver[@]}" --provider sqlite --seconds "$seconds" --data-dir "$data_dir" "$@"
    ;;
  postgres)
    if [ -n "${PERFOTEL_TEST_POSTGRES:-}" ]; then
      "${driver[@]}" --provider postgres --seconds "$seconds" --connection "$PERFOTEL_TEST_POSTGRES" "$@"
      exit 0
    fi
    bin_dir="$(dirname "$(command -v initdb || ls -d /usr/lib/postgresql/*/bin/initdb | sort | tail -1)")"
    [ -x "$bin_dir/initdb" ] || { echo "initdb not found: install PostgreSQL 15 or set PERFOTEL_TEST_POSTGRES" >&2; exit 1; }
    cluster="$(mktemp -d /tmp/perfotel-pg-load.XXXXXX)"
    mkdir -p "$cluster/sock"
    as_pg=()
    if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$cluster"; as_pg=(runuser -u postgres --); fi
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
    stop_cluster() {
      "${as_pg[@]}" "$bin_dir/pg_ctl" -D "$cluster/data" -m fast -w stop >/dev/null 2>&1 || true
      rm -rf "$cluster"
    }
    trap stop_cluster EXIT
    "${as_pg[@]}" "$bin_dir/initdb" -D "$cluster/data" -A trust -U postgres -E UTF8 --no-instructions >/dev/null
    "${as_pg[@]}" "$bin_dir/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 60 \
      -o "-p $port -k $cluster/sock -c listen_addresses=127.0.0.1 -c shared_buffers=256MB" start >/dev/null
    "${driver[@]}" --provider postgres --seconds "$seconds" \
      --connection "Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres;Maximum Pool Size=64" "$@"
    ;;
  *)
    echo "usage: $0 sqlite|postgres [SECONDS] [store-load options]" >&2
    exit 2
    ;;
esac

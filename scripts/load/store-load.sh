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
    # shellcheck source=throwaway-postgres.sh
    source scripts/load/throwaway-postgres.sh
    start_throwaway_postgres
    "${driver[@]}" --provider postgres --seconds "$seconds" \
      --connection "$PG_CONNECTION" "$@"
    ;;
  *)
    echo "usage: $0 sqlite|postgres [SECONDS] [store-load options]" >&2
    exit 2
    ;;
esac

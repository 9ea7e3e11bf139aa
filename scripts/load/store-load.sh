#!/usr/bin/env bash
# Store-level load (not the wire path: no HTTP, decoding, mapping or derivations; scripts/ingest-load.sh measures
# those): 100-span batches through IExecutionStore.WriteAsync, acknowledged after commit, with memory sampled over the
# run. The store-level throughput table of docs/collector/storage-performance.md comes from this script.
#
#   bash scripts/load/store-load.sh sqlite [SECONDS] [extra store-load options...]
#   bash scripts/load/store-load.sh postgres [SECONDS] [extra store-load options...]
#
# postgres: uses $PERFOTEL_TEST_POSTGRES when set, otherwise a throwaway cluster (scripts/load/postgres-cluster.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/load/postgres-cluster.sh

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
    postgres_cluster_start
    "${driver[@]}" --provider postgres --seconds "$seconds" --connection "$POSTGRES_LOAD_CONNECTION" "$@"
    ;;
  *)
    echo "usage: $0 sqlite|postgres [SECONDS] [store-load options]" >&2
    exit 2
    ;;
esac

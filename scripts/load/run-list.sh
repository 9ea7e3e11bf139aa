#!/usr/bin/env bash
# The run-list figures of docs/collector/rest-api.md ("Measured"): fills a store with COUNT invocations (default one
# million) and prints the median and maximum of 50 reads of each page, warning= pages included.
#
#   bash scripts/load/run-list.sh sqlite [COUNT]
#   bash scripts/load/run-list.sh postgres [COUNT]
#
# postgres: uses $PERFOTEL_TEST_POSTGRES when set, otherwise a throwaway cluster (scripts/load/postgres-cluster.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=postgres-cluster.sh
source scripts/load/postgres-cluster.sh

provider="${1:-sqlite}"
count="${2:-1000000}"

dotnet build -c Release benchmarks/PerfOtel.Benchmarks -v quiet -nologo >/dev/null
driver=(dotnet benchmarks/PerfOtel.Benchmarks/bin/Release/net10.0/PerfOtel.Benchmarks.dll run-list "$count")

case "$provider" in
  sqlite)
    PERFOTEL_TEST_POSTGRES= "${driver[@]}"
    ;;
  postgres)
    postgres_cluster_start
    "${driver[@]}" --postgres "$POSTGRES_LOAD_CONNECTION"
    ;;
  *)
    echo "usage: $0 sqlite|postgres [COUNT]" >&2
    exit 2
    ;;
esac

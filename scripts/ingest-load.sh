#!/usr/bin/env bash
# End-to-end ingest over the wire: a collector started as its own process with default settings (every derivation on,
# default logging) and realistic OTLP trace exports sent by concurrent senders from another process (the benchmarks
# program's ingest-load mode). Prints acknowledged spans/s, the collector's CPU-seconds per 100 000 spans (from
# /proc/<pid>/stat), p50/p99 request latency, its resident memory over time and the log lines it wrote.
#
#   bash scripts/ingest-load.sh [sqlite|postgres|both] [SECONDS] [extra ingest-load options...]
#   e.g. bash scripts/ingest-load.sh both 60 --concurrency 8 --encoding protobuf
#        bash scripts/ingest-load.sh sqlite 600 --rate 25000        # latency at a fixed rate, memory over 10 minutes
#
# postgres: uses $PERFOTEL_TEST_POSTGRES when set, otherwise a throwaway cluster (scripts/load/postgres-cluster.sh).
# The store-level figures (no HTTP, decoding or derivations) come from scripts/load/store-load.sh instead.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/load/postgres-cluster.sh

stores="${1:-both}"
seconds="${2:-60}"
shift $(( $# > 2 ? 2 : $# ))
case "$stores" in
  sqlite|postgres|both) ;;
  *) echo "usage: $0 [sqlite|postgres|both] [SECONDS] [ingest-load options]" >&2; exit 2 ;;
esac

# Builds the collector too (a project reference), into src/Collector/bin/Release where the driver starts it from.
dotnet build -c Release benchmarks/PerfOtel.Benchmarks -v quiet -nologo >/dev/null
driver=(dotnet benchmarks/PerfOtel.Benchmarks/bin/Release/net10.0/PerfOtel.Benchmarks.dll ingest-load --duration "$seconds")

if [ "$stores" = sqlite ] || [ "$stores" = both ]; then
  "${driver[@]}" --store sqlite "$@"
fi
if [ "$stores" = postgres ] || [ "$stores" = both ]; then
  postgres_cluster_start
  "${driver[@]}" --store postgres --connection "$POSTGRES_LOAD_CONNECTION" "$@"
  postgres_cluster_stop
fi

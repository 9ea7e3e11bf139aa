#!/usr/bin/env bash
# Runs the BenchmarkDotNet class RunListBenchmarks (docs/collector/rest-api.md, "BenchmarkDotNet and the driver"): every
# page of GET /api/v1/invocations over one million stored invocations, each case in its own process.
#
#   bash scripts/load/run-list-benchmark.sh sqlite|postgres [BenchmarkDotNet options, default: --job short]
#
# BenchmarkDotNet builds its own copy of the benchmarks project first; on a busy machine that takes longer than its
# default two minutes, so the script gives the build 15 (--buildTimeout 900) unless the options name a timeout.
# The store is filled once, by the first case, and reused by the others (RunListStoreCache): SQLite keeps it in
# $TMPDIR/perfotel-runlist-1000000-v<schema> for later runs too; postgres uses $PERFOTEL_TEST_POSTGRES when set (the
# database perfotel_runlist_1000000_v<schema> stays there), otherwise a throwaway cluster removed with its database at
# exit. Discard a kept store:
#   dotnet benchmarks/PerfOtel.Benchmarks/bin/Release/net10.0/PerfOtel.Benchmarks.dll run-list discard [--postgres CS]
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=postgres-cluster.sh
source scripts/load/postgres-cluster.sh

provider="${1:-sqlite}"
shift || true
options=("$@")
[ "${#options[@]}" -gt 0 ] || options=(--job short)
case " ${options[*]} " in *" --buildTimeout "*) ;; *) options+=(--buildTimeout 900) ;; esac

benchmark=(dotnet run -c Release --project benchmarks/PerfOtel.Benchmarks -- --filter '*RunListBenchmarks*' "${options[@]}")

case "$provider" in
  sqlite)
    PERFOTEL_TEST_POSTGRES= "${benchmark[@]}"
    ;;
  postgres)
    postgres_cluster_start
    PERFOTEL_TEST_POSTGRES="$POSTGRES_LOAD_CONNECTION" "${benchmark[@]}"
    ;;
  *)
    echo "usage: $0 sqlite|postgres [BenchmarkDotNet options]" >&2
    exit 2
    ;;
esac

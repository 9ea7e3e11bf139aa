#!/usr/bin/env bash
# What the collector allocates at full rate, and the collections it costs (#21): one ingest-load run (SQLite by
# default), an EventPipe trace of the runtime's GC events taken with dotnet-trace for SECONDS from WARMUP seconds after
# the collector started (the GC keyword at verbose level: collections with their generation and reason, and an
# allocation tick about every 100 KB allocated, naming the type that crossed it), then the benchmarks program's
# gc-allocations: collections by generation, sampled bytes by heap and type, and bytes a span over the spans the driver
# saw acknowledged in the 5-s intervals the trace covered (an approximation: the intervals and the trace start apart).
# Installs dotnet-trace as a global .NET tool when it is missing (from NuGet).
#
#   bash scripts/load/collector-gc-allocations.sh OUT_PREFIX [RUN_SECONDS] [WARMUP] [SECONDS] [extra ingest-load options...]
#   e.g. bash scripts/load/collector-gc-allocations.sh /tmp/gc 70 30 15 --collector /other/build/PerfOtel.Collector.dll
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/load/collector-pid.sh
out="$1"; run="${2:-70}"; warmup="${3:-30}"; seconds="${4:-15}"
shift $(( $# > 4 ? 4 : $# ))
tool="$HOME/.dotnet/tools/dotnet-trace"
[ -x "$tool" ] || dotnet tool install -g dotnet-trace >/dev/null
dotnet build -c Release benchmarks/PerfOtel.Benchmarks -v quiet -nologo >/dev/null
driver="$PWD/benchmarks/PerfOtel.Benchmarks/bin/Release/net10.0/PerfOtel.Benchmarks.dll"
dotnet "$driver" ingest-load --duration "$run" --store sqlite "$@" > "$out.log" 2>&1 &
driver_pid=$!
pid="$(collector_pid_of "$driver_pid")"
sleep "$warmup"
"$tool" collect -p "$pid" --providers Microsoft-Windows-DotNETRuntime:0x1:5 \
  --duration "$(printf '00:00:%02d:%02d' $((seconds / 60)) $((seconds % 60)))" -o "$out.nettrace" > "$out.trace.log" 2>&1
wait "$driver_pid"
# The driver's 5-s rows (elapsed_s, acknowledged spans/s, ...) that the trace covered.
spans="$(awk -v from="$warmup" -v to="$((warmup + seconds))" \
  '$1 ~ /^[0-9]+$/ && NF >= 10 && $1 > from && $1 <= to { s += $2 * 5 } END { printf "%d", s }' "$out.log")"
dotnet "$driver" gc-allocations --trace "$out.nettrace" --spans "$spans" | tee "$out.gc"
grep -E 'steady state' "$out.log"

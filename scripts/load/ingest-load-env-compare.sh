#!/usr/bin/env bash
# End-to-end ingest (scripts/ingest-load.sh's driver) of this checkout's collector under two environments, alternated
# a/b/b/a in one run on one machine so that drift of a shared machine hits both alike (#21): for runtime settings that
# only the environment carries (DOTNET_GCgen0size, MALLOC_ARENA_MAX). Each environment is passed as the driver's
# --collector-env (NAME=VALUE pairs separated by commas, over the image's environment), or "-" for the image's alone.
# Reports each run's acknowledged spans/s, the collector's CPU-seconds per 100 000 spans and its resident memory
# (lowest-highest sample), then the mean ratios b/a.
#
#   bash scripts/load/ingest-load-env-compare.sh SECONDS ROUNDS ENV_A ENV_B [extra ingest-load options...]
#   e.g. bash scripts/load/ingest-load-env-compare.sh 90 1 - DOTNET_GCgen0size=0x4000000
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/load/ingest-load-figures.sh
seconds="${1:?SECONDS}"; rounds="${2:?ROUNDS}"; env_a="${3:?ENV_A}"; env_b="${4:?ENV_B}"
shift 4
dotnet build -c Release src/Collector -v quiet -nologo >/dev/null
dotnet build -c Release benchmarks/PerfOtel.Benchmarks -v quiet -nologo >/dev/null
driver="$PWD/benchmarks/PerfOtel.Benchmarks/bin/Release/net10.0/PerfOtel.Benchmarks.dll"
collector="$PWD/src/Collector/bin/Release/net10.0/PerfOtel.Collector.dll"
echo "ingest-load (sqlite, $seconds s per run, $rounds rounds of a/b/b/a): a = $env_a, b = $env_b; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-4s %10s %24s %16s %14s\n' env "spans/s" "CPU-s per 100 000 spans" "RSS MB" "load average"
declare -A sum_rate=([a]=0 [b]=0) sum_cpu=([a]=0 [b]=0)
for ((r = 0; r < rounds; r++)); do
  for which in a b b a; do
    spec="$env_a"; [ "$which" = b ] && spec="$env_b"
    extra=(); [ "$spec" = - ] || extra=(--collector-env "$spec")
    out="$(dotnet "$driver" ingest-load --store sqlite --duration "$seconds" --collector "$collector" "${extra[@]}" "$@")"
    read -r rate cpu rss_low rss_high < <(ingest_load_figures <<< "$out")
    rss="$rss_low-$rss_high"
    printf '%-4s %10s %24s %16s %14s\n' "$which" "$rate" "$cpu" "$rss" "$(cut -d' ' -f1 /proc/loadavg)"
    sum_rate[$which]="$(awk -v a="${sum_rate[$which]}" -v b="$rate" 'BEGIN { print a + b }')"
    sum_cpu[$which]="$(awk -v a="${sum_cpu[$which]}" -v b="$cpu" 'BEGIN { print a + b }')"
  done
done
awk -v ra="${sum_rate[a]}" -v rb="${sum_rate[b]}" -v ca="${sum_cpu[a]}" -v cb="${sum_cpu[b]}" -v n="$((2 * rounds))" \
  'BEGIN { printf "b %.0f acknowledged spans/s against a %.0f (%.2fx); %.2f against %.2f CPU-s per 100 000 spans (%.2fx)\n", rb / n, ra / n, rb / ra, cb / n, ca / n, cb / ca }'

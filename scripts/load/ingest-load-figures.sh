#!/usr/bin/env bash
# Sourced by the scripts that compare ingest-load runs (ingest-load-compare.sh, ingest-load-env-compare.sh): one reading
# of the driver's output for both.
#
# ingest_load_figures <<< "$driver_output" prints "<acknowledged spans/s> <collector CPU-seconds per 100 000 spans>
# <lowest resident MB> <highest resident MB>" from the driver's steady-state and resident-memory lines.
ingest_load_figures() {
  local out rate_cpu rss
  out="$(cat)"
  rate_cpu="$(sed -n 's/.*steady state[^:]*: \([0-9.]*\) acknowledged spans\/s; collector [0-9.]* cores, \([0-9.]*\) CPU-seconds per 100 000 spans.*/\1 \2/p' <<< "$out")"
  rss="$(sed -n 's/.*collector resident memory \([0-9]*\)-\([0-9]*\) MB.*/\1 \2/p' <<< "$out")"
  echo "$rate_cpu $rss"
}

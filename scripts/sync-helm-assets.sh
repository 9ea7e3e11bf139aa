#!/usr/bin/env bash
# Helm reads only files inside the chart: copy the Prometheus rules and Grafana dashboards into it.
# tests/PerfOtel.Deploy.Tests fails when the copies drift from the sources.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
chart="$root/deploy/helm/perfotel/files"
mkdir -p "$chart/rules" "$chart/dashboards"
rm -f "$chart/rules/"*.rules.yaml "$chart/dashboards/"*.json
shopt -s nullglob
for f in "$root"/alerting/prometheus-rules/*.rules.yaml; do cp "$f" "$chart/rules/"; done
for f in "$root"/dashboards/grafana/*.json; do cp "$f" "$chart/dashboards/"; done
echo "synced $(ls "$chart/rules" | wc -l) rule files and $(ls "$chart/dashboards" | wc -l) dashboards into the chart"

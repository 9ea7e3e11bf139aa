#!/usr/bin/env bash
# Starts the whole PerfOtel stack on this machine, for trying it out:
#   the collector (OTLP/HTTP, REST API and /metrics on 127.0.0.1:4318),
#   the simulated agent fleet (OTLP to the collector, its own metrics on 127.0.0.1:9464),
#   Prometheus with PerfOtel's recording and alerting rules (127.0.0.1:9090), scraping both,
#   Alertmanager with the example routing (127.0.0.1:9093).
# Prints the URLs to open, the collector's pages (/ui/) first; Ctrl-C stops everything it started. Needs dotnet, prometheus and alertmanager
# (bash scripts/install-test-deps.sh installs the last two).
#
# Usage: scripts/run-stack.sh [--duration SECONDS] [--rate PER_SECOND] [--tenant NAME] [--degraded AGENT]
#                             [--feedback RATIO] [--seed N]
# Ports: COLLECTOR_PORT (4318), FLEET_METRICS_PORT (9464), PROMETHEUS_PORT (9090), ALERTMANAGER_PORT (9093).
# The tenant gets demo budgets so the budget panels and alerts have something to show:
# BUDGET_HOURLY_USD (200), BUDGET_DAILY_USD (2000), BUDGET_MONTHLY_USD (30000).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
duration=3600
rate=5
tenant=default
seed=42
feedback=0.3
degraded=""
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --rate) rate="$2"; shift 2 ;;
    --tenant) tenant="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --feedback) feedback="$2"; shift 2 ;;
    --degraded) degraded="$2"; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done

collector_port="${COLLECTOR_PORT:-4318}"
fleet_port="${FLEET_METRICS_PORT:-9464}"
prometheus_port="${PROMETHEUS_PORT:-9090}"
alertmanager_port="${ALERTMANAGER_PORT:-9093}"

need() { command -v "$1" >/dev/null 2>&1 || { echo "$1 not found: $2" >&2; exit 1; }; }
need dotnet "install the .NET 10 SDK"
need prometheus "run: bash scripts/install-test-deps.sh"
need curl "install curl"
alertmanager_bin="$(command -v prometheus-alertmanager || command -v alertmanager || true)"
[ -n "$alertmanager_bin" ] || { echo "alertmanager not found: run: bash scripts/install-test-deps.sh" >&2; exit 1; }

for port in "$collector_port" "$fleet_port" "$prometheus_port" "$alertmanager_port"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port on 127.0.0.1 is already in use; set the matching *_PORT variable" >&2
    exit 1
  fi
done

work="$(mktemp -d -t perfotel-stack.XXXXXX)"
pids=()

stop() {
  trap - INT TERM EXIT
  echo
  echo "stopping..."
  # Each child leads its own process group (setsid), so this ends `dotnet run` and the app it launched, and nothing else.
  for pid in "${pids[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap stop EXIT
trap 'exit 130' INT TERM

start() { # start NAME COMMAND...: runs in its own process group, output to $work/NAME.log
  local name="$1"; shift
  setsid "$@" >"$work/$name.log" 2>&1 &
  pids+=("$!")
}

wait_for() { # wait_for NAME URL
  local name="$1" url="$2"
  for _ in $(seq 1 120); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    sleep 0.5
  done
  echo "$name did not answer $url within 60 s; its log:" >&2
  tail -n 40 "$work/$name.log" >&2
  exit 1
}

echo "building the collector and the agent fleet (Release)..."
dotnet build "$root/src/Collector" -c Release -nologo -v quiet >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
dotnet build "$root/samples/AgentFleet" -c Release -nologo -v quiet >>"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }

# Everything runs in the scratch folder: the collector's SQLite store and Prometheus' and Alertmanager's data live
# (and die) with this run, so every run starts from nothing.
cd "$work"

# The experiment the fleet runs (samples/AgentFleet, FleetCatalog: research-assistant tries gpt-4o-mini on half of its
# tasks), defined for the collector so that its analysis checks the split and the guardrails: cost and latency may not
# get worse by more than 10 % and 20 %. tests/PerfOtel.Testing/FleetProcess.cs holds the same definition for the tests.
experiment="Experiments:Definitions:${tenant}:research-model"
experiment_args=(--"$experiment:Variants:control=1" --"$experiment:Variants:cheaper=1" --"$experiment:Control=control"
  --"$experiment:Guardrails:cost=0.1" --"$experiment:Guardrails:latency=0.2")

start collector env \
  "PERFOTEL__Budgets__Tenants__${tenant}__HourlyUsd=${BUDGET_HOURLY_USD:-200}" \
  "PERFOTEL__Budgets__Tenants__${tenant}__DailyUsd=${BUDGET_DAILY_USD:-2000}" \
  "PERFOTEL__Budgets__Tenants__${tenant}__MonthlyUsd=${BUDGET_MONTHLY_USD:-30000}" \
  dotnet run --project "$root/src/Collector" -c Release --no-build -- --urls "http://127.0.0.1:$collector_port" \
  --Storage:DataDirectory="$work/collector-data" "${experiment_args[@]}"
wait_for collector "http://127.0.0.1:$collector_port/healthz"

fleet_args=(--endpoint "http://127.0.0.1:$collector_port" --duration "$duration" --rate "$rate" --seed "$seed"
  --tenant "$tenant" --prometheus-port "$fleet_port" --feedback "$feedback")
[ -n "$degraded" ] && fleet_args+=(--agent-degraded "$degraded")
start agent-fleet dotnet run --project "$root/samples/AgentFleet" -c Release --no-build -- "${fleet_args[@]}"
fleet_pid="${pids[-1]}"

# Job names matter: the rules recognise collectors by job (perfotel-collector), see perfotel-config.rules.yaml.
cat >"$work/prometheus.yml" <<EOF
global:
  scrape_interval: 15s
  evaluation_interval: 15s
rule_files:
  - $root/alerting/prometheus-rules/*.rules.yaml
alerting:
  alertmanagers:
    - static_configs:
        - targets: ['127.0.0.1:$alertmanager_port']
scrape_configs:
  - job_name: perfotel-collector
    static_configs:
      - targets: ['127.0.0.1:$collector_port']
  - job_name: agent-fleet
    static_configs:
      - targets: ['127.0.0.1:$fleet_port']
EOF
start prometheus prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus-data" \
  --web.listen-address="127.0.0.1:$prometheus_port"
start alertmanager "$alertmanager_bin" --config.file="$root/alerting/alertmanager/alertmanager.yml" \
  --storage.path="$work/alertmanager-data" --web.listen-address="127.0.0.1:$alertmanager_port" --cluster.listen-address=
wait_for prometheus "http://127.0.0.1:$prometheus_port/-/ready"
wait_for alertmanager "http://127.0.0.1:$alertmanager_port/-/ready"
wait_for agent-fleet "http://127.0.0.1:$fleet_port/metrics"

cat <<EOF

PerfOtel stack is running (logs in $work):
  Pages             http://127.0.0.1:$collector_port/ui/    start here: tenant health, agents, reliability diagrams, models, runs
  Collector         http://127.0.0.1:$collector_port/api/v1/health    report: /api/v1/report?window=1h   metrics: /metrics
  Agent fleet       http://127.0.0.1:$fleet_port/metrics   (tenant '$tenant', $rate invocations/s for $duration s${degraded:+, '$degraded' degraded})
  Prometheus        http://127.0.0.1:$prometheus_port/alerts   targets: /targets   rules: /rules
  Alertmanager      http://127.0.0.1:$alertmanager_port/#/alerts   (example receivers: notifications fail until you set real ones)
  Grafana           import dashboards/grafana/*.json, or provision them with dashboards/grafana/provisioning/
                    and a Prometheus datasource at http://127.0.0.1:$prometheus_port
Rates need a few minutes of data, the 1h-window alerts up to their for: on top. Ctrl-C stops everything.
EOF

# Stay up until Ctrl-C, and stop everything if a service dies (the fleet may finish: it stops by itself).
while true; do
  for pid in "${pids[@]}"; do
    if [ "$pid" != "$fleet_pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      echo "a service exited; its log:" >&2
      tail -n 40 "$work"/*.log >&2
      exit 1
    fi
  done
  sleep 2
done
